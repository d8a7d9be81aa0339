"""What a citizen says back, ``rt.feedback``: 好差评 ratings (and the answer to a department's reply) and 12345
hotline tickets, each through the outbox, and the citizen's own lists of both.

Named for what it is about rather than ``ratings``/``tickets``: the core's ``TicketService`` is already
``rt.parts.tickets``, and the call-site mapping (``notes/i16-map.py``) must never map a new name again.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from hallkiosk.services.core import Core
from kiosk.identity import Identity, applicant_of
from kiosk.platform_models import EvaluationSummary, Ticket

if TYPE_CHECKING:
    from kiosk.evaluations import EvaluationQueued
    from kiosk.service_requests import ServiceReceipt


class FeedbackService:
    """What the rate, my-ratings, hotline and my-tickets screens call (each may block)."""

    def __init__(self, core: Core) -> None:
        self.core = core

    # --- 好差评 -----------------------------------------------------------------------------------------------
    def rate(
        self,
        rating: int,
        reasons: Sequence[str],
        *,
        case_number: str | None = None,
        matter_code: str | None = None,
        parcel_id: int | None = None,
        identity: Identity | None = None,
    ) -> EvaluationQueued:
        """好差评 through the outbox; ``identity`` None: anonymous (the citizen's choice on screen)."""
        if not case_number and not matter_code and parcel_id is not None:
            from kiosk.cabinet_views import subject_of_parcel

            case_number, matter_code = subject_of_parcel(self.core.app.db, parcel_id)
        # Neither case nor matter: a rating of the self-service itself (interface 1.1 sends it so; a made-up
        # matter code is in no catalogue and was refused and dropped).
        applicant = applicant_of(identity) if identity is not None and not identity.wiped else None
        return self.core.parts.evaluations.submit(
            rating, case_number=case_number, matter_code=matter_code, reasons=reasons, applicant=applicant
        )

    def ratings_anonymous_only(self) -> bool:
        """A kiosk pinned to interface 1.0 sends every rating anonymously (the rate screen says so)."""
        return self.core.cfg.platform.interface_version != "1.1"

    def my_ratings(self, identity: Identity) -> list[EvaluationSummary]:
        """我的评价: the citizen's identified ratings with status and reply (live; QueryUnavailable when down)."""
        return self.core.platform_call(self.core.parts.evaluations.mine, identity.id_number)

    def confirm_reply(self, identity: Identity, listed: EvaluationSummary, satisfied: bool) -> ServiceReceipt:
        """The citizen's answer to a department's reply to a 差评 (ConfirmEvaluationReply through the outbox)."""
        return self.core.parts.evaluations.confirm(listed, satisfied, applicant=applicant_of(identity))

    # --- 12345 --------------------------------------------------------------------------------------------
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
        receipt = self.core.parts.tickets.submit(draft, applicant)
        self.core.set_platform_status(receipt.state != "queued")
        return receipt

    def ticket_receipt_lines(self, r: ServiceReceipt) -> list[str]:
        from kiosk.receipts import ticket_lines

        return ticket_lines(self.core.cfg.kiosk, r)

    def my_tickets(self, identity: Identity) -> list[Ticket]:
        """我的诉求: the citizen's tickets with status and the department's reply (live)."""
        return self.core.platform_call(self.core.parts.tickets.mine, identity.id_number)
