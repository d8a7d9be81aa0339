"""一件事一次办 (interface 1.1): one guide, one form, one review, one SubmitBundle, one receipt.

The form asks each shared field once (the bundle's ``sharedField``s, first),
then each member's own fields that no shared key covers, keyed
``<matterCode>.<key>`` as ``SubmitBundle`` wants them. A shared value fills
that key in every member that has it, so it is checked against the shared spec
and against each such member's spec; a bad or missing one is named by the
shared key, a member's own by ``<matterCode>.<key>``: the very names the
platform's INVALID_FIELD uses, so a refusal from either lands on the same field.

Filing goes through the outbox (exactly once: one requestId, the platform's
idempotency), all or nothing on the platform's side; the citizen leaves with a
receipt number at once and, when the platform answers, the bundle number and
every member's case number (:mod:`kiosk.service_requests`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from kiosk import service_requests
from kiosk.applications import (
    _invalid,
    audit_assisted,
    filing_address,
    validate_applicant,
    validate_field,
)
from kiosk.audit import append as audit_append
from kiosk.catalog import CatalogService
from kiosk.clock import Clock
from kiosk.eligibility import NotEligible, Verdict, check_matters
from kiosk.errors import PlatformFeatureUnavailable
from kiosk.guides import Guide, bundle_guide
from kiosk.identity import id_hash
from kiosk.mail import address_json
from kiosk.outbox import enqueue
from kiosk.outbox_sender import OutboxSender
from kiosk.platform_models import Applicant, Assistant, Bundle, FieldSpec, MailAddress, Matter
from kiosk.privacy import mask_id_number
from kiosk.service_requests import ServiceReceipt
from kiosk.storage.db import Database


@dataclass(frozen=True)
class Section:
    """A part of the bundle form: the shared fields (``matter`` None) or one member's own."""

    matter: Matter | None
    fields: tuple[FieldSpec, ...]  # keys as the form and SubmitBundle use them


@dataclass(frozen=True)
class BundleForm:
    bundle: Bundle
    members: tuple[Matter, ...]
    sections: tuple[Section, ...]

    @property
    def fields(self) -> tuple[FieldSpec, ...]:
        """Every form field in order: shared first, then member by member."""
        return tuple(f for s in self.sections for f in s.fields)

    def spec(self, key: str) -> FieldSpec:
        for f in self.fields:
            if f.key == key:
                return f
        raise KeyError(key)


def form_of(bundle: Bundle, members: tuple[Matter, ...]) -> BundleForm:
    shared_keys = {f.key for f in bundle.shared_fields}
    sections = [Section(matter=None, fields=bundle.shared_fields)]
    for m in members:
        own = tuple(replace(f, key=f"{m.code}.{f.key}") for f in m.fields if f.key not in shared_keys)
        if own:
            sections.append(Section(matter=m, fields=own))
    return BundleForm(bundle=bundle, members=members, sections=tuple(sections))


def validate_bundle_fields(form: BundleForm, values: Mapping[str, str | None]) -> dict[str, str]:
    """The form checked in order; ValidationError names the shared key or ``<matterCode>.<key>``."""
    known = {f.key for f in form.fields}
    for key in values:
        if key not in known:
            raise _invalid(key, f"{key}: not a field of bundle {form.bundle.code}", "error.field_unknown")
    out: dict[str, str] = {}
    for spec in form.bundle.shared_fields:
        value = validate_field(spec, values.get(spec.key))
        for m in form.members:  # a shared value must also suit each member that takes it
            for mspec in m.fields:
                if mspec.key == spec.key and (value is not None or mspec.required):
                    validate_field(replace(mspec, key=spec.key), value)
        if value is not None:
            out[spec.key] = value
    for section in form.sections[1:]:
        for spec in section.fields:
            value = validate_field(spec, values.get(spec.key))
            if value is not None:
                out[spec.key] = value
    return out


class BundleService:
    """What the bundle screens call: the form, the eligibility check, the filing, the receipt."""

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

    @property
    def v11(self) -> bool:
        return bool(getattr(getattr(self.sender, "platform", None), "v11", True))

    def bundles(self) -> tuple[Bundle, ...]:
        """The bundles the matters screen shows first (none on a kiosk pinned to 1.0)."""
        return self.catalog.bundles() if self.v11 else ()

    def form(self, bundle_code: str) -> BundleForm:
        bundle = self.catalog.bundle(bundle_code)
        return form_of(bundle, self.catalog.members(bundle))

    def guide(self, bundle_code: str) -> Guide:
        bundle = self.catalog.bundle(bundle_code)
        return bundle_guide(bundle, self.catalog.members(bundle))

    def eligibility(self, bundle_code: str, applicant: Applicant) -> Verdict:
        """Whether the citizen on the card may file every member (any member's rule refuses the bundle)."""
        bundle = self.catalog.bundle(bundle_code)
        return check_matters(
            self.catalog.members(bundle), applicant.id_type, applicant.id_number, self.clock.now()
        )

    def check(self, bundle_code: str, values: Mapping[str, str | None], delivery_mode: str) -> dict[str, str]:
        form = self.form(bundle_code)
        if delivery_mode not in form.bundle.delivery_modes:
            raise _invalid(
                "delivery_mode",
                f"delivery mode {delivery_mode} not offered for {bundle_code}",
                "error.delivery_mode",
            )
        return validate_bundle_fields(form, values)

    def submit(
        self,
        applicant: Applicant,
        bundle_code: str,
        values: Mapping[str, str | None],
        delivery_mode: str,
        *,
        mail_address: MailAddress | None = None,
        assisted_by: Assistant | None = None,
        send_now: bool = True,
    ) -> ServiceReceipt:
        """Queue SubmitBundle with a receipt, then try to file it at once (as ApplicationService.submit does)."""
        if not self.v11:
            raise PlatformFeatureUnavailable("SubmitBundle needs interface 1.1")
        form = self.form(bundle_code)
        clean = self.check(bundle_code, values, delivery_mode)
        person = validate_applicant(applicant)
        now = self.clock.now()
        verdict = check_matters(form.members, person.id_type, person.id_number, now)
        if not verdict.eligible:
            raise NotEligible(
                f"{bundle_code}: not eligible for {verdict.matter_code} ({verdict.why})", verdict
            )
        mail = filing_address(delivery_mode, mail_address, v11=True)
        with self.db.transaction() as s:
            row = service_requests.create(
                s,
                now,
                "bundle",
                subject_code=form.bundle.code,
                subject_name=form.bundle.name,
                applicant_id_hash=id_hash(self.secret, person.id_number),
                applicant_id_masked=mask_id_number(person.id_number),
            )
            payload = {
                "applicant": {
                    "id_type": person.id_type,
                    "id_number": person.id_number,
                    "name": person.name,
                    "phone": person.phone,
                },
                "bundle_code": form.bundle.code,
                "fields": clean,
                "delivery_mode": delivery_mode,
                "mail_address": address_json(mail) if mail is not None else None,
                "assisted_by": None
                if assisted_by is None
                else {
                    "staff_id": assisted_by.staff_id,
                    "mode": assisted_by.mode,
                    "consent_recorded": assisted_by.consent_recorded,
                },
            }
            msg = enqueue(
                s,
                now,
                "SubmitBundle",
                payload,
                secret=self.secret,
                sensitive=True,
                ref_kind=service_requests.REF_KIND,
                ref_id=row.id,
            )
            if self.sender is not None and send_now:
                self.sender.hold(msg)
            audit_append(
                s,
                now,
                self.actor,
                "bundle.queued",
                f"service_request:{row.id}",
                bundle_code=form.bundle.code,
                receipt=row.receipt_number,
                outbox_id=msg.id,
                members=list(form.bundle.member_codes),
            )
            if assisted_by is not None:
                audit_assisted(s, now, assisted_by, f"service_request:{row.id}", sent=True)
            row_id, msg_id = row.id, msg.id
        del payload
        return service_requests.send(self.db, self.sender, row_id, msg_id, send_now=send_now)

    def receipt(self, request_id: int) -> ServiceReceipt:
        with self.db.transaction() as s:
            return service_requests.load(s, request_id)


def members_of(receipt: ServiceReceipt) -> list[dict[str, object]]:
    """The member cases on a bundle receipt once the platform answered (case number, matter, status, date)."""
    return list(receipt.detail.get("cases") or ())
