"""The eight operations as the simulated platform carries them out: request element in, response element out."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass

from lxml import etree
from lxml.builder import ElementMaker

from backend_client.sim.backoffice import ELDER_AGE, ELDER_MATTER, BackOffice, DeliveryReport, SentSms, SimCase
from backend_client.wsdl import NS
from kiosk.identity import birth_date_of, validate_id_number
from kiosk.platform_models import Applicant, Matter
from kiosk.xsd_regex import xsd_match

T = ElementMaker(namespace=NS, nsmap={"tns": NS})
LIST_LIMIT = 50
_NOTICE_PARAMS = {"PICKUP_READY": ("cabinet", "code", "expires"), "PICKUP_REMINDER": ("cabinet", "expires"),
                  "DROPOFF_RECEIVED": ()}


class SimFault(Exception):
    """A PlatformFault the simulator answers with."""

    def __init__(self, code: str, message: str, field: str | None = None, retry_after_s: int | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code, self.message, self.field, self.retry_after_s = code, message, field, retry_after_s


@dataclass
class Ctx:
    """Who is asking, as the dispatcher established it."""

    kiosk_id: str
    username: str
    now: dt.datetime


def _t(el: etree._Element, name: str) -> str | None:
    v = el.findtext(f"{{{NS}}}{name}")
    return v.strip() if v is not None else None


def _all(el: etree._Element, name: str) -> list[etree._Element]:
    return el.findall(f"{{{NS}}}{name}")


def _ts(value: dt.datetime, precise: bool = False) -> str:
    value = value.astimezone(dt.UTC)
    text = value.isoformat(timespec="milliseconds") if precise else value.replace(microsecond=0).isoformat()
    return text.replace("+00:00", "Z")


def _case(bo: BackOffice, number: str | None) -> SimCase:
    case = bo.cases.get(number or "")
    if case is None:
        raise SimFault("UNKNOWN_CASE", "no such case number")
    return case


def _matter_xml(m: Matter) -> etree._Element:
    el = T.matter(T.code(m.code), T.name(m.name))
    if m.name_en:
        el.append(T.nameEn(m.name_en))
    el.extend([T.department(m.department), T.promisedDays(str(m.promised_days)), T.fee(str(m.fee))])
    el.extend(T.deliveryMode(d) for d in m.delivery_modes)
    for f in m.fields:
        fx = T.field(T.key(f.key), T.label(f.label))
        if f.label_en:
            fx.append(T.labelEn(f.label_en))
        fx.extend([T.type(f.type), T.required("true" if f.required else "false")])
        if f.max_length is not None:
            fx.append(T.maxLength(str(f.max_length)))
        if f.pattern:
            fx.append(T.pattern(f.pattern))
        fx.extend(T.choice(c) for c in f.choices)
        el.append(fx)
    return el


def get_matter_catalog(bo: BackOffice, req: etree._Element, ctx: Ctx) -> etree._Element:
    res = T.GetMatterCatalogResponse(T.catalogVersion(bo.catalog_version))
    res.extend(_matter_xml(m) for m in bo.matters.values())
    return res


def _check_value(spec_key: str, value: str, m: Matter) -> None:
    spec = next(f for f in m.fields if f.key == spec_key)
    bad = None
    if spec.max_length is not None and len(value) > spec.max_length:
        bad = f"longer than {spec.max_length} characters"
    elif spec.pattern and not xsd_match(spec.pattern, value):
        bad = "does not match the field's pattern"
    elif spec.choices and value not in spec.choices:
        bad = f"must be one of {', '.join(spec.choices)}"
    elif spec.type == "NUMBER" and not re.fullmatch(r"-?[0-9]+(\.[0-9]+)?", value):
        bad = "must be a number"
    elif spec.type == "PHONE" and not re.fullmatch(r"1[3-9][0-9]{9}", value):
        bad = "must be an 11-digit mobile number"
    elif spec.type == "DATE":
        try:
            dt.date.fromisoformat(value)
        except ValueError:
            bad = "must be a date YYYY-MM-DD"
    if bad:
        raise SimFault("INVALID_FIELD", f"{spec.label} ({spec.key}) {bad}", field=spec.key)


def submit_application(bo: BackOffice, req: etree._Element, ctx: Ctx) -> etree._Element:
    code = _t(req, "matterCode") or ""
    matter = bo.matters.get(code)
    if matter is None:
        raise SimFault("UNKNOWN_MATTER", f"matter {code} is not in catalog {bo.catalog_version}")
    mode = _t(req, "deliveryMode")
    if mode not in matter.delivery_modes:
        raise SimFault("INVALID_FIELD", f"delivery mode {mode} not offered for {code}", field="deliveryMode")
    a = req.find(f"{{{NS}}}applicant")
    id_type, id_number = _t(a, "idType") or "", _t(a, "idNumber") or ""
    if id_type == "RESIDENT_ID":
        try:
            id_number = validate_id_number(id_number)
        except ValueError as err:
            raise SimFault("INVALID_FIELD", f"applicant ID number: {err}", field="idNumber") from None
    applicant = Applicant(id_type=id_type, id_number=id_number, name=_t(a, "name") or "",  # type: ignore[arg-type]
                          phone=_t(a, "phone"))
    values: dict[str, str] = {}
    for f in _all(req, "field"):
        key, value = _t(f, "key") or "", f.findtext(f"{{{NS}}}value") or ""
        if key in values or all(s.key != key for s in matter.fields):
            raise SimFault("INVALID_FIELD", f"field {key} is unknown or repeated for {code}", field=key)
        values[key] = value
    for spec in matter.fields:
        if spec.key not in values or values[spec.key] == "":
            if spec.required:
                raise SimFault("INVALID_FIELD", f"{spec.label} ({spec.key}) is required", field=spec.key)
            continue
        _check_value(spec.key, values[spec.key], matter)
    status, message = "RECEIVED", "已受理"
    if code == ELDER_MATTER and id_type == "RESIDENT_ID":
        born = birth_date_of(id_number)
        age = ctx.now.year - born.year - ((ctx.now.month, ctx.now.day) < (born.month, born.day))
        if age < ELDER_AGE:
            status, message = "REFUSED", f"不予受理：申请人未满{ELDER_AGE}周岁"
    case = bo.create_case(applicant, code, mode, status, fields=values, note=message, kiosk_id=ctx.kiosk_id)  # type: ignore[arg-type]
    res = T.SubmitApplicationResponse(T.caseNumber(case.number), T.status(status), T.acceptedAt(_ts(case.created_at)))
    if status == "RECEIVED":
        res.append(T.promisedDate((ctx.now.date() + dt.timedelta(days=matter.promised_days)).isoformat()))
    res.append(T.message(message))
    return res


def _summary(c: SimCase) -> etree._Element:
    el = T.case(T.caseNumber(c.number), T.matterCode(c.matter_code), T.matterName(c.matter_name),
                T.status(c.status), T.updatedAt(_ts(c.updated_at)))
    if c.note:
        el.append(T.note(c.note))
    return el


def query_cases(bo: BackOffice, req: etree._Element, ctx: Ctx) -> etree._Element:
    number = _t(req, "caseNumber")
    found = [_case(bo, number)] if number is not None else bo.cases_of(_t(req, "applicantIdNumber") or "")
    res = T.QueryCasesResponse()
    res.extend(_summary(c) for c in found[:LIST_LIMIT])
    return res


def get_delivery_ticket(bo: BackOffice, req: etree._Element, ctx: Ctx) -> etree._Element:
    c = _case(bo, _t(req, "caseNumber"))
    if c.status not in ("APPROVED", "READY_FOR_PICKUP") or c.delivery_mode != "LOCKER":
        raise SimFault("UNKNOWN_CASE", "no finished LOCKER case with this number")
    a = c.applicant
    app = T.applicant(T.idType(a.id_type), T.idNumber(a.id_number), T.name(a.name))
    if a.phone:
        app.append(T.phone(a.phone))
    return T.GetDeliveryTicketResponse(T.caseNumber(c.number), T.matterName(c.matter_name), app,
                                       T.deliveryMode(c.delivery_mode), T.status(c.status))


def _ack(now: dt.datetime, accepted: bool = True) -> etree._Element:
    return T.ack(T.accepted("true" if accepted else "false"), T.receivedAt(_ts(now)))


def report_delivery(bo: BackOffice, req: etree._Element, ctx: Ctx) -> etree._Element:
    c = _case(bo, _t(req, "caseNumber"))
    event = _t(req, "event") or ""
    moves = {  # event: (statuses it may come from, status it leads to, delivery mode after)
        "DEPOSITED": (("APPROVED", "READY_FOR_PICKUP"), "READY_FOR_PICKUP", "LOCKER"),
        "PICKED_UP": (("READY_FOR_PICKUP", "DELIVERED"), "DELIVERED", c.delivery_mode),
        "RETURNED_TO_CENTRE": (("READY_FOR_PICKUP", "APPROVED"), "APPROVED", "WINDOW"),
    }
    if event in moves:
        allowed, to, mode = moves[event]
        if c.status not in allowed or (event == "DEPOSITED" and c.delivery_mode != "LOCKER"):
            raise SimFault("INVALID_FIELD", f"{event} does not fit a {c.delivery_mode} case in status {c.status}",
                           field="event")
        c.delivery_mode = mode
        bo.set_status(c.number, to)
    elif c.status == "NEED_MORE_MATERIAL":  # DROPOFF_RECEIVED: the missing materials arrived
        bo.set_status(c.number, "IN_REVIEW", "补正材料已收到")
    occurred = dt.datetime.fromisoformat((_t(req, "occurredAt") or "").replace("Z", "+00:00"))
    bo.deliveries.append(DeliveryReport(c.number, event, _t(req, "cabinetId") or "", _t(req, "compartment") or "",
                                        occurred, ctx.kiosk_id))
    return T.ReportDeliveryResponse(_ack(ctx.now))


def notify_applicant(bo: BackOffice, req: etree._Element, ctx: Ctx) -> etree._Element:
    c = _case(bo, _t(req, "caseNumber"))
    template = _t(req, "template") or ""
    params = {(_t(p, "key") or ""): (p.findtext(f"{{{NS}}}value") or "") for p in _all(req, "param")}
    missing = [k for k in _NOTICE_PARAMS.get(template, ()) if not params.get(k)]
    if missing:
        raise SimFault("INVALID_FIELD", f"template {template} needs param {', '.join(missing)}", field="param")
    bo.sms.append(SentSms(c.number, c.applicant.phone, template, params, ctx.now))
    return T.NotifyApplicantResponse(_ack(ctx.now, accepted=c.applicant.phone is not None))


def submit_evaluation(bo: BackOffice, req: etree._Element, ctx: Ctx) -> etree._Element:
    number, code = _t(req, "caseNumber"), _t(req, "matterCode")
    if number is None and code is None:
        raise SimFault("INVALID_FIELD", "an evaluation names a case or a matter", field="caseNumber")
    if number is not None:
        _case(bo, number)
    if code is not None and code not in bo.matters:
        raise SimFault("UNKNOWN_MATTER", f"matter {code} is not in the catalog")
    eid = f"EV{ctx.now:%Y%m%d}{len(bo.evaluations) + 1:06d}"
    bo.evaluations.append({"id": eid, "case_number": number, "matter_code": code, "rating": int(_t(req, "rating") or 0),
                           "reasons": [r.text or "" for r in _all(req, "reason")], "comment": _t(req, "comment"),
                           "kiosk_id": ctx.kiosk_id})
    return T.SubmitEvaluationResponse(T.evaluationId(eid))


def heartbeat(bo: BackOffice, req: etree._Element, ctx: Ctx) -> etree._Element:
    devices = [(_t(d, "name"), _t(d, "state"), _t(d, "detail")) for d in _all(req, "device")]
    bo.heartbeats[ctx.kiosk_id] = {"at": ctx.now, "software_version": _t(req, "softwareVersion"), "devices": devices}
    return T.HeartbeatResponse(T.serverTime(_ts(ctx.now, precise=True)), T.catalogVersion(bo.catalog_version))


HANDLERS: dict[str, Callable[[BackOffice, etree._Element, Ctx], etree._Element]] = {
    "GetMatterCatalog": get_matter_catalog, "SubmitApplication": submit_application, "QueryCases": query_cases,
    "GetDeliveryTicket": get_delivery_ticket, "ReportDelivery": report_delivery,
    "NotifyApplicant": notify_applicant, "SubmitEvaluation": submit_evaluation, "Heartbeat": heartbeat,
}
