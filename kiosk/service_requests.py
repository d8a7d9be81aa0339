"""Receipts for what a citizen sends through the outbox besides a simple application (interface 1.1).

A 一件事 bundle, a 12345 ticket, a rating and the answer to a department's reply
each get a local row (:class:`~kiosk.storage.models.ServiceRequest`) in the
same transaction as their outbox message, so the citizen always leaves with a
receipt number, at once, platform up or down. The outbox's ref handler
(``ref_kind`` ``service_request``) fills in the platform's answer when it
comes: the bundle number and every member case number, the ticket number and
the promised reply days, the evaluation id. A refusal or a dead letter marks
the row, and the staff task the outbox raises names the receipt.

The row keeps no personal data: the applicant as keyed hash and masked number,
never the address, the ticket's text or a comment (those ride sealed in the
outbox payload and are scrubbed once sent).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from kiosk.errors import KioskError, PlatformRejected
from kiosk.storage.db import Database
from kiosk.storage.models import OutboxMessage, ServiceRequest

if TYPE_CHECKING:
    from kiosk.outbox_sender import OutboxSender

Kind = Literal["bundle", "ticket", "rating", "confirmation"]
PREFIX: dict[str, str] = {"bundle": "B", "ticket": "T", "rating": "E", "confirmation": "C"}
REF_KIND = "service_request"
QUEUED, DONE, REFUSED, FAILED = "queued", "done", "refused", "failed"


@dataclass(frozen=True)
class ServiceReceipt:
    """What the citizen is given, and later what the platform answered (``reference``, ``detail``)."""

    id: int
    receipt_number: str
    kind: str
    state: str  # queued / done / refused / failed
    created_at: dt.datetime
    subject_code: str | None = None
    subject_name: str | None = None
    applicant_id_masked: str | None = None
    reference: str | None = None  # bundle number, ticket number, evaluation id
    detail: dict[str, Any] = field(default_factory=dict)
    message: str | None = None
    outbox_id: int | None = None

    @property
    def text_key(self) -> str:
        """The receipt's headline in the UI's catalogue: ``receipt.<kind>.<state>``."""
        return f"receipt.{self.kind}.{self.state}"


def create(
    session: Session,
    now: dt.datetime,
    kind: Kind,
    *,
    subject_code: str | None = None,
    subject_name: str | None = None,
    applicant_id_hash: str | None = None,
    applicant_id_masked: str | None = None,
) -> ServiceRequest:
    """A queued row with a fresh receipt number, in the caller's transaction (with its outbox message)."""
    from kiosk.applications import new_receipt_number

    row = ServiceRequest(
        receipt_number=new_receipt_number(now, PREFIX[kind]),
        kind=kind,
        subject_code=subject_code,
        subject_name=subject_name,
        applicant_id_hash=applicant_id_hash,
        applicant_id_masked=applicant_id_masked,
        state=QUEUED,
        detail={},
        created_at=now,
    )
    session.add(row)
    session.flush()
    return row


def view(row: ServiceRequest, outbox_id: int | None = None) -> ServiceReceipt:
    return ServiceReceipt(
        id=row.id,
        receipt_number=row.receipt_number,
        kind=row.kind,
        state=row.state,
        created_at=row.created_at,
        subject_code=row.subject_code,
        subject_name=row.subject_name,
        applicant_id_masked=row.applicant_id_masked,
        reference=row.reference,
        detail=dict(row.detail or {}),
        message=row.message,
        outbox_id=outbox_id,
    )


def load(session: Session, request_id: int) -> ServiceReceipt:
    return view(_row(session, request_id))


def of_applicant(session: Session, id_hash: str, limit: int = 50) -> list[ServiceReceipt]:
    """A citizen's receipts at this kiosk, newest first (for "queued, not answered yet" lines on their lists)."""
    q = (
        select(ServiceRequest)
        .where(ServiceRequest.applicant_id_hash == id_hash)
        .order_by(ServiceRequest.id.desc())
        .limit(limit)
    )
    return [view(r) for r in session.execute(q).scalars()]


def send(
    db: Database, sender: OutboxSender | None, row_id: int, msg_id: int, *, send_now: bool
) -> ServiceReceipt:
    """The fast path after queueing: try at once (the citizen waits, bounded by the client's timeout); a refusal
    raises as the form shows it (a field, or NotEligible); anything else waits in the outbox. The receipt as it
    stands then."""
    from kiosk.applications import filing_error

    if sender is not None:
        if send_now:
            d = sender.send_now(msg_id)
            if d.outcome == "dead" and isinstance(d.error, PlatformRejected):
                raise filing_error(d.error) from d.error
        sender.poke()
    with db.transaction() as s:
        return view(_row(s, row_id), msg_id)


def _row(session: Session, request_id: int) -> ServiceRequest:
    row = session.get(ServiceRequest, request_id)
    if row is None:
        raise LookupError(f"no service request {request_id}")
    return row


def _answer(kind: str, result: dict[str, Any]) -> tuple[str | None, dict[str, Any], str | None]:
    """(reference, detail, message) from the platform's answer, as the outbox stored it."""
    if kind == "bundle":
        cases = [
            {k: c.get(k) for k in ("case_number", "matter_code", "status", "promised_date")}
            for c in result.get("cases") or ()
        ]
        return (
            result.get("bundle_number"),
            {"cases": cases, "accepted_at": result.get("accepted_at")},
            result.get("message"),
        )
    if kind == "ticket":
        return (
            result.get("ticket_number"),
            {
                "promised_reply_days": result.get("promised_reply_days"),
                "accepted_at": result.get("accepted_at"),
            },
            None,
        )
    if kind == "rating":
        return result.get("evaluation_id"), {}, None
    return None, {"received_at": result.get("received_at")}, None  # confirmation: an ack


def handler(
    session: Session, msg: OutboxMessage, result: dict[str, Any] | None, error: KioskError | None
) -> None:
    """The outbox's ref handler for ``service_request`` rows: the answer, or why there is none."""
    from kiosk.outbox import reason_of

    row = session.get(ServiceRequest, msg.ref_id)
    if row is None:
        return
    if result is not None:
        row.reference, row.detail, row.message = _answer(row.kind, result)
        row.state = DONE
        row.done_at = msg.sent_at
    elif error is not None:
        row.state = REFUSED if isinstance(error, PlatformRejected) else FAILED
        row.message = reason_of(error)
