"""Storage helpers for the cabinet: syncing compartments, best-fit allocation, views, tasks, outbox rows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from kiosk import outbox
from kiosk.audit import append as audit
from kiosk.cabinet import states as S
from kiosk.cabinet.results import ParcelView, TaskView
from kiosk.config import CabinetConfig
from kiosk.outbox_tasks import TASK_SMS_NOT_SENT
from kiosk.storage.db import KIOSK_ID
from kiosk.storage.models import Compartment, Parcel, StaffTask


def sync_compartments(session: Session, cabinets: Sequence[CabinetConfig], now: dt.datetime) -> list[str]:
    """Make this kiosk's cabinets' compartments match the config (size, board, channel), keeping each state.

    A compartment is its (cabinet, label): a label is unique per cabinet only (migration 0011), and another
    kiosk's cabinets, whatever their labels, are never touched."""
    changes: list[str] = []
    mine = {cab.id for cab in cabinets}
    rows = session.execute(select(Compartment).where(Compartment.cabinet_id.in_(list(mine)))).scalars()
    by_key = {(c.cabinet_id, c.label): c for c in rows}
    wanted: set[tuple[str, str]] = set()
    # Park every row of our cabinets on a slot no config can use first, so remapping two labels
    # onto each other's locks does not trip the (cabinet, board, channel) unique constraint.
    moving = [
        row
        for cab in cabinets
        for cc in cab.compartments
        if (row := by_key.get((cab.id, cc.label))) is not None
        and (row.board, row.channel) != (cc.board, cc.channel)
    ]
    for i, row in enumerate(moving):
        row.board, row.channel = -1 - i, -1
    session.flush()
    for cab in cabinets:
        for cc in cab.compartments:
            wanted.add((cab.id, cc.label))
            row = by_key.get((cab.id, cc.label))
            if row is None:
                session.add(
                    Compartment(
                        cabinet_id=cab.id,
                        label=cc.label,
                        size=cc.size,
                        board=cc.board,
                        channel=cc.channel,
                        state=S.FREE,
                        updated_at=now,
                    )
                )
                changes.append(f"added {cc.label}")
                continue
            if (row.size, row.board, row.channel) != (cc.size, cc.board, cc.channel):
                changes.append(f"updated {cc.label}")
                row.size, row.board, row.channel = cc.size, cc.board, cc.channel
                row.updated_at = now
    for key, row in by_key.items():
        if key not in wanted and row.state != S.DISABLED:
            # Keep the row: parcels and history refer to it.
            row.state, row.fault_reason, row.updated_at = S.DISABLED, "no longer in the configuration", now
            changes.append(f"disabled {row.label} (not in the configuration)")
    session.flush()
    return changes


def live_parcel_in(session: Session, compartment_id: int) -> Parcel | None:
    return (
        session.execute(
            select(Parcel)
            .where(Parcel.compartment_id == compartment_id, Parcel.state.in_(S.LIVE))
            .order_by(Parcel.id)
        )
        .scalars()
        .first()
    )


def release(comp: Compartment, now: dt.datetime) -> None:
    """Empty again: free, unless a person took it out of service meanwhile."""
    if comp.state not in S.OUT_OF_SERVICE:
        comp.state = S.FREE
    comp.updated_at = now


def set_state(comp: Compartment, state: str, now: dt.datetime) -> None:
    """Occupied/reserved, unless out of service (a faulty door keeps its parcel but takes no new ones)."""
    if comp.state not in S.OUT_OF_SERVICE:
        comp.state = state
    comp.updated_at = now


def add_task(
    session: Session,
    now: dt.datetime,
    kind: str,
    detail: str,
    *,
    compartment_id: int | None = None,
    parcel_id: int | None = None,
    flow_id: int | None = None,
    cabinet_id: str | None = None,
    board: int | None = None,
    kiosk_id: str | None = None,
) -> StaffTask:
    """A staff task; what it is about goes in columns (a compartment's cabinet and board are filled in; the kiosk
    is the database handle's writing kiosk, as for outbox rows: kiosk.storage.db.KIOSK_ID), the detail is prose for a person
    and is never searched."""
    if compartment_id is not None and cabinet_id is None:
        comp = session.get(Compartment, compartment_id)
        if comp is not None:
            cabinet_id, board = comp.cabinet_id, comp.board
    task = StaffTask(
        kind=kind,
        detail=detail,
        compartment_id=compartment_id,
        parcel_id=parcel_id,
        flow_id=flow_id,
        cabinet_id=cabinet_id,
        board=board,
        created_at=now,
        kiosk_id=kiosk_id or session.info.get(KIOSK_ID),
    )
    session.add(task)
    session.flush()
    audit(
        session,
        now,
        "kiosk",
        "cabinet.task_raised",
        f"task {task.id}",
        kind=kind,
        detail=detail,
        parcel=parcel_id,
        flow=flow_id,
    )
    return task


def resolve_tasks_for(
    session: Session,
    now: dt.datetime,
    parcel_id: int,
    actor: str,
    *,
    note: str,
    kinds: Sequence[str] | None = None,
) -> list[int]:
    """Close a parcel's open tasks (of ``kinds``, or all) that its ending answered; ``note`` says how, in each."""
    q = select(StaffTask).where(StaffTask.parcel_id == parcel_id, StaffTask.resolved_at.is_(None))
    if kinds is not None:
        q = q.where(StaffTask.kind.in_(list(kinds)))
    done: list[int] = []
    for t in session.execute(q.order_by(StaffTask.id)).scalars():
        t.resolved_at, t.resolved_by, t.detail = now, actor, f"{t.detail} [{note}]"
        audit(
            session,
            now,
            actor,
            "cabinet.task_resolved",
            f"task {t.id}",
            kind=t.kind,
            note=note,
            parcel=parcel_id,
        )
        done.append(t.id)
    return done


def cancel_pickup_sms(session: Session, now: dt.datetime, parcel: Parcel, why: str) -> list[int]:
    """The parcel left the cabinet, so its code is dead: a PICKUP_READY SMS not sent yet must never go out.

    One the sender is sending right now is left to finish (see ``outbox.cancel_pending``)."""
    return outbox.cancel_pending(session, now, "parcel", parcel.id, "NotifyApplicant", why, actor="kiosk")


def to_attention(session: Session, now: dt.datetime, parcel: Parcel, why: str) -> None:
    """Hold a parcel for a person (``attention``): its pickup SMS, if still queued, is held too (the code it
    carries would send the citizen to a door staff must look at first); ``back_to_ready`` releases it."""
    parcel.state = S.ATTENTION
    outbox.hold_pending(session, now, "parcel", parcel.id, "NotifyApplicant", why, actor="kiosk")


def back_to_ready(session: Session, now: dt.datetime, parcel: Parcel, why: str) -> None:
    """A held parcel is ready again (staff put it back): a pickup SMS held for it goes out now."""
    parcel.state = S.READY
    outbox.release_held(session, now, "parcel", parcel.id, "NotifyApplicant", why, actor="kiosk")


def pickup_sms_moot(session: Session, now: dt.datetime, parcel: Parcel, why: str) -> None:
    """Picked up: cancel the SMS still queued, and close the "SMS not sent" task (nobody waits for the text now)."""
    cancel_pickup_sms(session, now, parcel, why)
    resolve_tasks_for(
        session, now, parcel.id, "kiosk", note=f"{why}: nothing left to do", kinds=(TASK_SMS_NOT_SENT,)
    )


def report_delivery(
    session: Session, now: dt.datetime, parcel: Parcel, event: str, comp: Compartment
) -> None:
    """A ReportDelivery row in the caller's transaction (only cases known to the platform can be reported)."""
    if not parcel.case_number:
        return
    payload = {
        "case_number": parcel.case_number,
        "event": event,
        "cabinet_id": comp.cabinet_id,
        "compartment": comp.label,
        "occurred_at": now.isoformat(),
    }
    outbox.enqueue(session, now, "ReportDelivery", payload, ref_kind="parcel", ref_id=parcel.id)


def notify_pickup_ready(
    session: Session,
    now: dt.datetime,
    secret: bytes,
    parcel: Parcel,
    comp: Compartment,
    code: str,
    tz: dt.tzinfo,
) -> None:
    """The applicant's SMS with the code: the only place the code goes, sealed until sent.

    ``expires`` is the hall's local time: the citizen reads it on a phone."""
    assert parcel.case_number and parcel.expires_at
    payload = {
        "case_number": parcel.case_number,
        "template": "PICKUP_READY",
        "params": {
            "cabinet": f"{comp.cabinet_id} {comp.label}",
            "code": code,
            "expires": parcel.expires_at.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
        },
    }
    outbox.enqueue(
        session,
        now,
        "NotifyApplicant",
        payload,
        secret=secret,
        sensitive=True,
        ref_kind="parcel",
        ref_id=parcel.id,
    )


def parcel_view(session: Session, p: Parcel, now: dt.datetime) -> ParcelView:
    label = session.get(Compartment, p.compartment_id).label if p.compartment_id else None
    overdue = p.kind == S.RESULT and p.state in S.LIVE and p.expires_at is not None and p.expires_at <= now
    return ParcelView(
        p.id,
        p.kind,
        p.state,
        label,
        p.case_number,
        p.matter_name,
        p.owner_id_masked,
        p.owner_name_masked,
        p.stored_at,
        p.expires_at,
        overdue,
        p.receipt_number,
    )


def task_view(session: Session, t: StaffTask) -> TaskView:
    label = session.get(Compartment, t.compartment_id).label if t.compartment_id else None
    parcel = session.get(Parcel, t.parcel_id) if t.parcel_id else None
    number = (parcel.case_number or parcel.receipt_number) if parcel is not None else None
    return TaskView(
        t.id,
        t.kind,
        t.detail,
        label,
        t.parcel_id,
        t.flow_id,
        t.created_at,
        t.resolved_at,
        t.resolved_by,
        number,
    )
