"""Submitting a simple matter (办件): check the form locally, queue it with a local receipt, try to file it now.

The citizen always leaves with a receipt. While the platform has not answered
it says "received, will be filed" (已收到，待提交), never 受理: only the
platform accepts a case. When the case number comes back (at once on the fast
path, or later from the outbox sender) it is attached to the submission.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from kiosk.audit import append as audit_append
from kiosk.catalog import CatalogService
from kiosk.clock import Clock
from kiosk.eligibility import NotEligible, Verdict, check
from kiosk.errors import KioskError, PlatformRejected, ValidationError
from kiosk.identity import id_hash, validate_id_number
from kiosk.mail import PART_KEYS, address_json, validate_address
from kiosk.outbox import enqueue
from kiosk.platform_models import Applicant, Assistant, FieldSpec, MailAddress, Matter
from kiosk.privacy import PHONE, mask_id_number, mask_name
from kiosk.storage.db import Database
from kiosk.storage.models import Submission
from kiosk.xsd_regex import XsdPatternError, xsd_match

if TYPE_CHECKING:  # the sender reaches (through its tasks) back to the services that enqueue
    from kiosk.outbox_sender import OutboxSender

log = logging.getLogger(__name__)

# xs:decimal's lexical space; ASCII digits only (Python's \d would take any script's digits).
_NUMBER = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# Characters XML 1.0 cannot carry: the request could not even be built.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_RECEIPT_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: read aloud at a counter

# What the receipt says, by submission state (the UI's catalogue may override; both languages here).
RECEIPT_TEXT: dict[str, tuple[str, str]] = {
    "queued": (
        "已收到您的申请，将尽快提交办理；办件编号稍后生成",
        "Received; it will be filed shortly and given a case number",
    ),
    "filed": ("已提交，办件编号见下", "Filed; your case number is below"),
    "approved": ("已办结（秒批秒办），办件编号见下", "Decided at once (approved); your case number is below"),
    "refused": ("平台不予受理，详见说明", "The platform refused the application; see the note"),
    "failed": ("未能提交，请到窗口咨询", "Could not be filed; please ask at a counter"),
}


@dataclass(frozen=True)
class Receipt:
    """What the citizen is given: personal data masked, the case number once known."""

    submission_id: int
    receipt_number: str
    matter_code: str
    matter_name: str
    applicant_id_masked: str
    delivery_mode: str
    state: str  # queued / filed / approved (an instant matter, 1.1) / refused / failed
    created_at: dt.datetime
    case_number: str | None = None
    promised_date: str | None = None
    message: str | None = None
    applicant_name_masked: str = ""

    @property
    def text(self) -> tuple[str, str]:
        """The receipt's headline (Chinese, English)."""
        return RECEIPT_TEXT[self.state]


def _invalid(field: str, message: str, key: str) -> ValidationError:
    err = ValidationError(message, field=field)
    err.citizen_key = key
    return err


def validate_field(spec: FieldSpec, raw: str | None) -> str | None:
    """One value checked against its FieldSpec; the cleaned value, None for an empty optional field."""
    value = (raw or "").strip()
    if not value:
        if spec.required:
            raise _invalid(spec.key, f"{spec.key}: required", "error.field_required")
        return None
    if _NOT_XML.search(value):
        raise _invalid(spec.key, f"{spec.key}: contains control characters", "error.field_invalid")
    if spec.max_length is not None and len(value) > spec.max_length:
        raise _invalid(
            spec.key,
            f"{spec.key}: {len(value)} characters, at most {spec.max_length}",
            "error.field_too_long",
        )
    if spec.type == "NUMBER" and not _NUMBER.fullmatch(value):
        raise _invalid(spec.key, f"{spec.key}: not a number", "error.field_number")
    if spec.type == "DATE":
        try:
            if not _DATE.fullmatch(value):
                raise ValueError(value)
            dt.date.fromisoformat(value)
        except ValueError:
            raise _invalid(spec.key, f"{spec.key}: not a date (YYYY-MM-DD)", "error.field_date") from None
    if spec.type == "PHONE" and not PHONE.fullmatch(value):
        raise _invalid(spec.key, f"{spec.key}: not a phone number", "error.field_phone")
    if (spec.type == "CHOICE" or spec.choices) and value not in spec.choices:
        raise _invalid(
            spec.key, f"{spec.key}: not one of the {len(spec.choices)} choices", "error.field_choice"
        )
    if spec.pattern:
        try:
            ok = xsd_match(spec.pattern, value)
        except XsdPatternError as err:
            # The catalog's own pattern is broken: let the platform judge rather than block every citizen.
            log.warning("matter field %s: %s; the platform will check it", spec.key, err)
            ok = True
        if not ok:
            raise _invalid(spec.key, f"{spec.key}: does not match the required format", "error.field_pattern")
    return value


def validate_fields(matter: Matter, fields: Mapping[str, str | None]) -> dict[str, str]:
    """Every field of the form checked in catalog order; raises ValidationError naming the first bad one."""
    known = {f.key for f in matter.fields}
    for key in fields:
        if key not in known:
            raise _invalid(key, f"{key}: not a field of matter {matter.code}", "error.field_unknown")
    out: dict[str, str] = {}
    for spec in matter.fields:
        value = validate_field(spec, fields.get(spec.key))
        if value is not None:
            out[spec.key] = value
    return out


def validate_applicant(applicant: Applicant) -> Applicant:
    """The applicant's ID number (check digit for resident IDs), name and phone."""
    number = applicant.id_number.strip().upper()
    if applicant.id_type == "RESIDENT_ID":
        try:
            number = validate_id_number(number)
        except ValueError as err:
            raise _invalid("applicant.id_number", f"applicant ID number: {err}", "error.id_number") from None
    elif not 1 <= len(number) <= 32 or _NOT_XML.search(number):
        raise _invalid("applicant.id_number", "applicant ID number: 1 to 32 characters", "error.id_number")
    name = applicant.name.strip()
    if not 1 <= len(name) <= 64 or _NOT_XML.search(name):
        raise _invalid("applicant.name", "applicant name: 1 to 64 characters", "error.field_required")
    phone = (applicant.phone or "").strip() or None
    if phone is not None and not PHONE.fullmatch(phone):
        raise _invalid("applicant.phone", "applicant phone: not a phone number", "error.field_phone")
    return Applicant(id_type=applicant.id_type, id_number=number, name=name, phone=phone)


def filing_address(delivery_mode: str, address: MailAddress | None, *, v11: bool) -> MailAddress | None:
    """The MAIL rules before anything is queued: MAIL needs an address (1.1) checked part by part; an address
    with another mode is refused; a kiosk pinned to 1.0 sends none (the centre phones the applicant)."""
    if delivery_mode != "MAIL":
        if address is not None:
            raise _invalid("mailAddress", "a mail address is only for MAIL delivery", "error.mail_not_mail")
        return None
    if not v11:
        return None
    if address is None:
        raise _invalid("mailAddress", "MAIL delivery needs an address", "error.mail_address")
    return validate_address(address)


def filing_error(err: PlatformRejected) -> KioskError:
    """A filing refused by the platform, as the form shows it: a field to correct, or why not eligible."""
    if err.code == "NOT_ELIGIBLE" or (err.code == "INVALID_FIELD" and err.field == "applicant"):
        # NOT_ELIGIBLE (1.1); INVALID_FIELD applicant is how 1.0 says the same.
        return NotEligible(
            f"platform: {err.code}: {err.platform_message}", platform_message=err.platform_message
        )
    if err.code == "INVALID_FIELD":
        field = err.field or "form"
        return _invalid(field, err.platform_message, field_error_key(field))
    return err


def field_error_key(field: str) -> str:
    """The citizen text for a platform INVALID_FIELD naming ``field`` (a form key, a bundle key, a dotted path)."""
    if field.startswith("mailAddress"):
        return PART_KEYS.get(field.split(".", 1)[1] if "." in field else "address", "error.mail_address")
    if field == "assistedBy.consentRecorded":
        return "error.assist_consent"
    if field.startswith("assistedBy"):
        return "error.assist_staff"
    if field.startswith("param"):
        return "error.notice_param"
    if field in ("idNumber", "applicant.id_number"):
        return "error.id_number"
    return "error.invalid_field"


def audit_assisted(s: Session, now: dt.datetime, helper: Assistant, subject: str, *, sent: bool) -> None:
    """帮办代办 in the audit: staff id, mode and consent (never the citizen's name or number)."""
    audit_append(
        s,
        now,
        f"staff:{helper.staff_id}",
        "filing.assisted",
        subject,
        staff_id=helper.staff_id,
        mode=helper.mode,
        consent=helper.consent_recorded,
        sent_to_platform=sent,
    )


def new_receipt_number(now: dt.datetime, prefix: str = "S") -> str:
    """``S261125-7Q2M9X``: a letter for the kind (S an application, B a bundle, T a 12345 ticket, E a rating,
    C a confirmation), the date and six random characters (unique across kiosks sharing a database)."""
    return f"{prefix}{now:%y%m%d}-" + "".join(secrets.choice(_RECEIPT_ALPHABET) for _ in range(6))


class ApplicationService:
    """What the UI calls to file a simple matter."""

    def __init__(
        self,
        db: Database,
        secret: bytes,
        clock: Clock,
        catalog: CatalogService,
        sender: OutboxSender | None = None,
        *,
        actor: str = "kiosk",
    ) -> None:
        self.db = db
        self.secret = secret
        self.clock = clock
        self.catalog = catalog
        self.sender = sender
        self.actor = actor

    def check(self, matter_code: str, fields: Mapping[str, str | None], delivery_mode: str) -> dict[str, str]:
        """Validate a form without submitting it (for the UI's per-page checks); the cleaned fields."""
        return self._check(matter_code, fields, delivery_mode)[1]

    def _check(
        self, matter_code: str, fields: Mapping[str, str | None], delivery_mode: str
    ) -> tuple[Matter, dict[str, str]]:
        matter = self.catalog.matter(matter_code)
        if delivery_mode not in matter.delivery_modes:
            raise _invalid(
                "delivery_mode",
                f"delivery mode {delivery_mode} not offered for {matter.code}",
                "error.delivery_mode",
            )
        return matter, validate_fields(matter, fields)

    @property
    def v11(self) -> bool:
        """Whether the platform is spoken to in interface 1.1 (eligibility, mail addresses, 帮办 are sent)."""
        return bool(getattr(getattr(self.sender, "platform", None), "v11", True))

    def eligibility(self, matter_code: str, applicant: Applicant) -> Verdict:
        """Whether the citizen on the card may file this matter, before any field is typed (1.1 catalogs only:
        a 1.0 catalog carries no eligibility, and the platform's answer then comes at filing)."""
        matter = self.catalog.matter(matter_code)
        return check(
            matter.eligibility,
            applicant.id_type,
            applicant.id_number,
            self.clock.now(),
            matter_code=matter.code,
        )

    def submit(
        self,
        applicant: Applicant,
        matter_code: str,
        fields: Mapping[str, str | None],
        delivery_mode: str,
        *,
        mail_address: MailAddress | None = None,
        assisted_by: Assistant | None = None,
        send_now: bool = True,
    ) -> Receipt:
        """Queue the application with a local receipt, then try to file it at once.

        Raises ValidationError(field=...) for a bad form value, mail address part (``mailAddress.<part>``) or
        帮办 detail, locally or from the platform's INVALID_FIELD on the fast path (the form is shown again);
        NotEligible before anything is queued when the catalog's eligibility rules the citizen out (or after the
        platform's NOT_ELIGIBLE); PlatformRejected for another refusal on the fast path. When the platform is
        unavailable the receipt comes back "queued" and the outbox files it later. A kiosk pinned to interface
        1.0 sends no address (the centre phones the applicant for it) and no assistedBy (audited here only).
        """
        matter, clean = self._check(matter_code, fields, delivery_mode)
        person = validate_applicant(applicant)
        now = self.clock.now()
        verdict = check(matter.eligibility, person.id_type, person.id_number, now, matter_code=matter.code)
        if not verdict.eligible:
            raise NotEligible(f"{matter.code}: not eligible ({verdict.why})", verdict)
        mail = filing_address(delivery_mode, mail_address, v11=self.v11)
        with self.db.transaction() as s:
            sub = Submission(
                receipt_number=new_receipt_number(now),
                matter_code=matter.code,
                matter_name=matter.name,
                applicant_id_hash=id_hash(self.secret, person.id_number),
                applicant_id_masked=mask_id_number(person.id_number),
                delivery_mode=delivery_mode,
                state="queued",
                created_at=now,
            )
            s.add(sub)
            s.flush()
            payload = {
                "applicant": {
                    "id_type": person.id_type,
                    "id_number": person.id_number,
                    "name": person.name,
                    "phone": person.phone,
                },
                "matter_code": matter.code,
                "fields": clean,
                "delivery_mode": delivery_mode,
            }
            if mail is not None:
                payload["mail_address"] = address_json(mail)
            if assisted_by is not None and self.v11:
                payload["assisted_by"] = {
                    "staff_id": assisted_by.staff_id,
                    "mode": assisted_by.mode,
                    "consent_recorded": assisted_by.consent_recorded,
                }
            msg = enqueue(
                s,
                now,
                "SubmitApplication",
                payload,
                secret=self.secret,
                sensitive=True,
                ref_kind="submission",
                ref_id=sub.id,
            )
            if self.sender is not None and send_now:
                self.sender.hold(msg)
            audit_append(
                s,
                now,
                self.actor,
                "application.queued",
                f"submission:{sub.id}",
                matter_code=matter.code,
                receipt=sub.receipt_number,
                outbox_id=msg.id,
            )
            if assisted_by is not None:
                audit_assisted(s, now, assisted_by, f"submission:{sub.id}", sent=self.v11)
            sub_id, msg_id = sub.id, msg.id
        del payload  # no longer needed; the sealed copy is in the outbox
        if self.sender is not None:
            if send_now:
                d = self.sender.send_now(msg_id)
                if d.outcome == "dead" and isinstance(d.error, PlatformRejected):
                    raise filing_error(d.error) from d.error
            self.sender.poke()
        return self.receipt(sub_id, name_masked=mask_name(person.name))

    def receipt(self, submission_id: int, *, name_masked: str = "") -> Receipt:
        """The submission as it stands now (the case number appears once the sender has it)."""
        with self.db.transaction() as s:
            sub = s.get(Submission, submission_id)
            if sub is None:
                raise LookupError(f"no submission {submission_id}")
            return Receipt(
                submission_id=sub.id,
                receipt_number=sub.receipt_number,
                matter_code=sub.matter_code,
                matter_name=sub.matter_name,
                applicant_id_masked=sub.applicant_id_masked,
                delivery_mode=sub.delivery_mode,
                state=sub.state,
                created_at=sub.created_at,
                case_number=sub.case_number,
                promised_date=sub.promised_date,
                message=sub.message,
                applicant_name_masked=name_masked,
            )
