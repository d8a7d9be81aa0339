"""The outbox: platform calls that change something, written in the caller's transaction.

``enqueue`` is called inside the same transaction as the local change it
reports, so both commit or neither does. The sender (``kiosk.outbox_sender``)
delivers each row at least once, always with the row's ``request_id``; the
platform's idempotency makes that exactly once.

Payloads are the keyword arguments of the matching ``Platform`` port method
(without ``request_id``), JSON-ready: datetimes as ISO 8601 strings.
Sensitive payloads (an ID number, a pickup code) are sealed at rest.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Literal

from sqlalchemy.orm import Session

from kiosk.sealing import seal, unseal
from kiosk.storage.models import OutboxMessage

Operation = Literal["SubmitApplication", "ReportDelivery", "NotifyApplicant", "SubmitEvaluation"]
OPERATIONS: tuple[str, ...] = ("SubmitApplication", "ReportDelivery", "NotifyApplicant", "SubmitEvaluation")


def enqueue(
    session: Session,
    now: dt.datetime,
    operation: Operation,
    payload: dict[str, Any],
    *,
    secret: bytes | None = None,
    sensitive: bool = False,
    ref_kind: str | None = None,
    ref_id: int | None = None,
    request_id: str | None = None,
) -> OutboxMessage:
    """Add one message; ``secret`` is required when ``sensitive``."""
    if operation not in OPERATIONS:
        raise ValueError(f"not an outbox operation: {operation}")
    if sensitive:
        if secret is None:
            raise ValueError("a sensitive payload needs the kiosk secret to be sealed")
        stored: dict[str, Any] = {"sealed": seal(secret, payload)}
    else:
        stored = payload
    msg = OutboxMessage(
        request_id=request_id or str(uuid.uuid4()),
        operation=operation,
        payload=stored,
        sensitive=sensitive,
        state="pending",
        attempts=0,
        next_attempt_at=now,
        created_at=now,
        ref_kind=ref_kind,
        ref_id=ref_id,
    )
    session.add(msg)
    session.flush()
    return msg


def payload_of(msg: OutboxMessage, secret: bytes) -> dict[str, Any]:
    """The call's arguments, unsealed where needed."""
    if msg.sensitive:
        token = msg.payload.get("sealed")
        if not token:
            raise ValueError(f"outbox message {msg.id} was already scrubbed")
        return unseal(secret, token)
    return dict(msg.payload)
