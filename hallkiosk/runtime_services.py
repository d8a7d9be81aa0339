"""The runtime's operations for the interface-1.1 screens (guides, eligibility, 一件事 bundles), on a worker thread.

Split from :mod:`hallkiosk.runtime_ops` by concept: these wrap the 1.1 core services
(:mod:`kiosk.bundles`, :mod:`kiosk.guides`, :mod:`kiosk.eligibility`, :mod:`kiosk.matter_search`) for the UI.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Literal

from hallkiosk.runtime_ops import Services, applicant_of
from kiosk.identity import Identity
from kiosk.platform_models import Assistant, Bundle, EvaluationSummary, MailAddress, Matter, Ticket

if TYPE_CHECKING:
    from kiosk.bundles import BundleForm, BundleService
    from kiosk.case_details import CaseDetail, CaseService
    from kiosk.eligibility import Verdict
    from kiosk.guides import Guide
    from kiosk.matter_search import MatterIndex
    from kiosk.pickup_notices import PickupNotices, Resent
    from kiosk.service_requests import ServiceReceipt
    from kiosk.tickets import TicketService

log = logging.getLogger(__name__)
Kind = Literal["matter", "bundle"]


@dataclass(frozen=True)
class MatterOffer:
    """What the matters screen lists: bundles (一件事) first, then single matters, and the search index over both."""

    version: str
    matters: tuple[Matter, ...]
    bundles: tuple[Bundle, ...]
    index: MatterIndex

    @cached_property
    def _by_code(self) -> dict[str, Matter | Bundle]:
        return {**{m.code: m for m in self.matters}, **{b.code: b for b in self.bundles}}

    def matter(self, code: str) -> Matter | None:
        m = self._by_code.get(code)
        return m if isinstance(m, Matter) else None

    def bundle(self, code: str) -> Bundle | None:
        b = self._by_code.get(code)
        return b if isinstance(b, Bundle) else None


class ServiceOps(Services):
    """What the 1.1 citizen screens call (each may block: the UI calls them through ``app.call``)."""

    _offer: MatterOffer | None = None
    _offer_lock = threading.Lock()

    @cached_property
    def bundle_service(self) -> BundleService:
        from kiosk.bundles import BundleService

        return BundleService(self.app.db, self.app.secret, self.app.clock, self.catalog, self.sender)

    def matter_offer(self) -> MatterOffer:
        """The catalog as the matters screen shows it; the search index is built once per catalog version."""
        from kiosk.matter_search import MatterIndex

        cat = self.catalog.current()
        version = cat.version if cat is not None else ""
        with self._offer_lock:
            if self._offer is None or self._offer.version != version:
                matters = cat.matters if cat is not None else ()
                bundles = self.bundle_service.bundles()
                self._offer = MatterOffer(version, matters, bundles, MatterIndex(matters, bundles))
            return self._offer

    def offer_cached(self) -> MatterOffer | None:
        """The offer last built, without any I/O (safe on the UI thread); None before the first one."""
        return self._offer

    def guide_for(self, kind: Kind, code: str) -> Guide:
        """办事指南 for a matter or a bundle (ValidationError when the catalog no longer has it)."""
        from kiosk.guides import guide_of

        if kind == "bundle":
            return self.bundle_service.guide(code)
        return guide_of(self.catalog.matter(code))

    def eligibility_for(self, identity: Identity | None, kind: Kind, code: str) -> Verdict:
        """The platform's eligibility rule for the card on the reader, before a field is typed."""
        from kiosk.eligibility import ELIGIBLE, check_identity

        if identity is None or identity.wiped:
            return ELIGIBLE  # no card: the form asks for one before anything is filed
        if kind == "bundle":
            return self.bundle_service.eligibility(code, applicant_of(identity))
        return check_identity(self.catalog.matter(code), identity, self.app.clock.now())

    @cached_property
    def case_service(self) -> CaseService:
        from kiosk.case_details import CaseService

        return CaseService(self.app.db, self.app.platform, [c.id for c in self.cfg.cabinets])

    def case_details(self, identity: Identity) -> list[CaseDetail]:
        """我的办件 with each case's details and where its result is (live; QueryUnavailable when down)."""
        # QueryUnavailable is a PlatformUnavailable: _platform keeps the start screen's notice true either way.
        return self._platform(self.case_service.mine, identity.id_number)

    @cached_property
    def pickup_notices(self) -> PickupNotices:
        from kiosk.pickup_notices import PickupNotices

        return PickupNotices(
            self.app.db,
            self.app.secret,
            self.app.clock,
            self.cfg.pickup,
            [c.id for c in self.cfg.cabinets],
            v11=self.cfg.platform.interface_version == "1.1",
            poke=self.sender.poke,
        )

    def resendable(self, identity: Identity) -> list[tuple[int, str, str, str]]:
        """The card holder's results waiting in this kiosk's cabinets: (parcel id, case, cabinet, compartment)."""
        return self.pickup_notices.resendable(identity.id_number)

    def resend_code(self, identity: Identity, parcel_id: int) -> Resent:
        """A new pickup code by SMS for a lost one (PICKUP_CODE_RESEND); the old code is dead on return."""
        return self.pickup_notices.resend_code(identity.id_number, parcel_id)

    def _reminders_loop(self) -> None:
        """Queue the PICKUP_REMINDERs that fall due (two days before a code expires), now and then."""
        while not self._stop.wait(self.cfg.pickup.reminders_interval_s):
            try:
                self.pickup_notices.queue_due_reminders()
            except Exception:  # the loop must outlive a database hiccup
                log.exception("queueing pickup reminders failed unexpectedly")

    def ratings_anonymous_only(self) -> bool:
        """A kiosk pinned to interface 1.0 sends every rating anonymously (the rate screen says so)."""
        return self.cfg.platform.interface_version != "1.1"

    def my_ratings(self, identity: Identity) -> list[EvaluationSummary]:
        """我的评价: the citizen's identified ratings with status and reply (live; QueryUnavailable when down)."""
        return self._platform(self.evaluations.mine, identity.id_number)

    def confirm_reply(self, identity: Identity, listed: EvaluationSummary, satisfied: bool) -> ServiceReceipt:
        """The citizen's answer to a department's reply to a 差评 (ConfirmEvaluationReply through the outbox)."""
        return self.evaluations.confirm(listed, satisfied, applicant=applicant_of(identity))

    @cached_property
    def tickets(self) -> TicketService:
        from kiosk.tickets import TicketService

        return TicketService(self.app.db, self.app.secret, self.app.clock, self.sender)

    def submit_ticket(
        self,
        kind: str,
        phone: str,
        topics: list[str],
        text: str,
        *,
        identity: Identity | None = None,
        case_number: str | None = None,
    ) -> ServiceReceipt:
        """A 12345 ticket through the outbox (ValidationError names kind / phone / content); with a card read it
        carries the applicant, so 我的诉求 lists it."""
        from kiosk.tickets import compose, validate_ticket

        draft = validate_ticket(kind, phone, compose(topics, text), case_number=case_number)
        applicant = (
            applicant_of(identity, draft.phone) if identity is not None and not identity.wiped else None
        )
        receipt = self.tickets.submit(draft, applicant)
        self._set_platform_status(receipt.state != "queued")
        return receipt

    def ticket_receipt_lines(self, r: ServiceReceipt) -> list[str]:
        from kiosk.receipts import ticket_lines

        return ticket_lines(self.cfg.kiosk, r)

    def my_tickets(self, identity: Identity) -> list[Ticket]:
        """我的诉求: the citizen's tickets with status and the department's reply (live)."""
        return self._platform(self.tickets.mine, identity.id_number)

    # --- 帮办代办 ----------------------------------------------------------------------------
    def assist_staff_id(self, signed_in_as: str | None) -> str | None:
        """The staff id a 帮办 filing carries for who is signed in: a [[staff]] badge's configured id, or a staff
        directory member's id; None for a bare badge of kiosk.staff_badges (it may sign in, not file 帮办)."""
        if not signed_in_as:
            return None
        configured = self.cfg.staff_id_of(signed_in_as)
        if configured:
            return configured
        return None if signed_in_as.upper() in self.cfg.kiosk.staff_badges else signed_in_as

    def assisted_by(self, assist: dict[str, str] | None, consent: bool) -> Assistant | None:
        """The filing's assistedBy (ValidationError names assistedBy.* as the platform would)."""
        from kiosk.assistance import assisted_filing

        return None if not assist else assisted_filing(assist["staff_id"], assist["mode"], consent)

    def audit_assist(self, assist: dict[str, str], action: str, **detail: object) -> None:
        """帮办 steps in the audit under the staff id (never the citizen's name or number)."""
        self.app.audit(f"staff:{assist['staff_id']}", f"assist.{action}", mode=assist["mode"], **detail)

    def bundle_form(self, code: str) -> BundleForm:
        return self.bundle_service.form(code)

    def submit_bundle(
        self,
        identity: Identity,
        code: str,
        values: dict[str, str],
        delivery_mode: str,
        *,
        mail: MailAddress | None = None,
        assisted_by: Assistant | None = None,
    ) -> ServiceReceipt:
        """SubmitBundle through the outbox (one receipt at once; the member case numbers when the platform answers)."""
        applicant = applicant_of(identity, values.get("phone"))
        receipt = self.bundle_service.submit(
            applicant, code, values, delivery_mode, mail_address=mail, assisted_by=assisted_by
        )
        self._set_platform_status(receipt.state != "queued")
        return receipt

    def bundle_receipt(self, request_id: int) -> ServiceReceipt:
        return self.bundle_service.receipt(request_id)
