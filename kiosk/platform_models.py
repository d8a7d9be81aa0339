"""The project's own types for what the provincial platform sends and receives.

The platform client maps zeep objects to these; nothing above the client ever
sees a zeep object. Field names follow the WSDL in snake_case.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

IdType = Literal["RESIDENT_ID", "SOCIAL_SECURITY_CARD", "PASSPORT", "OTHER"]
DeliveryMode = Literal["LOCKER", "WINDOW", "MAIL"]
FieldType = Literal["TEXT", "NUMBER", "DATE", "PHONE", "CHOICE"]
CaseStatus = Literal[
    "RECEIVED", "IN_REVIEW", "NEED_MORE_MATERIAL", "APPROVED", "REFUSED",
    "READY_FOR_PICKUP", "DELIVERED", "WITHDRAWN",
]
DeliveryEvent = Literal["DEPOSITED", "PICKED_UP", "RETURNED_TO_CENTRE", "DROPOFF_RECEIVED"]
NoticeTemplate = Literal["PICKUP_READY", "PICKUP_REMINDER", "DROPOFF_RECEIVED"]
DeviceState = Literal["OK", "DEGRADED", "FAULT"]


@dataclass(frozen=True)
class Applicant:
    id_type: IdType
    id_number: str
    name: str
    phone: str | None = None

    def __repr__(self) -> str:  # never show personal data in a repr
        return f"Applicant(id_type={self.id_type!r}, id_number=<redacted>, name=<redacted>)"


@dataclass(frozen=True)
class FieldSpec:
    key: str
    label: str
    type: FieldType
    required: bool
    label_en: str | None = None
    max_length: int | None = None
    pattern: str | None = None
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class Matter:
    code: str
    name: str
    department: str
    promised_days: int
    fee: Decimal
    delivery_modes: tuple[DeliveryMode, ...]
    fields: tuple[FieldSpec, ...] = ()
    name_en: str | None = None


@dataclass(frozen=True)
class Catalog:
    version: str
    matters: tuple[Matter, ...]


@dataclass(frozen=True)
class SubmitResult:
    case_number: str
    status: CaseStatus
    accepted_at: dt.datetime
    promised_date: dt.date | None = None
    message: str | None = None


@dataclass(frozen=True)
class CaseSummary:
    case_number: str
    matter_code: str
    matter_name: str
    status: CaseStatus
    updated_at: dt.datetime
    note: str | None = None


@dataclass(frozen=True)
class DeliveryTicket:
    case_number: str
    matter_name: str
    applicant: Applicant
    delivery_mode: DeliveryMode
    status: CaseStatus


@dataclass(frozen=True)
class Ack:
    accepted: bool
    received_at: dt.datetime


@dataclass(frozen=True)
class DeviceHealth:
    name: str
    state: DeviceState
    detail: str | None = None


@dataclass(frozen=True)
class HeartbeatResult:
    server_time: dt.datetime
    catalog_version: str


@dataclass(frozen=True)
class Evaluation:
    rating: int
    case_number: str | None = None
    matter_code: str | None = None
    reasons: tuple[str, ...] = ()
    comment: str | None = None


@dataclass
class ExchangeRecord:
    """One redacted request/reply pair kept for diagnostics."""

    operation: str
    request_id: str | None
    started_at: dt.datetime
    duration_ms: float
    outcome: str  # "ok", "rejected:CODE", "unavailable:reason"
    request_xml: str = ""
    reply_xml: str = ""
    extra: dict[str, str] = field(default_factory=dict)
