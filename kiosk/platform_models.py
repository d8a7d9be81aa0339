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
    "RECEIVED",
    "IN_REVIEW",
    "NEED_MORE_MATERIAL",
    "APPROVED",
    "REFUSED",
    "READY_FOR_PICKUP",
    "DELIVERED",
    "WITHDRAWN",
]
DeliveryEvent = Literal["DEPOSITED", "PICKED_UP", "RETURNED_TO_CENTRE", "DROPOFF_RECEIVED"]
NoticeTemplate = Literal["PICKUP_READY", "PICKUP_REMINDER", "DROPOFF_RECEIVED", "PICKUP_CODE_RESEND"]
DeviceState = Literal["OK", "DEGRADED", "FAULT"]
# since interface 1.1
InterfaceVersion = Literal["1.0", "1.1"]
AssistMode = Literal["ON_SITE", "REMOTE_VIDEO", "PROXY"]
AssistTopic = Literal["FILING", "PICKUP", "DEVICE", "OTHER"]
TicketKind = Literal["CONSULT", "COMPLAINT", "SUGGESTION", "PRAISE", "REPORT"]
TicketStatus = Literal["RECEIVED", "ASSIGNED", "REPLIED", "CLOSED"]
EvaluationStatus = Literal["RECORDED", "RECTIFYING", "REPLIED", "CONFIRMED"]
ID_TYPES: tuple[IdType, ...] = ("RESIDENT_ID", "SOCIAL_SECURITY_CARD", "PASSPORT", "OTHER")
ASSIST_MODES: tuple[AssistMode, ...] = ("ON_SITE", "REMOTE_VIDEO", "PROXY")
ASSIST_TOPICS: tuple[AssistTopic, ...] = ("FILING", "PICKUP", "DEVICE", "OTHER")
TICKET_KINDS: tuple[TicketKind, ...] = ("CONSULT", "COMPLAINT", "SUGGESTION", "PRAISE", "REPORT")


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
class Material:
    """One material of a 办事指南: how many copies, and whether the original (原件) or a copy (复印件)."""

    name: str
    copies: int
    original: bool
    name_en: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class MatterGuide:
    """办事指南 (1.1): who qualifies, what to bring, the legal basis and how it is handled."""

    conditions: tuple[str, ...] = ()
    materials: tuple[Material, ...] = ()
    legal_basis: str | None = None
    process_note: str | None = None


@dataclass(frozen=True)
class Eligibility:
    """What the platform enforces at filing (1.1); each part optional, ages inclusive."""

    min_age_years: int | None = None
    max_age_years: int | None = None
    id_types: tuple[IdType, ...] = ()  # empty: any


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
    # since 1.1 (absent from a 1.0 catalog)
    guide: MatterGuide | None = None
    eligibility: Eligibility | None = None
    instant: bool = False
    fee_note: str | None = None


@dataclass(frozen=True)
class Bundle:
    """一件事一次办 (1.1): member matters filed together, shared fields asked once."""

    code: str
    name: str
    member_codes: tuple[str, ...]
    delivery_modes: tuple[DeliveryMode, ...]
    shared_fields: tuple[FieldSpec, ...] = ()
    name_en: str | None = None
    description: str | None = None


@dataclass(frozen=True)
class Catalog:
    version: str
    matters: tuple[Matter, ...]
    bundles: tuple[Bundle, ...] = ()  # 1.1


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
    # since 1.1
    reason: str | None = None  # why REFUSED, or what NEED_MORE_MATERIAL needs
    next_step: str | None = None
    courier: str | None = None
    waybill_number: str | None = None
    delivery_mode: DeliveryMode | None = None


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
    """A 好差评 rating: of a case, a matter, or (neither) the self-service itself; no applicant: anonymous."""

    rating: int
    case_number: str | None = None
    matter_code: str | None = None
    reasons: tuple[str, ...] = ()
    comment: str | None = None
    applicant: Applicant | None = None  # 1.1

    def __repr__(self) -> str:  # the comment and the applicant are personal
        return (
            f"Evaluation(rating={self.rating}, case_number={self.case_number!r}, matter_code={self.matter_code!r}, "
            f"anonymous={self.applicant is None})"
        )


@dataclass(frozen=True)
class MailAddress:
    """政务快递 (1.1): where a result is mailed (EMS)."""

    recipient: str
    phone: str
    province: str
    city: str
    district: str
    detail: str
    street: str | None = None
    postcode: str | None = None

    def __repr__(self) -> str:
        return f"MailAddress(province={self.province!r}, city={self.city!r}, district={self.district!r}, <redacted>)"


@dataclass(frozen=True)
class Assistant:
    """帮办代办 (1.1): who helped the applicant file, and how."""

    staff_id: str
    mode: AssistMode
    consent_recorded: bool


@dataclass(frozen=True)
class BundleCase:
    case_number: str
    matter_code: str
    status: CaseStatus
    promised_date: dt.date | None = None


@dataclass(frozen=True)
class BundleResult:
    bundle_number: str
    cases: tuple[BundleCase, ...]
    accepted_at: dt.datetime
    message: str | None = None


@dataclass(frozen=True)
class HotlineTicket:
    """A 12345 ticket to file (1.1); no applicant: anonymous, followed only by the ticket number."""

    kind: TicketKind
    phone: str
    content: str
    applicant: Applicant | None = None
    case_number: str | None = None
    matter_code: str | None = None

    def __repr__(self) -> str:
        return (
            f"HotlineTicket(kind={self.kind!r}, case_number={self.case_number!r}, matter_code={self.matter_code!r}, "
            f"anonymous={self.applicant is None}, <redacted>)"
        )


@dataclass(frozen=True)
class TicketReceipt:
    ticket_number: str
    promised_reply_days: int  # working days
    accepted_at: dt.datetime


@dataclass(frozen=True)
class Ticket:
    """A 12345 ticket as the platform reports it; ``content`` comes back masked of personal data."""

    ticket_number: str
    kind: TicketKind
    status: TicketStatus
    submitted_at: dt.datetime
    content: str
    reply: str | None = None
    replied_at: dt.datetime | None = None
    department: str | None = None


@dataclass(frozen=True)
class EvaluationSummary:
    evaluation_id: str
    rating: int
    submitted_at: dt.datetime
    status: EvaluationStatus
    case_number: str | None = None
    matter_code: str | None = None
    matter_name: str | None = None
    reply: str | None = None
    replied_at: dt.datetime | None = None
    department: str | None = None


@dataclass(frozen=True)
class Assistance:
    """The platform's answer to RequestAssistance: the mode it chose and whom to call."""

    assistance_id: str
    mode: AssistMode
    hotline: str
    expected_wait_minutes: int | None = None
    message: str | None = None


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
