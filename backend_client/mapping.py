"""zeep objects in, the project's own dataclasses out; nothing zeep-typed leaves this module."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from kiosk.platform_models import (
    Ack,
    Applicant,
    CaseSummary,
    Catalog,
    DeliveryTicket,
    FieldSpec,
    HeartbeatResult,
    Matter,
    SubmitResult,
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
        key=_req(f, "key"), label=_req(f, "label"), type=_req(f, "type"), required=bool(_req(f, "required")),
        label_en=_opt(f, "labelEn"), max_length=_opt(f, "maxLength"), pattern=_opt(f, "pattern"),
        choices=tuple(_opt(f, "choice") or ()),
    )


def catalog(res: Any) -> Catalog:
    matters = []
    for m in _opt(res, "matter") or ():
        matters.append(Matter(
            code=_req(m, "code"), name=_req(m, "name"), department=_req(m, "department"),
            promised_days=int(_req(m, "promisedDays")), fee=Decimal(_req(m, "fee")),
            delivery_modes=tuple(_req(m, "deliveryMode")), fields=tuple(field_spec(f) for f in _opt(m, "field") or ()),
            name_en=_opt(m, "nameEn"),
        ))
    return Catalog(version=_req(res, "catalogVersion"), matters=tuple(matters))


def submit_result(res: Any) -> SubmitResult:
    return SubmitResult(
        case_number=_req(res, "caseNumber"), status=_req(res, "status"),
        accepted_at=_aware(_req(res, "acceptedAt"), "acceptedAt"),
        promised_date=_opt(res, "promisedDate"), message=_opt(res, "message"),
    )


def case_summary(c: Any) -> CaseSummary:
    return CaseSummary(
        case_number=_req(c, "caseNumber"), matter_code=_req(c, "matterCode"), matter_name=_req(c, "matterName"),
        status=_req(c, "status"), updated_at=_aware(_req(c, "updatedAt"), "updatedAt"), note=_opt(c, "note"),
    )


def cases(res: Any) -> list[CaseSummary]:
    items = unwrap(res, "case") or []
    return [case_summary(c) for c in items]


def applicant(a: Any) -> Applicant:
    return Applicant(id_type=_req(a, "idType"), id_number=_req(a, "idNumber"), name=_req(a, "name"),
                     phone=_opt(a, "phone"))


def ticket(res: Any) -> DeliveryTicket:
    return DeliveryTicket(
        case_number=_req(res, "caseNumber"), matter_name=_req(res, "matterName"),
        applicant=applicant(_req(res, "applicant")), delivery_mode=_req(res, "deliveryMode"), status=_req(res, "status"),
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
    return HeartbeatResult(server_time=_aware(_req(res, "serverTime"), "serverTime"),
                           catalog_version=_req(res, "catalogVersion"))
