"""Filing a matter, ``rt.filing``: what the kiosk offers (matters and 一件事 bundles, with the search index), each
one's guide and eligibility, the form's field checks, and filing an application or a bundle, also 帮办代办 by staff.

Named for the act rather than ``matters``: that was the runtime's own method (``matters()``), and the call-site
mapping (``notes/i16-map.py``) must never map a new name again. Each method may block, except
:meth:`FilingService.check_field` and :meth:`FilingService.offer_cached` (the UI calls those on its own thread).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Literal

from hallkiosk.services.core import Core
from kiosk import receipts
from kiosk.clock import local
from kiosk.identity import Identity, applicant_of
from kiosk.platform_models import Assistant, Bundle, FieldSpec, MailAddress, Matter

if TYPE_CHECKING:
    from kiosk.applications import Receipt
    from kiosk.bundles import BundleForm
    from kiosk.eligibility import Verdict
    from kiosk.guides import Guide
    from kiosk.matter_search import MatterIndex
    from kiosk.service_requests import ServiceReceipt

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


class FilingService:
    """What the matters, guide, form, review and bundle screens call."""

    def __init__(self, core: Core) -> None:
        self.core = core
        self._offer: MatterOffer | None = None  # one per catalog version: the matters screen's list and index
        self._offer_lock = threading.Lock()

    # --- what is offered ----------------------------------------------------------------------------------
    def matters(self) -> tuple[Matter, ...]:
        return self.core.parts.catalog.matters()

    def matter_offer(self) -> MatterOffer:
        """The catalog as the matters screen shows it; the search index is built once per catalog version."""
        from kiosk.matter_search import MatterIndex

        cat = self.core.parts.catalog.current()
        version = cat.version if cat is not None else ""
        with self._offer_lock:
            if self._offer is None or self._offer.version != version:
                matters = cat.matters if cat is not None else ()
                bundles = self.core.parts.bundles.bundles()
                self._offer = MatterOffer(
                    version=version, matters=matters, bundles=bundles, index=MatterIndex(matters, bundles)
                )
            return self._offer

    def offer_cached(self) -> MatterOffer | None:
        """The offer last built, without any I/O (safe on the UI thread); None before the first one."""
        return self._offer

    def guide_for(self, kind: Kind, code: str) -> Guide:
        """办事指南 for a matter or a bundle (ValidationError when the catalog no longer has it)."""
        from kiosk.guides import guide_of

        if kind == "bundle":
            return self.core.parts.bundles.guide(code)
        return guide_of(self.core.parts.catalog.matter(code))

    def eligibility_for(self, identity: Identity | None, kind: Kind, code: str) -> Verdict:
        """The platform's eligibility rule for the card on the reader, before a field is typed."""
        from kiosk.eligibility import ELIGIBLE, check_identity

        if identity is None or identity.wiped:
            return ELIGIBLE  # no card: the form asks for one before anything is filed
        if kind == "bundle":
            return self.core.parts.bundles.eligibility(code, applicant_of(identity))
        return check_identity(self.core.parts.catalog.matter(code), identity, self.core.app.clock.now())

    # --- one matter ---------------------------------------------------------------------------------------
    @staticmethod
    def check_field(spec: FieldSpec, value: str) -> None:
        """Local validation of one field (pure and fast: the UI calls it on its own thread)."""
        if spec.key == "delivery_mode":
            if value not in spec.choices:
                from kiosk.errors import ValidationError

                err = ValidationError("delivery mode not chosen", field=spec.key)
                err.citizen_key = "error.field_required"
                raise err
            return
        from kiosk.applications import validate_field

        validate_field(spec, value)

    def submit_application(
        self,
        identity: Identity,
        matter_code: str,
        fields: dict[str, str],
        delivery_mode: str,
        *,
        mail: MailAddress | None = None,
        assisted_by: Assistant | None = None,
    ) -> Receipt:
        applicant = applicant_of(identity, fields.get("phone"))
        receipt = self.core.parts.applications.submit(
            applicant, matter_code, fields, delivery_mode, mail_address=mail, assisted_by=assisted_by
        )
        self.core.set_platform_status(receipt.state != "queued")
        return receipt

    def receipt_lines_for_submission(self, r: Receipt) -> list[str]:
        return receipts.submission_lines(self.core.cfg.kiosk, r, local(self.core.app.clock, r.created_at))

    # --- 一件事 bundles -------------------------------------------------------------------------------------
    def bundle_form(self, code: str) -> BundleForm:
        return self.core.parts.bundles.form(code)

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
        receipt = self.core.parts.bundles.submit(
            applicant, code, values, delivery_mode, mail_address=mail, assisted_by=assisted_by
        )
        self.core.set_platform_status(receipt.state != "queued")
        return receipt

    def bundle_receipt(self, request_id: int) -> ServiceReceipt:
        return self.core.parts.bundles.receipt(request_id)

    # --- 帮办代办 ----------------------------------------------------------------------------------------
    def assist_staff_id(self, signed_in_as: str | None) -> str | None:
        """The staff id a 帮办 filing carries for who is signed in: a [[staff]] badge's configured id, or a staff
        directory member's id; None for a bare badge of kiosk.staff_badges (it may sign in, not file 帮办)."""
        if not signed_in_as:
            return None
        cfg = self.core.cfg
        configured = cfg.staff_id_of(signed_in_as)
        if configured:
            return configured
        return None if signed_in_as.upper() in cfg.kiosk.staff_badges else signed_in_as

    def assisted_by(self, assist: dict[str, str] | None, consent: bool) -> Assistant | None:
        """The filing's assistedBy (ValidationError names assistedBy.* as the platform would)."""
        from kiosk.assistance import assisted_filing

        return None if not assist else assisted_filing(assist["staff_id"], assist["mode"], consent)

    def audit_assist(self, assist: dict[str, str], action: str, **detail: object) -> None:
        """帮办 steps in the audit under the staff id (never the citizen's name or number)."""
        self.core.app.audit(f"staff:{assist['staff_id']}", f"assist.{action}", mode=assist["mode"], **detail)
