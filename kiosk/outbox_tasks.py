"""Staff tasks for dead letters that leave a person waiting.

A dead ``NotifyApplicant`` means the citizen never learns that a result waits
in the cabinet; a dead queued ``SubmitApplication`` leaves a citizen holding a
receipt that says "will be filed"; a dead ``ReportDelivery`` leaves the case
in the wrong state on the platform (and in the citizen's app); a dead low
rating (好差评 1-2) is a complaint nobody follows up. ``kiosk outbox list`` and
the diagnostics show dead letters to technicians, but staff work from the task
list (``StaffTask`` rows, the staff screen and ``kiosk cabinet tasks``), so each
of these becomes a task there saying what failed, the platform's reason and
what to do.

The text names the case or receipt number, never an ID number, a name, a phone
number, a free-text comment or a pickup code. Each task ends with
``[outbox N]``: that ties it to its message (so a retry that dies again updates
it, and one that gets through closes it) and tells staff which message
``kiosk outbox retry`` takes.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kiosk.audit import append as audit_append
from kiosk.errors import KioskError, PlatformRejected
from kiosk.evaluations import LOW_RATING
from kiosk.outbox import payload_of
from kiosk.privacy import PLATFORM_REASON
from kiosk.storage.models import Compartment, OutboxMessage, Parcel, StaffTask, Submission

log = logging.getLogger(__name__)

TASK_SMS_NOT_SENT = "sms_not_sent"
TASK_APPLICATION_NOT_FILED = "application_not_filed"
TASK_DELIVERY_NOT_REPORTED = "delivery_not_reported"
TASK_RATING_NOT_DELIVERED = "rating_not_delivered"
# interface 1.1
TASK_BUNDLE_NOT_FILED = "bundle_not_filed"
TASK_TICKET_NOT_DELIVERED = "ticket_not_delivered"
TASK_CONFIRMATION_NOT_DELIVERED = "confirmation_not_delivered"
TASK_KINDS: tuple[str, ...] = (
    TASK_SMS_NOT_SENT,
    TASK_APPLICATION_NOT_FILED,
    TASK_DELIVERY_NOT_REPORTED,
    TASK_RATING_NOT_DELIVERED,
    TASK_BUNDLE_NOT_FILED,
    TASK_TICKET_NOT_DELIVERED,
    TASK_CONFIRMATION_NOT_DELIVERED,
)

_EVENTS = {
    "DEPOSITED": (
        "that the result of case {case} was put in {where}",
        "the case does not show as ready for pickup",
    ),
    "PICKED_UP": (
        "that the result of case {case} was picked up from {where}",
        "the case does not show as delivered",
    ),
    "RETURNED_TO_CENTRE": (
        "that the result of case {case} was taken back from {where} to the centre",
        "the case still shows the result in the cabinet",
    ),
    "DROPOFF_RECEIVED": (
        "that materials dropped off for case {case} were collected from {where}",
        "the case does not show the materials as received",
    ),
}


@dataclass(frozen=True)
class _Text:
    kind: str
    detail: str
    parcel_id: int | None = None
    compartment_id: int | None = None


def marker(message_id: int) -> str:
    """The tag that ends a task's detail and ties it to its outbox message."""
    return f"[outbox {message_id}]"


def on_dead(
    session: Session,
    now: dt.datetime,
    msg: OutboxMessage,
    reason: str,
    err: KioskError | None,
    secret: bytes,
    *,
    actor: str,
) -> StaffTask | None:
    """Raise (or, for a retry that died again, update) the staff task a dead letter needs; None: nobody waits on it."""
    # A refusal is final (retrying sends the same request and gets the same answer); anything else may pass later.
    final = err is None or isinstance(err, PlatformRejected)
    text = _describe(session, msg, PLATFORM_REASON(reason), final, secret)
    return None if text is None else _raise(session, now, msg, text, actor)


def on_sent(
    session: Session,
    now: dt.datetime,
    msg: OutboxMessage,
    result: dict[str, Any],
    *,
    was_failing: bool,
    secret: bytes,
    actor: str,
) -> None:
    """After a delivery: close the task of a dead letter that got through on retry; raise one for an SMS not sent."""
    if msg.operation == "NotifyApplicant" and result.get("accepted") is False:
        # Taken, but the gateway will not text anyone (the case has no mobile number): the same harm as a refusal.
        reason = "the platform took it but sent no SMS: accepted=false, no mobile number on the case?"
        text = _describe(session, msg, reason, True, secret)
        if text is not None:
            _raise(session, now, msg, text, actor)
        return
    if not was_failing:  # only rows that failed before can have a task: a first-time success costs no query
        return
    task = _open_task(session, msg.id)
    if task is not None:
        task.detail = f"{task.detail} Delivered on retry at {now:%Y-%m-%d %H:%M} UTC; nothing left to do."
        task.resolved_at = now
        task.resolved_by = actor
        audit_append(
            session,
            now,
            actor,
            "outbox.task_resolved",
            f"task {task.id}",
            kind=task.kind,
            outbox=msg.id,
            operation=msg.operation,
        )
        log.info("outbox %d delivered on retry: staff task %d closed", msg.id, task.id)


def _raise(session: Session, now: dt.datetime, msg: OutboxMessage, text: _Text, actor: str) -> StaffTask:
    detail = f"{text.detail} {marker(msg.id)}"
    task = _open_task(session, msg.id)
    if task is not None:  # retried by staff and dead again: one task with the latest reason, not two
        task.detail = detail
        audit_append(
            session, now, actor, "outbox.task_updated", f"task {task.id}", kind=task.kind, outbox=msg.id
        )
        return task
    task = StaffTask(
        kind=text.kind,
        detail=detail,
        parcel_id=text.parcel_id,
        compartment_id=text.compartment_id,
        created_at=now,
    )
    session.add(task)
    session.flush()  # for its id, in the audit record
    audit_append(
        session,
        now,
        actor,
        "outbox.task_raised",
        f"task {task.id}",
        kind=text.kind,
        outbox=msg.id,
        operation=msg.operation,
    )
    log.warning("outbox %d %s: staff task %d raised (%s)", msg.id, msg.operation, task.id, text.kind)
    return task


def _open_task(session: Session, message_id: int) -> StaffTask | None:
    q = select(StaffTask).where(
        StaffTask.kind.in_(TASK_KINDS),
        StaffTask.resolved_at.is_(None),
        StaffTask.detail.endswith(marker(message_id), autoescape=True),
    )
    return session.execute(q.order_by(StaffTask.id)).scalars().first()


def _describe(session: Session, msg: OutboxMessage, reason: str, final: bool, secret: bytes) -> _Text | None:
    retry = (
        ""
        if final
        else f" If the platform is reachable again, `kiosk outbox retry {msg.id}` sends the same "
        "request once more (the platform never acts on it twice)."
    )
    if msg.operation == "NotifyApplicant":
        return _sms(session, msg, reason, retry)
    if msg.operation == "SubmitApplication":
        return _application(session, msg, reason, retry)
    if msg.operation == "ReportDelivery":
        return _report(session, msg, reason, retry)
    if msg.operation == "SubmitEvaluation":
        return _rating(msg, reason, retry, secret)
    if msg.operation in _SERVICE_TASKS:
        return _service_request(session, msg, reason, retry)
    return None


def _parcel(session: Session, msg: OutboxMessage) -> tuple[Parcel | None, str | None]:
    parcel = session.get(Parcel, msg.ref_id) if msg.ref_kind == "parcel" and msg.ref_id is not None else None
    comp = (
        session.get(Compartment, parcel.compartment_id)
        if parcel is not None and parcel.compartment_id
        else None
    )
    return parcel, comp.label if comp is not None else None


def _sms(session: Session, msg: OutboxMessage, reason: str, retry: str) -> _Text | None:
    if not msg.sensitive and (msg.payload or {}).get("template") == "PICKUP_REMINDER":
        return None  # the code itself reached the applicant; an overdue result shows on the staff list anyway
    parcel, label = _parcel(session, msg)
    if parcel is not None and parcel.finished_at is not None:
        return None  # picked up (by ID card) or taken back meanwhile: nobody waits for this text any more
    case = parcel.case_number if parcel is not None and parcel.case_number else "(unknown case)"
    where = f" in compartment {label}" if label else ""
    card = (
        " They can also pick it up at the cabinet with their ID card, no code needed."
        if parcel is not None and parcel.owner_id_hash
        else ""
    )
    detail = (
        f"Pickup SMS not sent: the result of case {case} waits{where}, but the platform did not text the "
        f"applicant the pickup code ({reason}), so they do not know. Ask the platform desk to tell the applicant "
        f"the result is ready, or take it out (Collect) and hand it over at the desk.{card}{retry}"
    )
    return _Text(
        kind=TASK_SMS_NOT_SENT,
        detail=detail,
        parcel_id=parcel.id if parcel else None,
        compartment_id=parcel.compartment_id if parcel else None,
    )


def _application(session: Session, msg: OutboxMessage, reason: str, retry: str) -> _Text:
    sub = (
        session.get(Submission, msg.ref_id)
        if msg.ref_kind == "submission" and msg.ref_id is not None
        else None
    )
    if sub is None:
        what, receipt = "an application queued at the kiosk", "(none on record)"
    else:
        what = f"application {sub.matter_code} ({sub.matter_name}) queued at the kiosk on {sub.created_at:%Y-%m-%d}"
        receipt = sub.receipt_number
    detail = (
        f"Application not filed: {what} never reached the platform ({reason}), though its receipt says it "
        f"will be filed. File it at the counter: the citizen holds receipt {receipt}.{retry}"
    )
    return _Text(kind=TASK_APPLICATION_NOT_FILED, detail=detail)


def _report(session: Session, msg: OutboxMessage, reason: str, retry: str) -> _Text:
    p = msg.payload if not msg.sensitive else {}
    parcel, label = _parcel(session, msg)
    case = p.get("case_number") or (parcel.case_number if parcel is not None else None) or "(unknown case)"
    where = f"compartment {p.get('compartment') or label or '?'} of cabinet {p.get('cabinet_id') or '?'}"
    told, harm = _EVENTS.get(
        str(p.get("event")), ("about case {case} ({where})", "its case status is out of date")
    )
    detail = (
        f"Delivery not reported: the platform was not told {told.format(case=case, where=where)} ({reason}), "
        f"so {harm} for the applicant. Record it in the platform's desk system.{retry}"
    )
    return _Text(
        kind=TASK_DELIVERY_NOT_REPORTED,
        detail=detail,
        parcel_id=parcel.id if parcel else None,
        compartment_id=parcel.compartment_id if parcel else None,
    )


def _rating(msg: OutboxMessage, reason: str, retry: str, secret: bytes) -> _Text | None:
    try:
        ev = dict(payload_of(msg, secret).get("evaluation") or {})
    except (KioskError, ValueError, KeyError, TypeError):
        return None  # scrubbed or unreadable: the dead letter itself stays visible in `kiosk outbox list`
    rating = ev.get("rating")
    # A 3-5 rating lost hurts nobody; a 1-2 rating is a complaint the hall must follow up (差评整改), so staff act.
    if not isinstance(rating, int) or rating > LOW_RATING:
        return None
    subject = (
        f"case {ev['case_number']}"
        if ev.get("case_number")
        else f"matter {ev['matter_code']}"
        if ev.get("matter_code")
        else "the kiosk's self-service"
    )
    reasons = "、".join(str(r) for r in ev.get("reasons") or ()) or "none given"
    detail = (
        f"Low rating not delivered: a {rating}-star 好差评 rating for {subject} (reasons: {reasons}) never "
        f"reached the platform ({reason}). A low rating must be followed up: enter it in the platform's "
        f"好差评 desk system.{retry}"
    )
    return _Text(kind=TASK_RATING_NOT_DELIVERED, detail=detail)


# 1.1: the citizen holds a receipt (kiosk.service_requests) for each of these; the task names it, never the text.
_SERVICE_TASKS = {
    "SubmitBundle": (
        TASK_BUNDLE_NOT_FILED,
        "一件事 bundle not filed: bundle {subject} ({name}) queued at the kiosk on "
        "{day} never reached the platform ({reason}), though its receipt says it will be filed. File "
        "it at the counter: the citizen holds receipt {receipt}.",
    ),
    "SubmitHotlineTicket": (
        TASK_TICKET_NOT_DELIVERED,
        "12345 ticket not delivered: a {subject} ticket written at the "
        "kiosk on {day} never reached the platform ({reason}). Ask the citizen (receipt "
        "{receipt}) to call 12345, or enter it in the 12345 desk system.",
    ),
    "ConfirmEvaluationReply": (
        TASK_CONFIRMATION_NOT_DELIVERED,
        "好差评 answer not delivered: the citizen's answer to a "
        "department's reply (evaluation {subject}, given on {day}) never reached the platform "
        "({reason}). Enter it in the 好差评 desk system (receipt {receipt}).",
    ),
}


def _service_request(session: Session, msg: OutboxMessage, reason: str, retry: str) -> _Text | None:
    from kiosk.storage.models import ServiceRequest

    kind, template = _SERVICE_TASKS[msg.operation]
    row = (
        session.get(ServiceRequest, msg.ref_id) if msg.ref_kind == "service_request" and msg.ref_id else None
    )
    if row is None:
        return _Text(
            kind=kind,
            detail=template.format(subject="?", name="?", day="?", reason=reason, receipt="(none on record)")
            + retry,
        )
    return _Text(
        kind=kind,
        detail=template.format(
            subject=row.subject_code or "?",
            name=row.subject_name or "",
            day=f"{row.created_at:%Y-%m-%d}",
            reason=reason,
            receipt=row.receipt_number,
        )
        + retry,
    )
