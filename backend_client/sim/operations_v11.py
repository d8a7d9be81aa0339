"""The six operations 1.1 added, as the simulated platform carries them out.

They behave the same with or without ``header.interfaceVersion`` (kiosk-platform.md,
"Versions"): a 1.0 kiosk that calls one gets 1.1's answers and faults.
"""

from __future__ import annotations

from lxml import etree

from backend_client.sim.backoffice import HALL_DESK, REPLY_DAYS, SUPERVISOR, BackOffice, SimTicket
from backend_client.sim.operations import (
    LIST_LIMIT,
    Ctx,
    Handler,
    SimFault,
    T,
    _all,
    _opt,
    _t,
    ack,
    applicant_of,
    assistant_of,
    case_of,
    check_eligible,
    mail_address_of,
    ts,
    value_problem,
)
from backend_client.sim.rules import in_opening_hours
from backend_client.wsdl import NS
from kiosk.privacy import ticket_text


def submit_bundle(bo: BackOffice, req: etree._Element, ctx: Ctx) -> etree._Element:
    """All or nothing: every member is checked first; one case per member, in memberMatter order."""
    code = _t(req, "bundleCode") or ""
    bundle = bo.bundles.get(code)
    if bundle is None:
        raise SimFault("UNKNOWN_BUNDLE", f"bundle {code} is not in catalog {bo.catalog_version}")
    members = [bo.matters.get(c) for c in bundle.member_codes]
    if any(m is None for m in members):  # a member withdrawn since: the bundle cannot be filed as published
        raise SimFault("UNKNOWN_BUNDLE", f"bundle {code} names a matter no longer in the catalog")
    mode = _t(req, "deliveryMode")
    if mode not in bundle.delivery_modes:
        raise SimFault(
            "INVALID_FIELD", f"delivery mode {mode} not offered for bundle {code}", field="deliveryMode"
        )
    applicant = applicant_of(req, ctx)
    assert applicant is not None  # the schema requires it
    for m in members:
        assert m is not None
        check_eligible(m, applicant, ctx, always_v11=True)
    mail = mail_address_of(req, mode, ctx, always_v11=True)
    helper = assistant_of(req)
    given: dict[str, str] = {}
    for f in _all(req, "field"):
        given.setdefault(
            _t(f, "key") or "", f.findtext(f"{{{NS}}}value") or ""
        )  # keys matching nothing: ignored
    shared = {s.key: s for s in bundle.shared_fields}
    for key, spec in shared.items():
        value = given.get(key, "")
        if value == "":
            if spec.required:
                raise SimFault("INVALID_FIELD", f"{spec.label} ({key}) is required", field=key)
            continue
        bad = value_problem(spec, value)
        if bad:
            raise SimFault("INVALID_FIELD", f"{spec.label} ({key}) {bad}", field=key)
    per_member: list[dict[str, str]] = []
    for m in members:
        assert m is not None
        values: dict[str, str] = {}
        for spec in m.fields:
            own = f"{m.code}.{spec.key}"
            if own in given:  # a member's own value takes precedence over the shared one
                value, named = given[own], own
            elif spec.key in shared:  # from the shared field: a problem is named by the shared key
                value, named = given.get(spec.key, ""), spec.key
            else:
                value, named = "", own
            if value == "":
                if spec.required:
                    raise SimFault("INVALID_FIELD", f"{m.name}: {spec.label} is required", field=named)
                continue
            bad = value_problem(spec, value)
            if bad:
                raise SimFault("INVALID_FIELD", f"{m.name}: {spec.label} {bad}", field=named)
            values[spec.key] = value
        per_member.append(values)
    number = f"YJS{ctx.now:%Y%m%d}{next(bo._bundle_seq):06d}"
    res_cases = []
    filed: list[str] = []
    for m, values in zip(members, per_member, strict=True):
        assert m is not None
        status = "APPROVED" if m.instant else "RECEIVED"
        case = bo.create_case(
            applicant,
            m.code,
            mode,
            status,
            fields=values,  # type: ignore[arg-type]
            note="秒批秒办：已办结" if m.instant else "已受理",
            kiosk_id=ctx.kiosk_id,
        )
        case.mail_address, case.assisted_by, case.bundle_number = mail, helper, number
        filed.append(case.number)
        bc = T.case(T.caseNumber(case.number), T.matterCode(m.code), T.status(status))
        bc.append(T.promisedDate(bo.promised_date(ctx.now, 0 if m.instant else m.promised_days).isoformat()))
        res_cases.append(bc)
    bo.bundle_filings[number] = filed
    res = T.SubmitBundleResponse(T.bundleNumber(number), *res_cases, T.acceptedAt(ts(ctx.now)))
    res.append(T.message(f"{bundle.name}：已受理{len(filed)}个事项"))
    return res


def submit_hotline_ticket(bo: BackOffice, req: etree._Element, ctx: Ctx) -> etree._Element:
    content = req.findtext(f"{{{NS}}}content") or ""
    if not content.strip():
        raise SimFault("INVALID_FIELD", "content is blank", field="content")
    number, code = _t(req, "caseNumber"), _t(req, "matterCode")
    if number is not None:
        case_of(bo, number)
    if code is not None and code not in bo.matters:
        raise SimFault("UNKNOWN_MATTER", f"matter {code} is not in the catalog")
    kind = _t(req, "kind") or ""
    t = SimTicket(
        number=bo.new_ticket_number(),
        kind=kind,
        phone=_t(req, "phone") or "",
        content=content,
        submitted_at=ctx.now,
        applicant=applicant_of(req, ctx),
        case_number=number,
        matter_code=code,
        kiosk_id=ctx.kiosk_id,
    )
    bo.tickets[t.number] = t
    return T.SubmitHotlineTicketResponse(
        T.ticketNumber(t.number), T.promisedReplyDays(str(REPLY_DAYS[kind])), T.acceptedAt(ts(ctx.now))
    )


def _ticket_xml(t: SimTicket) -> etree._Element:
    el = T.ticket(
        T.ticketNumber(t.number),
        T.kind(t.kind),
        T.status(t.status),
        T.submittedAt(ts(t.submitted_at)),
        T.content(ticket_text(t.content, t.applicant.name if t.applicant else None)),
    )
    _opt(el, "reply", t.reply)
    if t.replied_at is not None:
        el.append(T.repliedAt(ts(t.replied_at)))
    _opt(el, "department", t.department)
    return el


def query_tickets(bo: BackOffice, req: etree._Element, ctx: Ctx) -> etree._Element:
    number = _t(req, "ticketNumber")
    if number is not None:
        if number not in bo.tickets:
            raise SimFault("UNKNOWN_TICKET", "no such 12345 ticket number")
        found = [bo.ticket(number)]
    else:
        found = bo.tickets_of(_t(req, "applicantIdNumber") or "")
    res = T.QueryTicketsResponse()
    res.extend(_ticket_xml(t) for t in found[:LIST_LIMIT])
    return res


def query_evaluations(bo: BackOffice, req: etree._Element, ctx: Ctx) -> etree._Element:
    res = T.QueryEvaluationsResponse()
    for e in bo.evaluations_of(_t(req, "applicantIdNumber") or "")[:LIST_LIMIT]:
        el = T.evaluation(T.evaluationId(e["id"]))
        _opt(el, "caseNumber", e["case_number"])
        _opt(el, "matterCode", e["matter_code"])
        _opt(el, "matterName", e["matter_name"])
        el.extend([T.rating(str(e["rating"])), T.submittedAt(ts(e["submitted_at"])), T.status(e["status"])])
        _opt(el, "reply", e["reply"])
        if e["replied_at"] is not None:
            el.append(T.repliedAt(ts(e["replied_at"])))
        _opt(el, "department", e["department"] if e["status"] != "RECORDED" else None)
        res.append(el)
    return res


def confirm_evaluation_reply(bo: BackOffice, req: etree._Element, ctx: Ctx) -> etree._Element:
    """Satisfied: CONFIRMED. Not: a second round supervised by the district office; its reply closes the loop."""
    eid = _t(req, "evaluationId") or ""
    ev = bo.evaluation(eid)
    if ev is None:
        raise SimFault("UNKNOWN_EVALUATION", "no such evaluationId")
    if ev["status"] != "REPLIED":
        raise SimFault(
            "INVALID_FIELD",
            f"evaluation {eid} is {ev['status']}: only a REPLIED one is confirmed",
            field="evaluationId",
        )
    satisfied = (_t(req, "satisfied") or "") in ("true", "1")
    ev.setdefault("confirmations", []).append(
        {"satisfied": satisfied, "comment": _t(req, "comment"), "at": ctx.now, "kiosk_id": ctx.kiosk_id}
    )
    if satisfied or ev["round"] >= 2:
        ev["status"] = "CONFIRMED"
    else:
        ev["status"], ev["round"], ev["department"] = "RECTIFYING", 2, SUPERVISOR
        ev["reply"], ev["replied_at"] = None, None
    ev["updated_at"] = ctx.now
    return T.ConfirmEvaluationReplyResponse(ack(ctx.now))


def request_assistance(bo: BackOffice, req: etree._Element, ctx: Ctx) -> etree._Element:
    """The platform chooses: PROXY (代办) for an elderly person's filing, REMOTE_VIDEO for another language or
    outside opening hours, ON_SITE otherwise."""
    topic = _t(req, "topic") or "OTHER"
    number, code = _t(req, "caseNumber"), _t(req, "matterCode")
    case = case_of(bo, number) if number is not None else None
    if code is not None and code not in bo.matters:
        raise SimFault("UNKNOWN_MATTER", f"matter {code} is not in the catalog")
    matter = bo.matters.get(code or (case.matter_code if case is not None else ""))
    language = (_t(req, "language") or "zh").lower()
    open_now = in_opening_hours(ctx.now, bo.holidays)
    elderly = (
        matter is not None
        and matter.eligibility is not None
        and (matter.eligibility.min_age_years or 0) >= 60
    )
    if topic == "FILING" and elderly:
        mode, wait = "PROXY", 30
        message = "可为您代办：工作人员将回电，经您同意后代为办理"
    elif not language.startswith("zh"):
        mode, wait = "REMOTE_VIDEO", 5
        message = "A staff member will join you by video with an interpreter"
    elif not open_now:
        mode, wait = "REMOTE_VIDEO", 5
        message = "现在是非工作时间，远程视频帮办人员将与您连线"
    else:
        mode, wait = "ON_SITE", 3
        message = "工作人员马上到自助机旁为您帮办"
    aid = f"AS{ctx.now:%Y%m%d}{next(bo.assist_seq):05d}"
    bo.assists.append(
        {
            "id": aid,
            "topic": topic,
            "case_number": number,
            "matter_code": code,
            "language": language,
            "mode": mode,
            "kiosk_id": ctx.kiosk_id,
            "at": ctx.now,
        }
    )
    res = T.RequestAssistanceResponse(
        T.assistanceId(aid), T.mode(mode), T.hotline(HALL_DESK if open_now else "12345")
    )
    res.extend([T.expectedWaitMinutes(str(wait)), T.message(message)])
    return res


HANDLERS_V11: dict[str, Handler] = {
    "SubmitBundle": submit_bundle,
    "SubmitHotlineTicket": submit_hotline_ticket,
    "QueryTickets": query_tickets,
    "QueryEvaluations": query_evaluations,
    "ConfirmEvaluationReply": confirm_evaluation_reply,
    "RequestAssistance": request_assistance,
}
