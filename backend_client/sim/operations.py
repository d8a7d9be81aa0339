"""The eight operations of 1.0 as the simulated platform carries them out (with what 1.1 added to them).

Request element in, response element out. ``ctx.v11`` says whether the request
carried ``header.interfaceVersion`` 1.1 or higher: without it the answer is
exactly 1.0's (kiosk-platform.md, "Versions"): no 1.1 element in a response,
``INVALID_FIELD applicant`` instead of ``NOT_ELIGIBLE``, ``MAIL`` accepted
without an address, an instant matter answering ``RECEIVED``, schema errors
named by the element's local name. The six 1.1 operations are in
``operations_v11``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass

from lxml import etree
from lxml.builder import ElementMaker

from backend_client.sim.backoffice import SENT_LOG, BackOffice, DeliveryReport, SentSms, SimCase
from backend_client.sim.rules import ineligible
from backend_client.wsdl import NS
from kiosk.bounded import append_bounded
from kiosk.identity import validate_id_number
from kiosk.platform_models import Applicant, Assistant, Bundle, FieldSpec, MailAddress, Matter
from kiosk.privacy import MOBILE
from kiosk.xsd_regex import xsd_match

T = ElementMaker(namespace=NS, nsmap={"tns": NS})
LIST_LIMIT = 50
NOTICE_PARAMS = {
    "PICKUP_READY": ("cabinet", "code", "expires"),
    "PICKUP_REMINDER": ("cabinet", "expires"),
    "DROPOFF_RECEIVED": (),
    "PICKUP_CODE_RESEND": ("cabinet", "code", "expires"),
}
MAIL_PARTS = ("recipient", "phone", "province", "city", "district", "street", "detail", "postcode")
REFUSE_AT_KIOSK = {  # (matter, field, value): refused at once, with why and what to do instead
    ("RS-SSC-REISSUE", "reason", "信息变更"): (
        "信息变更须本人持户口簿到窗口办理",
        "请携带身份证和户口簿到社保窗口办理",
    ),
}


class SimFault(Exception):
    """A PlatformFault the simulator answers with."""

    def __init__(
        self, code: str, message: str, field: str | None = None, retry_after_s: int | None = None
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.code, self.message, self.field, self.retry_after_s = code, message, field, retry_after_s


@dataclass
class Ctx:
    """Who is asking, as the dispatcher established it, and in which interface version it is answered."""

    kiosk_id: str
    username: str
    now: dt.datetime
    v11: bool = True

    def path(self, dotted: str) -> str:
        """A field path as this version names it: 1.1 dotted (``mailAddress.phone``), 1.0 the local name."""
        return dotted if self.v11 else dotted.rsplit(".", 1)[-1]


def _t(el: etree._Element | None, name: str) -> str | None:
    if el is None:
        return None
    v = el.findtext(f"{{{NS}}}{name}")
    return v.strip() if v is not None else None


def _all(el: etree._Element, name: str) -> list[etree._Element]:
    return el.findall(f"{{{NS}}}{name}")


def ts(value: dt.datetime, precise: bool = False) -> str:
    value = value.astimezone(dt.UTC)
    text = value.isoformat(timespec="milliseconds") if precise else value.replace(microsecond=0).isoformat()
    return text.replace("+00:00", "Z")


def case_of(bo: BackOffice, number: str | None) -> SimCase:
    case = bo.cases.get(number or "")
    if case is None:
        raise SimFault("UNKNOWN_CASE", "no such case number")
    return case


def _opt(el: etree._Element, name: str, value: object | None) -> None:
    if value is not None and value != "" and value != ():
        el.append(getattr(T, name)(str(value)))


def field_spec_xml(tag: str, f: FieldSpec) -> etree._Element:
    fx = getattr(T, tag)(T.key(f.key), T.label(f.label))
    _opt(fx, "labelEn", f.label_en)
    fx.extend([T.type(f.type), T.required("true" if f.required else "false")])
    _opt(fx, "maxLength", f.max_length)
    _opt(fx, "pattern", f.pattern)
    fx.extend(T.choice(c) for c in f.choices)
    return fx


def _matter_xml(m: Matter, v11: bool) -> etree._Element:
    el = T.matter(T.code(m.code), T.name(m.name))
    _opt(el, "nameEn", m.name_en)
    el.extend([T.department(m.department), T.promisedDays(str(m.promised_days)), T.fee(str(m.fee))])
    el.extend(T.deliveryMode(d) for d in m.delivery_modes)
    el.extend(field_spec_xml("field", f) for f in m.fields)
    if not v11:
        return el
    if m.guide is not None:
        g = T.guide(*[T.condition(c) for c in m.guide.conditions])
        for mat in m.guide.materials:
            mx = T.material(T.name(mat.name))
            _opt(mx, "nameEn", mat.name_en)
            mx.extend([T.copies(str(mat.copies)), T.original("true" if mat.original else "false")])
            _opt(mx, "note", mat.note)
            g.append(mx)
        _opt(g, "legalBasis", m.guide.legal_basis)
        _opt(g, "processNote", m.guide.process_note)
        el.append(g)
    if m.eligibility is not None:
        e = T.eligibility()
        _opt(e, "minAgeYears", m.eligibility.min_age_years)
        _opt(e, "maxAgeYears", m.eligibility.max_age_years)
        e.extend(T.idType(i) for i in m.eligibility.id_types)
        el.append(e)
    if m.instant:
        el.append(T.instant("true"))
    _opt(el, "feeNote", m.fee_note)
    return el


def _bundle_xml(b: Bundle) -> etree._Element:
    el = T.bundle(T.code(b.code), T.name(b.name))
    _opt(el, "nameEn", b.name_en)
    _opt(el, "description", b.description)
    el.extend(T.memberMatter(c) for c in b.member_codes)
    el.extend(field_spec_xml("sharedField", f) for f in b.shared_fields)
    el.extend(T.deliveryMode(d) for d in b.delivery_modes)
    return el


def get_matter_catalog(bo: BackOffice, req: etree._Element, ctx: Ctx) -> etree._Element:
    res = T.GetMatterCatalogResponse(T.catalogVersion(bo.catalog_version))
    res.extend(_matter_xml(m, ctx.v11) for m in bo.matters.values())
    if ctx.v11:
        res.extend(_bundle_xml(b) for b in bo.bundles.values())
    return res


def value_problem(spec: FieldSpec, value: str) -> str | None:
    """Why a value breaks its FieldSpec, or None."""
    if spec.max_length is not None and len(value) > spec.max_length:
        return f"longer than {spec.max_length} characters"
    if spec.pattern and not xsd_match(spec.pattern, value):
        return "does not match the field's pattern"
    if spec.choices and value not in spec.choices:
        return f"must be one of {', '.join(spec.choices)}"
    if spec.type == "NUMBER" and not re.fullmatch(r"-?[0-9]+(\.[0-9]+)?", value):
        return "must be a number"
    if spec.type == "PHONE" and not MOBILE.fullmatch(value):
        return "must be an 11-digit mobile number"
    if spec.type == "DATE":
        try:
            dt.date.fromisoformat(value)
        except ValueError:
            return "must be a date YYYY-MM-DD"
    return None


def applicant_of(req: etree._Element, ctx: Ctx, element: str = "applicant") -> Applicant | None:
    """The request's applicant, its resident ID number checked (INVALID_FIELD idNumber); None when absent."""
    a = req.find(f"{{{NS}}}{element}")
    if a is None:
        return None
    id_type, id_number = _t(a, "idType") or "", _t(a, "idNumber") or ""
    if id_type == "RESIDENT_ID":
        try:
            id_number = validate_id_number(id_number)
        except ValueError as err:
            raise SimFault("INVALID_FIELD", f"applicant ID number: {err}", field="idNumber") from None
    return Applicant(
        id_type=id_type,
        id_number=id_number.upper(),
        name=_t(a, "name") or "",  # type: ignore[arg-type]
        phone=_t(a, "phone"),
    )


def check_eligible(matter: Matter, applicant: Applicant, ctx: Ctx, *, always_v11: bool = False) -> None:
    """NOT_ELIGIBLE (1.1) or, to a 1.0 request, INVALID_FIELD applicant; nothing is filed either way."""
    why = ineligible(matter.eligibility, applicant.id_type, applicant.id_number, ctx.now)
    if why is None:
        return
    if ctx.v11 or always_v11:
        raise SimFault("NOT_ELIGIBLE", f"{matter.name}（{matter.code}）：{why}", field="applicant")
    raise SimFault("INVALID_FIELD", f"{matter.name}（{matter.code}）：{why}", field="applicant")


def mail_address_of(
    req: etree._Element, mode: str | None, ctx: Ctx, *, always_v11: bool = False
) -> MailAddress | None:
    """The MAIL rules: an address with MAIL only, every part filled (the schema has checked the formats)."""
    el = req.find(f"{{{NS}}}mailAddress")
    v11 = ctx.v11 or always_v11
    if el is None:
        if mode == "MAIL" and v11:
            raise SimFault("INVALID_FIELD", "MAIL delivery needs a mailAddress", field="mailAddress")
        return None  # 1.0: the centre phones the applicant for the address
    if mode != "MAIL":
        raise SimFault("INVALID_FIELD", f"a mailAddress with delivery mode {mode}", field="mailAddress")
    parts = {p: el.findtext(f"{{{NS}}}{p}") for p in MAIL_PARTS}
    for p in ("recipient", "phone", "province", "city", "district", "street", "detail"):
        if parts[p] is not None and not parts[p].strip():
            raise SimFault("INVALID_FIELD", f"mailAddress {p} is blank", field=f"mailAddress.{p}")
    return MailAddress(
        recipient=parts["recipient"] or "",
        phone=parts["phone"] or "",
        province=parts["province"] or "",
        city=parts["city"] or "",
        district=parts["district"] or "",
        detail=parts["detail"] or "",
        street=parts["street"],
        postcode=parts["postcode"],
    )


def assistant_of(req: etree._Element) -> Assistant | None:
    """帮办代办: PROXY (代办) needs the applicant's recorded consent."""
    el = req.find(f"{{{NS}}}assistedBy")
    if el is None:
        return None
    mode, consent = _t(el, "mode") or "", (_t(el, "consentRecorded") or "") in ("true", "1")
    if mode == "PROXY" and not consent:
        raise SimFault(
            "INVALID_FIELD",
            "代办 (PROXY) needs the applicant's recorded consent",
            field="assistedBy.consentRecorded",
        )
    return Assistant(staff_id=_t(el, "staffId") or "", mode=mode, consent_recorded=consent)  # type: ignore[arg-type]


def submit_application(bo: BackOffice, req: etree._Element, ctx: Ctx) -> etree._Element:
    code = _t(req, "matterCode") or ""
    matter = bo.matters.get(code)
    if matter is None:
        raise SimFault("UNKNOWN_MATTER", f"matter {code} is not in catalog {bo.catalog_version}")
    mode = _t(req, "deliveryMode")
    if mode not in matter.delivery_modes:
        raise SimFault("INVALID_FIELD", f"delivery mode {mode} not offered for {code}", field="deliveryMode")
    applicant = applicant_of(req, ctx)
    assert applicant is not None  # the schema requires it
    check_eligible(matter, applicant, ctx)
    mail = mail_address_of(req, mode, ctx)
    helper = assistant_of(req)
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
        bad = value_problem(spec, values[spec.key])
        if bad:
            raise SimFault("INVALID_FIELD", f"{spec.label} ({spec.key}) {bad}", field=spec.key)
    status, message, refusal = "RECEIVED", "已受理", None
    for (m, key, value), why in REFUSE_AT_KIOSK.items():
        if m == code and values.get(key) == value:
            status, message, refusal = "REFUSED", f"不予受理：{why[0]}", why
    if status == "RECEIVED" and matter.instant:
        status, message = "APPROVED", "秒批秒办：已办结"
    case = bo.create_case(applicant, code, mode, status, fields=values, note=message, kiosk_id=ctx.kiosk_id)  # type: ignore[arg-type]
    case.mail_address, case.assisted_by = mail, helper
    if refusal is not None:
        case.reason, case.next_step = refusal
    # A 1.0 kiosk knows no instant answer: RECEIVED, and the case is APPROVED right after.
    shown = "RECEIVED" if status == "APPROVED" and not ctx.v11 else status
    res = T.SubmitApplicationResponse(
        T.caseNumber(case.number), T.status(shown), T.acceptedAt(ts(case.created_at))
    )
    if status in ("RECEIVED", "APPROVED"):
        days = 0 if status == "APPROVED" else matter.promised_days
        res.append(T.promisedDate(bo.promised_date(ctx.now, days).isoformat()))
    res.append(T.message("已受理" if shown != status else message))
    return res


def next_step_of(c: SimCase) -> str | None:
    """What the applicant does next, in plain language (a clerk's own words win)."""
    if c.next_step:
        return c.next_step
    if c.status in ("RECEIVED", "IN_REVIEW"):
        return "正在审核，请耐心等待；可随时在自助机查询进度"
    if c.status == "NEED_MORE_MATERIAL":
        return "请在自助机“投递材料”中投入补正材料，或到窗口提交"
    if c.status == "APPROVED":
        return {
            "LOCKER": "结果将放入智能柜，取件码以短信发送",
            "WINDOW": "请携带身份证到窗口领取",
            "MAIL": "结果将通过EMS免费邮寄，请留意快递信息",
        }.get(c.delivery_mode)
    if c.status == "READY_FOR_PICKUP":
        return "请到智能柜取件：输入短信中的取件码，或刷身份证"
    return None


def summary_xml(c: SimCase, v11: bool) -> etree._Element:
    el = T.case(
        T.caseNumber(c.number),
        T.matterCode(c.matter_code),
        T.matterName(c.matter_name),
        T.status(c.status),
        T.updatedAt(ts(c.updated_at)),
    )
    _opt(el, "note", c.note)
    if v11:
        if c.status in ("REFUSED", "NEED_MORE_MATERIAL"):
            _opt(el, "reason", c.reason or c.note)
        _opt(el, "nextStep", next_step_of(c))
        _opt(el, "courier", c.courier)
        _opt(el, "waybillNumber", c.waybill_number)
        el.append(T.deliveryMode(c.delivery_mode))
    return el


def query_cases(bo: BackOffice, req: etree._Element, ctx: Ctx) -> etree._Element:
    number = _t(req, "caseNumber")
    found = [case_of(bo, number)] if number is not None else bo.cases_of(_t(req, "applicantIdNumber") or "")
    res = T.QueryCasesResponse()
    res.extend(summary_xml(c, ctx.v11) for c in found[:LIST_LIMIT])
    return res


def get_delivery_ticket(bo: BackOffice, req: etree._Element, ctx: Ctx) -> etree._Element:
    c = case_of(bo, _t(req, "caseNumber"))
    if c.status not in ("APPROVED", "READY_FOR_PICKUP") or c.delivery_mode != "LOCKER":
        raise SimFault("UNKNOWN_CASE", "no finished LOCKER case with this number")
    a = c.applicant
    app = T.applicant(T.idType(a.id_type), T.idNumber(a.id_number), T.name(a.name))
    _opt(app, "phone", a.phone)
    return T.GetDeliveryTicketResponse(
        T.caseNumber(c.number),
        T.matterName(c.matter_name),
        app,
        T.deliveryMode(c.delivery_mode),
        T.status(c.status),
    )


def ack(now: dt.datetime, accepted: bool = True) -> etree._Element:
    return T.ack(T.accepted("true" if accepted else "false"), T.receivedAt(ts(now)))


def report_delivery(bo: BackOffice, req: etree._Element, ctx: Ctx) -> etree._Element:
    c = case_of(bo, _t(req, "caseNumber"))
    event = _t(req, "event") or ""
    moves = {  # event: (statuses it may come from, status it leads to, delivery mode after)
        "DEPOSITED": (("APPROVED", "READY_FOR_PICKUP"), "READY_FOR_PICKUP", "LOCKER"),
        "PICKED_UP": (("READY_FOR_PICKUP", "DELIVERED"), "DELIVERED", c.delivery_mode),
        "RETURNED_TO_CENTRE": (("READY_FOR_PICKUP", "APPROVED"), "APPROVED", "WINDOW"),
    }
    if event in moves:
        allowed, to, mode = moves[event]
        if c.status not in allowed or (event == "DEPOSITED" and c.delivery_mode != "LOCKER"):
            raise SimFault(
                "INVALID_FIELD",
                f"{event} does not fit a {c.delivery_mode} case in status {c.status}",
                field="event",
            )
        c.delivery_mode = mode
        bo.set_status(c.number, to)
    elif c.status == "NEED_MORE_MATERIAL":  # DROPOFF_RECEIVED: the missing materials arrived
        bo.set_status(c.number, "IN_REVIEW", "补正材料已收到")
    occurred = dt.datetime.fromisoformat((_t(req, "occurredAt") or "").replace("Z", "+00:00"))
    report = DeliveryReport(
        c.number, event, _t(req, "cabinetId") or "", _t(req, "compartment") or "", occurred, ctx.kiosk_id
    )
    append_bounded(bo.deliveries, report, SENT_LOG)
    return T.ReportDeliveryResponse(ack(ctx.now))


def notify_applicant(bo: BackOffice, req: etree._Element, ctx: Ctx) -> etree._Element:
    c = case_of(bo, _t(req, "caseNumber"))
    template = _t(req, "template") or ""
    if template == "PICKUP_CODE_RESEND" and not ctx.v11:  # a 1.0 platform does not know this template
        raise SimFault("INVALID_FIELD", "template PICKUP_CODE_RESEND is not a 1.0 template", field="template")
    params = {(_t(p, "key") or ""): (p.findtext(f"{{{NS}}}value") or "") for p in _all(req, "param")}
    missing = [k for k in NOTICE_PARAMS.get(template, ()) if not params.get(k, "").strip()]
    if missing:
        raise SimFault(
            "INVALID_FIELD",
            f"template {template} needs param {', '.join(missing)}",
            field=f"param.{missing[0]}" if ctx.v11 else "param",
        )
    if template == "PICKUP_REMINDER" and "code" in params:
        raise SimFault(
            "INVALID_FIELD",
            "a PICKUP_REMINDER never repeats the pickup code",
            field="param.code" if ctx.v11 else "param",
        )
    append_bounded(bo.sms, SentSms(c.number, c.applicant.phone, template, params, ctx.now), SENT_LOG)
    return T.NotifyApplicantResponse(ack(ctx.now, accepted=c.applicant.phone is not None))


def _department_of(bo: BackOffice, case: SimCase | None, matter: Matter | None) -> str:
    if case is not None and case.matter_code in bo.matters:
        return bo.matters[case.matter_code].department
    if matter is not None:
        return matter.department
    return "区政务服务中心"


def submit_evaluation(bo: BackOffice, req: etree._Element, ctx: Ctx) -> etree._Element:
    # Neither case nor matter: a rating of the self-service itself (as in 1.0).
    number, code = _t(req, "caseNumber"), _t(req, "matterCode")
    case = case_of(bo, number) if number is not None else None
    matter = None
    if code is not None:
        matter = bo.matters.get(code)
        if matter is None:
            raise SimFault("UNKNOWN_MATTER", f"matter {code} is not in the catalog")
    rating = int(_t(req, "rating") or 0)
    reasons = [r.text or "" for r in _all(req, "reason") if (r.text or "").strip()]
    if rating <= 2 and not reasons:
        raise SimFault("INVALID_FIELD", "a rating of 1 or 2 carries at least one reason", field="reason")
    applicant = applicant_of(req, ctx)
    eid = f"EV{ctx.now:%Y%m%d}{len(bo.evaluations) + 1:06d}"
    name = case.matter_name if case is not None else (matter.name if matter is not None else None)
    bo.evaluations.append(
        {
            "id": eid,
            "case_number": number,
            "matter_code": code or (case.matter_code if case else None),
            "matter_name": name,
            "rating": rating,
            "reasons": reasons,
            "comment": _t(req, "comment"),
            "kiosk_id": ctx.kiosk_id,
            "applicant": applicant,
            "status": "RECORDED" if rating >= 3 else "RECTIFYING",
            "round": 1,
            "department": _department_of(bo, case, matter),
            "reply": None,
            "replied_at": None,
            "submitted_at": ctx.now,
            "updated_at": ctx.now,
        }
    )
    return T.SubmitEvaluationResponse(T.evaluationId(eid))


def heartbeat(bo: BackOffice, req: etree._Element, ctx: Ctx) -> etree._Element:
    devices = [(_t(d, "name"), _t(d, "state"), _t(d, "detail")) for d in _all(req, "device")]
    bo.heartbeats[ctx.kiosk_id] = {
        "at": ctx.now,
        "software_version": _t(req, "softwareVersion"),
        "devices": devices,
    }
    return T.HeartbeatResponse(T.serverTime(ts(ctx.now, precise=True)), T.catalogVersion(bo.catalog_version))


Handler = Callable[[BackOffice, etree._Element, Ctx], etree._Element]
HANDLERS_V10: dict[str, Handler] = {
    "GetMatterCatalog": get_matter_catalog,
    "SubmitApplication": submit_application,
    "QueryCases": query_cases,
    "GetDeliveryTicket": get_delivery_ticket,
    "ReportDelivery": report_delivery,
    "NotifyApplicant": notify_applicant,
    "SubmitEvaluation": submit_evaluation,
    "Heartbeat": heartbeat,
}
