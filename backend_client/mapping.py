"""zeep objects in, the project's own dataclasses out; nothing zeep-typed leaves this module."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from kiosk.platform_models import (
    Ack,
    Applicant,
    Assistance,
    Bundle,
    BundleCase,
    BundleResult,
    CaseSummary,
    Catalog,
    DeliveryTicket,
    Eligibility,
    EvaluationSummary,
    FieldSpec,
    HeartbeatResult,
    Material,
    Matter,
    MatterGuide,
    SubmitResult,
    Ticket,
    TicketReceipt,
)


class ReplyShapeError(ValueError):
    """A reply parsed but lacks something the WSDL promises."""


def _req(obj: Any, name: str) -> Any:
    value = getattr(obj, name, None)
    if value is None:
        raise ReplyShapeError(f"reply lacks {name}")
    return value


def _opt(obj: Any, name: str) -> Any:
    return getattr(obj, name, None)


def _aware(value: Any, name: str) -> dt.datetime:
    if not isinstance(value, dt.datetime):
        raise ReplyShapeError(f"{name} is not a date-time")
    # A dateTime without a zone is taken as UTC: the platform speaks UTC.
    return value.astimezone(dt.UTC) if value.tzinfo else value.replace(tzinfo=dt.UTC)


def unwrap(result: Any, name: str) -> Any:
    """zeep returns a one-element response's only child directly; accept both shapes."""
    if hasattr(result, "__values__") and name in result.__values__:
        return result.__values__[name]
    return result


def field_spec(f: Any) -> FieldSpec:
    return FieldSpec(
        key=_req(f, "key"),
        label=_req(f, "label"),
        type=_req(f, "type"),
        required=bool(_req(f, "required")),
        label_en=_opt(f, "labelEn"),
        max_length=_opt(f, "maxLength"),
        pattern=_opt(f, "pattern"),
        choices=tuple(_opt(f, "choice") or ()),
    )


def _aware_opt(value: Any, name: str) -> dt.datetime | None:
    return None if value is None else _aware(value, name)


def guide(g: Any) -> MatterGuide | None:
    if g is None:
        return None
    materials = tuple(
        Material(
            name=_req(m, "name"),
            copies=int(_req(m, "copies")),
            original=bool(_req(m, "original")),
            name_en=_opt(m, "nameEn"),
            note=_opt(m, "note"),
        )
        for m in _opt(g, "material") or ()
    )
    return MatterGuide(
        conditions=tuple(_opt(g, "condition") or ()),
        materials=materials,
        legal_basis=_opt(g, "legalBasis"),
        process_note=_opt(g, "processNote"),
    )


def eligibility(e: Any) -> Eligibility | None:
    if e is None:
        return None
    return Eligibility(
        min_age_years=_opt(e, "minAgeYears"),
        max_age_years=_opt(e, "maxAgeYears"),
        id_types=tuple(_opt(e, "idType") or ()),
    )


def matter(m: Any) -> Matter:
    return Matter(
        code=_req(m, "code"),
        name=_req(m, "name"),
        department=_req(m, "department"),
        promised_days=int(_req(m, "promisedDays")),
        fee=Decimal(_req(m, "fee")),
        delivery_modes=tuple(_req(m, "deliveryMode")),
        fields=tuple(field_spec(f) for f in _opt(m, "field") or ()),
        name_en=_opt(m, "nameEn"),
        guide=guide(_opt(m, "guide")),
        eligibility=eligibility(_opt(m, "eligibility")),
        instant=bool(_opt(m, "instant")),
        fee_note=_opt(m, "feeNote"),
    )


def bundle(b: Any) -> Bundle:
    return Bundle(
        code=_req(b, "code"),
        name=_req(b, "name"),
        member_codes=tuple(_req(b, "memberMatter")),
        delivery_modes=tuple(_req(b, "deliveryMode")),
        shared_fields=tuple(field_spec(f) for f in _opt(b, "sharedField") or ()),
        name_en=_opt(b, "nameEn"),
        description=_opt(b, "description"),
    )


def catalog(res: Any) -> Catalog:
    return Catalog(
        version=_req(res, "catalogVersion"),
        matters=tuple(matter(m) for m in _opt(res, "matter") or ()),
        bundles=tuple(bundle(b) for b in _opt(res, "bundle") or ()),
    )


def submit_result(res: Any) -> SubmitResult:
    return SubmitResult(
        case_number=_req(res, "caseNumber"),
        status=_req(res, "status"),
        accepted_at=_aware(_req(res, "acceptedAt"), "acceptedAt"),
        promised_date=_opt(res, "promisedDate"),
        message=_opt(res, "message"),
    )


def case_summary(c: Any) -> CaseSummary:
    return CaseSummary(
        case_number=_req(c, "caseNumber"),
        matter_code=_req(c, "matterCode"),
        matter_name=_req(c, "matterName"),
        status=_req(c, "status"),
        updated_at=_aware(_req(c, "updatedAt"), "updatedAt"),
        note=_opt(c, "note"),
        reason=_opt(c, "reason"),
        next_step=_opt(c, "nextStep"),
        courier=_opt(c, "courier"),
        waybill_number=_opt(c, "waybillNumber"),
        delivery_mode=_opt(c, "deliveryMode"),
    )


def cases(res: Any) -> list[CaseSummary]:
    items = unwrap(res, "case") or []
    return [case_summary(c) for c in items]


def applicant(a: Any) -> Applicant:
    return Applicant(
        id_type=_req(a, "idType"), id_number=_req(a, "idNumber"), name=_req(a, "name"), phone=_opt(a, "phone")
    )


def ticket(res: Any) -> DeliveryTicket:
    return DeliveryTicket(
        case_number=_req(res, "caseNumber"),
        matter_name=_req(res, "matterName"),
        applicant=applicant(_req(res, "applicant")),
        delivery_mode=_req(res, "deliveryMode"),
        status=_req(res, "status"),
    )


def ack(res: Any) -> Ack:
    a = unwrap(res, "ack")
    if a is None:
        raise ReplyShapeError("reply lacks ack")
    return Ack(accepted=bool(_req(a, "accepted")), received_at=_aware(_req(a, "receivedAt"), "receivedAt"))


def evaluation_id(res: Any) -> str:
    value = unwrap(res, "evaluationId")
    if not isinstance(value, str) or not value:
        raise ReplyShapeError("reply lacks evaluationId")
    return value


def heartbeat(res: Any) -> HeartbeatResult:
    return HeartbeatResult(
        server_time=_aware(_req(res, "serverTime"), "serverTime"), catalog_version=_req(res, "catalogVersion")
    )


# --- since 1.1 -------------------------------------------------------------------
def bundle_result(res: Any) -> BundleResult:
    cases = tuple(
        BundleCase(
            case_number=_req(c, "caseNumber"),
            matter_code=_req(c, "matterCode"),
            status=_req(c, "status"),
            promised_date=_opt(c, "promisedDate"),
        )
        for c in _req(res, "case")
    )
    return BundleResult(
        bundle_number=_req(res, "bundleNumber"),
        cases=cases,
        accepted_at=_aware(_req(res, "acceptedAt"), "acceptedAt"),
        message=_opt(res, "message"),
    )


def ticket_receipt(res: Any) -> TicketReceipt:
    return TicketReceipt(
        ticket_number=_req(res, "ticketNumber"),
        promised_reply_days=int(_req(res, "promisedReplyDays")),
        accepted_at=_aware(_req(res, "acceptedAt"), "acceptedAt"),
    )


def hotline_ticket(t: Any) -> Ticket:
    return Ticket(
        ticket_number=_req(t, "ticketNumber"),
        kind=_req(t, "kind"),
        status=_req(t, "status"),
        submitted_at=_aware(_req(t, "submittedAt"), "submittedAt"),
        content=_req(t, "content"),
        reply=_opt(t, "reply"),
        replied_at=_aware_opt(_opt(t, "repliedAt"), "repliedAt"),
        department=_opt(t, "department"),
    )


def tickets(res: Any) -> list[Ticket]:
    return [hotline_ticket(t) for t in unwrap(res, "ticket") or []]


def evaluation_summary(e: Any) -> EvaluationSummary:
    return EvaluationSummary(
        evaluation_id=_req(e, "evaluationId"),
        rating=int(_req(e, "rating")),
        submitted_at=_aware(_req(e, "submittedAt"), "submittedAt"),
        status=_req(e, "status"),
        case_number=_opt(e, "caseNumber"),
        matter_code=_opt(e, "matterCode"),
        matter_name=_opt(e, "matterName"),
        reply=_opt(e, "reply"),
        replied_at=_aware_opt(_opt(e, "repliedAt"), "repliedAt"),
        department=_opt(e, "department"),
    )


def evaluations(res: Any) -> list[EvaluationSummary]:
    return [evaluation_summary(e) for e in unwrap(res, "evaluation") or []]


def assistance(res: Any) -> Assistance:
    return Assistance(
        assistance_id=_req(res, "assistanceId"),
        mode=_req(res, "mode"),
        hotline=_req(res, "hotline"),
        expected_wait_minutes=_opt(res, "expectedWaitMinutes"),
        message=_opt(res, "message"),
    )
