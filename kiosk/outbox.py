"""The outbox: platform calls that change something, written in the caller's transaction.

``enqueue`` is called inside the same transaction as the local change it
reports, so both commit or neither does. The sender (``kiosk.outbox_sender``)
delivers each row at least once, always with the row's ``request_id``; the
platform's idempotency makes that exactly once.

Payloads are the keyword arguments of the matching ``Platform`` port method
(without ``request_id``), JSON-ready: datetimes as ISO 8601 strings.
Sensitive payloads (an ID number, a pickup code) are sealed at rest.

States: ``pending`` (due at ``next_attempt_at``), ``sent`` (``result`` holds
the platform's answer; a sensitive payload is scrubbed), ``dead`` (the
platform rejected it or the sender gave up; ``last_error`` says why, staff see
it in ``kiosk outbox list`` and may ``kiosk outbox retry`` it) and
``cancelled`` (never sent because the local change it reported was undone,
e.g. a pickup SMS whose parcel left the cabinet: ``last_error`` says why, the
payload is scrubbed). A dead letter that leaves a person waiting (an SMS, a
filing, a delivery report, a low rating) also becomes a staff task: see
``kiosk.outbox_tasks``.

While a sender is sending a pending row, the row's ``result`` holds its lease
(``{"leased_until": ...}``): the sender claimed it and the call may be on the
wire, so nobody may cancel it (what the platform did with it would be lost).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import logging
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

from sqlalchemy import ColumnElement, func, select, true
from sqlalchemy.orm import Session

from kiosk.audit import append as audit_append
from kiosk.errors import KioskError, PlatformRejected
from kiosk.platform_models import Applicant, Assistant, Evaluation, HotlineTicket, MailAddress
from kiosk.ports import Platform
from kiosk.privacy import scrub
from kiosk.sealing import seal, unseal
from kiosk.storage.db import KIOSK_ID
from kiosk.storage.models import OutboxMessage, Parcel, Submission

Operation = Literal[
    "SubmitApplication",
    "ReportDelivery",
    "NotifyApplicant",
    "SubmitEvaluation",
    "SubmitBundle",
    "SubmitHotlineTicket",
    "ConfirmEvaluationReply",
]
OPERATIONS: tuple[str, ...] = (
    "SubmitApplication",
    "ReportDelivery",
    "NotifyApplicant",
    "SubmitEvaluation",
    "SubmitBundle",
    "SubmitHotlineTicket",
    "ConfirmEvaluationReply",
)  # the last 3: 1.1
PENDING, SENT, DEAD, CANCELLED = "pending", "sent", "dead", "cancelled"
# Held: not sent while its subject waits for a person (a pickup SMS for a parcel in attention); the sender takes
# only pending rows, so a held row waits until ``release_held`` makes it pending again, or is cancelled.
HELD = "held"
SCRUBBED: dict[str, Any] = {"scrubbed": True}
LEASE = "leased_until"  # the key of a claimed row's lease in ``result`` (a pending row has no answer to keep there)

log = logging.getLogger(__name__)


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
        state=PENDING,
        attempts=0,
        next_attempt_at=now,
        created_at=now,
        ref_kind=ref_kind,
        ref_id=ref_id,
        origin_kiosk=session.info.get(KIOSK_ID),  # only this kiosk's identity may send it
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


# Called in the outcome's transaction: (session, message, result or None, error or None).
RefHandler = Callable[[Session, OutboxMessage, dict[str, Any] | None, KioskError | None], None]


def call_platform(
    platform: Platform, operation: str, request_id: str, p: Mapping[str, Any]
) -> dict[str, Any]:
    """Make the port call an outbox payload describes; the answer as JSON values."""
    if operation == "SubmitApplication":
        res = platform.submit_application(
            request_id,
            Applicant(**p["applicant"]),
            p["matter_code"],
            dict(p.get("fields") or {}),
            p["delivery_mode"],
            **_extras(p),
        )
        return jsonable(res)
    if operation == "SubmitBundle":
        return jsonable(
            platform.submit_bundle(
                request_id,
                Applicant(**p["applicant"]),
                p["bundle_code"],
                dict(p.get("fields") or {}),
                p["delivery_mode"],
                **_extras(p),
            )
        )
    if operation == "SubmitHotlineTicket":
        t = dict(p["ticket"])
        t["applicant"] = Applicant(**t["applicant"]) if t.get("applicant") else None
        return jsonable(platform.submit_hotline_ticket(request_id, HotlineTicket(**t)))
    if operation == "ConfirmEvaluationReply":
        return jsonable(
            platform.confirm_evaluation_reply(
                request_id, p["evaluation_id"], bool(p["satisfied"]), p.get("comment")
            )
        )
    if operation == "ReportDelivery":
        ack = platform.report_delivery(
            request_id,
            p["case_number"],
            p["event"],
            p["cabinet_id"],
            p["compartment"],
            dt.datetime.fromisoformat(p["occurred_at"]),
        )
        return jsonable(ack)
    if operation == "NotifyApplicant":
        return jsonable(
            platform.notify_applicant(
                request_id, p["case_number"], p["template"], dict(p.get("params") or {})
            )
        )
    if operation == "SubmitEvaluation":
        ev = dict(p["evaluation"])
        ev["reasons"] = tuple(ev.get("reasons") or ())
        ev["applicant"] = Applicant(**ev["applicant"]) if ev.get("applicant") else None
        return {"evaluation_id": platform.submit_evaluation(request_id, Evaluation(**ev))}
    raise ValueError(f"not an outbox operation: {operation}")


def _extras(p: Mapping[str, Any]) -> dict[str, Any]:
    """A filing's 1.1 extras (only those present: a 1.0 payload has none, and a 1.0 client takes none)."""
    out: dict[str, Any] = {}
    if p.get("mail_address"):
        out["mail_address"] = MailAddress(**p["mail_address"])
    if p.get("assisted_by"):
        out["assisted_by"] = Assistant(**p["assisted_by"])
    return out


def submission_handler(
    session: Session, msg: OutboxMessage, result: dict[str, Any] | None, error: KioskError | None
) -> None:
    """ref_kind "submission": attach the case number, or record why it will not be filed."""
    sub = session.get(Submission, msg.ref_id)
    if sub is None:
        return
    if result is not None:
        sub.case_number = result.get("case_number")
        sub.promised_date = result.get("promised_date") or None
        sub.message = result.get("message")
        status = result.get("status")
        sub.state = "refused" if status == "REFUSED" else "approved" if status == "APPROVED" else "filed"
        sub.filed_at = msg.sent_at
    elif error is not None:
        sub.state = "failed"
        sub.message = reason_of(error)


def reason_of(err: BaseException) -> str:
    """One line saying why an attempt failed (a platform fault's code and field first)."""
    if isinstance(err, PlatformRejected):
        return f"{err.code}: {err.platform_message}" + (f" (field {err.field})" if err.field else "")
    return getattr(err, "message", None) or f"{type(err).__name__}: {err}"


def jsonable(value: Any) -> Any:
    """A dataclass result (dates, Decimals, tuples) as plain JSON values, for ``OutboxMessage.result``."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


# --- staff views -------------------------------------------------------------
def of_kiosk(origin: str | None) -> ColumnElement[bool]:
    """The rows one kiosk queued (None: rows of no known kiosk, queued through a handle without a kiosk id)."""
    return OutboxMessage.origin_kiosk.is_(None) if origin is None else OutboxMessage.origin_kiosk == origin


def _scope(session: Session, all_kiosks: bool) -> ColumnElement[bool]:
    return true() if all_kiosks else of_kiosk(session.info.get(KIOSK_ID))


def list_messages(
    session: Session, *, include_sent: bool = False, limit: int = 200, all_kiosks: bool = False
) -> list[OutboxMessage]:
    """Rows for staff, oldest first: pending and dead ones, plus the newest sent and cancelled ones with ``include_sent``.

    This kiosk's rows (the session's kiosk id), or every kiosk's on a shared database with ``all_kiosks``."""
    q = select(OutboxMessage).where(_scope(session, all_kiosks))
    if not include_sent:  # cancelled rows wait for nothing either
        q = q.where(OutboxMessage.state.not_in((SENT, CANCELLED)))
    rows = session.execute(q.order_by(OutboxMessage.id.desc()).limit(limit)).scalars().all()
    return list(reversed(rows))


def counts(session: Session, *, all_kiosks: bool = False) -> dict[str, int]:
    """Number of rows per state: this kiosk's, or every kiosk's."""
    q = (
        select(OutboxMessage.state, func.count())
        .where(_scope(session, all_kiosks))
        .group_by(OutboxMessage.state)
    )
    return {state: n for state, n in session.execute(q).all()}


@dataclasses.dataclass(frozen=True)
class KioskBacklog:
    """What one kiosk has left in the outbox: waiting rows, dead letters, the oldest waiting row's age."""

    kiosk: str | None  # None: rows of no known kiosk
    pending: int
    dead: int
    oldest_pending_at: dt.datetime | None

    def oldest_age_s(self, now: dt.datetime) -> float | None:
        return (
            None
            if self.oldest_pending_at is None
            else max(0.0, (now - self.oldest_pending_at).total_seconds())
        )

    def as_json(self, now: dt.datetime) -> dict[str, Any]:
        age = self.oldest_age_s(now)
        return {
            "kiosk": self.kiosk,
            "pending": self.pending,
            "dead": self.dead,
            "oldest_pending_at": self.oldest_pending_at.isoformat() if self.oldest_pending_at else None,
            "oldest_age_s": None if age is None else round(age, 1),
        }


def backlog_by_kiosk(session: Session) -> list[KioskBacklog]:
    """Every kiosk with pending or dead rows on this database, by kiosk id (one grouped query)."""
    t = OutboxMessage
    q = (
        select(t.origin_kiosk, t.state, func.count(), func.min(t.created_at))
        .where(t.state.in_((PENDING, DEAD)))
        .group_by(t.origin_kiosk, t.state)
    )
    acc: dict[str | None, dict[str, Any]] = {}
    for kiosk, state, n, oldest in session.execute(q).all():
        row = acc.setdefault(kiosk, {PENDING: 0, DEAD: 0, "oldest": None})
        row[state] = n
        if state == PENDING:
            row["oldest"] = _aware(oldest)
    return [
        KioskBacklog(kiosk=k, pending=v[PENDING], dead=v[DEAD], oldest_pending_at=v["oldest"])
        for k, v in sorted(acc.items(), key=lambda kv: kv[0] or "")
    ]


def waiting_of(session: Session, origin: str | None, limit: int = 200) -> list[OutboxMessage]:
    """One kiosk's pending and dead rows, oldest first (the hall console's platform page)."""
    q = (
        select(OutboxMessage)
        .where(of_kiosk(origin), OutboxMessage.state.in_((PENDING, DEAD)))
        .order_by(OutboxMessage.id)
        .limit(limit)
    )
    return list(session.execute(q).scalars().all())


def _aware(value: Any) -> dt.datetime | None:
    """A MIN() over a timestamp column: SQLite hands back naive text, the column type is bypassed."""
    if value is None or (isinstance(value, dt.datetime) and value.tzinfo is not None):
        return value
    when = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))
    return when.replace(tzinfo=dt.UTC)


def describe(msg: OutboxMessage) -> dict[str, Any]:
    """One row as staff may see it: never the payload, errors scrubbed of ID numbers."""
    return {
        "id": msg.id,
        "operation": msg.operation,
        "state": msg.state,
        "attempts": msg.attempts,
        "next_attempt_at": msg.next_attempt_at.isoformat() if msg.state == PENDING else None,
        "created_at": msg.created_at.isoformat(),
        "sent_at": msg.sent_at.isoformat() if msg.sent_at else None,
        "request_id": msg.request_id,
        "ref": f"{msg.ref_kind}:{msg.ref_id}" if msg.ref_kind else None,
        "last_error": scrub(msg.last_error) if msg.last_error else None,
        "sealed": bool(msg.sensitive and msg.payload.get("sealed")),
        "kiosk": msg.origin_kiosk,
    }


def retry(session: Session, now: dt.datetime, message_id: int, *, actor: str) -> OutboxMessage:
    """Put a dead or pending row back in the queue, due now, with a fresh attempt budget (audited)."""
    msg = session.get(OutboxMessage, message_id, with_for_update=True)
    if msg is None:
        raise LookupError(f"no outbox message {message_id}")
    if msg.state == SENT:
        raise ValueError(f"outbox message {message_id} was already delivered; nothing to retry")
    if msg.state == CANCELLED:
        raise ValueError(f"outbox message {message_id} was cancelled ({msg.last_error}); nothing to retry")
    if msg.sensitive and not msg.payload.get("sealed"):
        raise ValueError(f"outbox message {message_id} has no payload left to send")
    before = msg.state
    msg.state = PENDING
    msg.attempts = 0
    msg.next_attempt_at = now
    audit_append(session, now, actor, "outbox.retry", f"outbox:{msg.id}", operation=msg.operation, was=before)
    return msg


def lease_of(until: dt.datetime) -> dict[str, str]:
    """The ``result`` value that marks a pending row claimed by a sender until ``until``."""
    return {LEASE: until.isoformat()}


def in_flight(msg: OutboxMessage, now: dt.datetime) -> bool:
    """A sender claimed this pending row and its lease has not run out: the call may be on the wire right now."""
    until = msg.result.get(LEASE) if msg.state == PENDING and isinstance(msg.result, dict) else None
    try:
        return until is not None and dt.datetime.fromisoformat(str(until)) > now
    except ValueError:
        return False  # not a lease we wrote: no sender holds it


def cancel(session: Session, now: dt.datetime, msg: OutboxMessage, reason: str, *, actor: str) -> None:
    """Mark one pending row cancelled: never sent, its sealed personal data gone, the reason kept (audited)."""
    msg.state = CANCELLED
    msg.last_error = f"cancelled: {reason}"
    msg.result = None
    if msg.sensitive:
        msg.payload = dict(SCRUBBED)  # a pickup code that will never be sent has no reason to stay
    audit_append(
        session,
        now,
        actor,
        "outbox.cancelled",
        f"outbox:{msg.id}",
        operation=msg.operation,
        reason=reason,
        ref=f"{msg.ref_kind}:{msg.ref_id}" if msg.ref_kind else None,
    )
    log.info("outbox %d %s cancelled: %s", msg.id, msg.operation, reason)


def cancel_pending(
    session: Session,
    now: dt.datetime,
    ref_kind: str,
    ref_id: int,
    operation: Operation,
    reason: str,
    *,
    actor: str,
) -> list[int]:
    """Cancel the not-yet-sent ``operation`` rows about one local row, in the caller's transaction; their ids.

    Left alone: rows already sent, dead or cancelled, and a row a sender is sending right now (``in_flight``):
    cancelling it could not stop the call, only lose its answer. Should that attempt fail, the sender cancels the
    row before trying again (see ``moot``); the same covers a row a sender has locked at this very moment, which
    PostgreSQL's SKIP LOCKED passes over rather than waiting on it (a caller holding the audit lock would
    deadlock with a sender recording an outcome)."""
    q = (
        select(OutboxMessage)
        .where(
            OutboxMessage.ref_kind == ref_kind,
            OutboxMessage.ref_id == ref_id,
            OutboxMessage.operation == operation,
            OutboxMessage.state.in_((PENDING, HELD)),
        )
        .order_by(OutboxMessage.id)
        .with_for_update(skip_locked=True, key_share=True)
    )
    done: list[int] = []
    for msg in session.execute(q).scalars():
        if in_flight(msg, now):
            log.info(
                "outbox %d %s is being sent right now: not cancelled (%s)", msg.id, msg.operation, reason
            )
            continue
        cancel(session, now, msg, reason, actor=actor)
        done.append(msg.id)
    return done


def hold_pending(
    session: Session,
    now: dt.datetime,
    ref_kind: str,
    ref_id: int,
    operation: Operation,
    reason: str,
    *,
    actor: str,
) -> list[int]:
    """Hold the not-yet-sent ``operation`` rows about one local row (audited); their ids. A row being sent right now
    is left to finish, as in ``cancel_pending``."""
    q = (
        select(OutboxMessage)
        .where(
            OutboxMessage.ref_kind == ref_kind,
            OutboxMessage.ref_id == ref_id,
            OutboxMessage.operation == operation,
            OutboxMessage.state == PENDING,
        )
        .order_by(OutboxMessage.id)
        .with_for_update(skip_locked=True, key_share=True)
    )
    done: list[int] = []
    for msg in session.execute(q).scalars():
        if in_flight(msg, now):
            continue
        msg.state = HELD
        audit_append(
            session,
            now,
            actor,
            "outbox.held",
            f"outbox:{msg.id}",
            operation=msg.operation,
            reason=reason,
            ref=f"{ref_kind}:{ref_id}",
        )
        done.append(msg.id)
    return done


def release_held(
    session: Session,
    now: dt.datetime,
    ref_kind: str,
    ref_id: int,
    operation: Operation,
    reason: str,
    *,
    actor: str,
) -> list[int]:
    """Make held ``operation`` rows about one local row pending again, due now (audited); their ids."""
    q = (
        select(OutboxMessage)
        .where(
            OutboxMessage.ref_kind == ref_kind,
            OutboxMessage.ref_id == ref_id,
            OutboxMessage.operation == operation,
            OutboxMessage.state == HELD,
        )
        .order_by(OutboxMessage.id)
        .with_for_update()
    )
    done: list[int] = []
    for msg in session.execute(q).scalars():
        msg.state = PENDING
        msg.next_attempt_at = now
        audit_append(
            session,
            now,
            actor,
            "outbox.released",
            f"outbox:{msg.id}",
            operation=msg.operation,
            reason=reason,
            ref=f"{ref_kind}:{ref_id}",
        )
        done.append(msg.id)
    return done


def moot(session: Session, rows: Sequence[tuple[int, str, str | None, int | None]]) -> dict[int, str]:
    """Which claimed rows (id, operation, ref_kind, ref_id) must not go out any more, and why.

    A pickup SMS whose parcel has left the cabinet would send a dead code: normally ``cancel_pending`` caught it
    when the parcel left; this catches one that was being sent then and must now be tried again."""
    parcels = {
        ref for _id, op, kind, ref in rows if op == "NotifyApplicant" and kind == "parcel" and ref is not None
    }
    if not parcels:
        return {}
    gone = dict(
        session.execute(
            select(Parcel.id, Parcel.state).where(Parcel.id.in_(parcels), Parcel.finished_at.is_not(None))
        )
        .tuples()
        .all()
    )
    return {
        mid: f"parcel {ref} is {gone[ref]}: the pickup code it carries is dead"
        for mid, op, kind, ref in rows
        if op == "NotifyApplicant" and kind == "parcel" and ref in gone
    }


def purge_dead(session: Session, now: dt.datetime, older_than: dt.timedelta, *, actor: str) -> list[int]:
    """Scrub the sealed payloads of dead rows older than ``older_than`` (personal data kept no longer than needed).

    The row itself stays, so staff still see that something was never delivered and why.
    """
    rows = (
        session.execute(
            select(OutboxMessage).where(
                OutboxMessage.state == DEAD,
                OutboxMessage.sensitive.is_(True),
                OutboxMessage.created_at < now - older_than,
            )
        )
        .scalars()
        .all()
    )
    purged = [m.id for m in rows if m.payload.get("sealed")]
    for m in rows:
        m.payload = dict(SCRUBBED)
    if purged:
        audit_append(
            session, now, actor, "outbox.purge", "outbox", ids=purged, older_than_days=older_than.days
        )
    return purged


def next_due(session: Session, origin: str | None) -> dt.datetime | None:
    """When the earliest pending row of kiosk ``origin`` falls due (None: nothing pending)."""
    q = select(func.min(OutboxMessage.next_attempt_at)).where(
        OutboxMessage.state == PENDING, of_kiosk(origin)
    )
    return _aware(session.execute(q).scalar_one_or_none())


def by_ref(session: Session, ref_kind: str, ref_ids: Sequence[int]) -> list[OutboxMessage]:
    """The messages that report on the given local rows."""
    q = select(OutboxMessage).where(
        OutboxMessage.ref_kind == ref_kind, OutboxMessage.ref_id.in_(list(ref_ids))
    )
    return list(session.execute(q.order_by(OutboxMessage.id)).scalars())
