"""How flows end, each in the one transaction that also writes its audit and outbox rows.

Each flow kind's endings (deposited, picked_up, ...) are chosen by its policy
(:mod:`kiosk.cabinet.policies`); ``undecided`` is start-up reconciliation's "a person must look".
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from kiosk.audit import append as audit
from kiosk.cabinet import flowdata, store
from kiosk.cabinet import states as S
from kiosk.cabinet.codes import unique_code
from kiosk.cabinet.results import FlowResult
from kiosk.cabinet.transitions import transition
from kiosk.ports import DoorStatus
from kiosk.storage.models import Compartment, Flow, Parcel, StaffTask

if TYPE_CHECKING:
    from kiosk.cabinet.context import Context

CANCELLED_EMPTY = "cancelled_empty"  # the outcome of a deposit or drop-off shut on an empty compartment


def close_flow(flow: Flow, now: dt.datetime, outcome: str, label: str, **extra: Any) -> None:
    """Mark a flow finished and keep what its result was (never a code) for a later poll."""
    result = flowdata.StoredResult(outcome, label, **extra)
    transition(flow, S.DONE_FLOW, now)
    flow.outcome, flow.finished_at = outcome, now
    flowdata.save(flow, dataclasses.replace(flowdata.load(flow), result=result))


def stored_result(flow: Flow) -> FlowResult:
    r = flowdata.load(flow).result or flowdata.StoredResult()
    return FlowResult(
        flow.id,
        flow.kind,
        flow.outcome or r.outcome,
        r.label,
        flow.parcel_id,
        expires_at=dt.datetime.fromisoformat(r.expires_at) if r.expires_at else None,
        receipt_number=r.receipt_number,
        task_id=r.task_id,
        item_present=r.item_present,
    )


def parts(s: Session, flow: Flow) -> tuple[Compartment, Parcel | None]:
    comp = s.get(Compartment, flow.compartment_id)
    assert comp is not None
    return comp, (s.get(Parcel, flow.parcel_id) if flow.parcel_id else None)


def end_left_open(s: Session, now: dt.datetime, flow: Flow) -> None:
    """The flow ended: its door-left-open task, if it has one, has nothing left to ask of staff."""
    task_id = flowdata.load(flow).left_open_task
    task = s.get(StaffTask, task_id) if task_id is not None else None
    if task is None or task.resolved_at is not None:
        return
    note = f"flow {flow.id} ended: {flow.outcome}"
    task.resolved_at, task.resolved_by, task.detail = now, "kiosk", f"{task.detail} [{note}]"
    audit(
        s, now, "kiosk", "cabinet.task_resolved", f"task {task.id}", kind=task.kind, note=note, flow=flow.id
    )


def cancelled_empty(
    s: Session, flow: Flow, comp: Compartment, parcel: Parcel, now: dt.datetime, actor: str, why: str
) -> FlowResult:
    """A deposit or drop-off whose door shut on an empty compartment: the person changed their mind.

    Opening the door and shutting it without putting anything in is the natural way to cancel at a cabinet, so
    nothing was handed over: no code, no report, no SMS, no receipt. The parcel ends cancelled (the case can be
    deposited again: only a live parcel blocks that) and the compartment is free."""
    parcel.state, parcel.finished_at = S.CANCELLED, now
    store.release(comp, now)
    audit(
        s,
        now,
        actor,
        "cabinet.cancelled_empty",
        comp.label,
        flow=flow.id,
        kind=flow.kind,
        parcel=parcel.id,
        case_number=parcel.case_number,
        why=why,
    )
    close_flow(flow, now, CANCELLED_EMPTY, comp.label, item_present=False)
    return stored_result(flow)


def deposited(
    ctx: Context,
    s: Session,
    flow: Flow,
    comp: Compartment,
    parcel: Parcel,
    status: DoorStatus,
    now: dt.datetime,
) -> FlowResult:
    if status.item_present is False:  # None: no item sensor, so nothing to go by but the staff's word
        return cancelled_empty(
            s, flow, comp, parcel, now, flow.actor, "the door closed and the item sensor reads empty"
        )
    code, h = unique_code(s, ctx.secret, ctx.pickup.code_digits)
    parcel.code_hmac, parcel.state, parcel.stored_at = h, S.READY, now
    parcel.expires_at = now + dt.timedelta(days=ctx.pickup.expiry_days)
    store.set_state(comp, S.OCCUPIED, now)
    store.report_delivery(s, now, parcel, "DEPOSITED", comp)
    store.notify_pickup_ready(s, now, ctx.secret, parcel, comp, code, ctx.clock.tz)
    audit(
        s,
        now,
        flow.actor,
        "cabinet.deposited",
        comp.label,
        parcel=parcel.id,
        case_number=parcel.case_number,
        expires_at=parcel.expires_at.isoformat(),
    )
    close_flow(
        flow,
        now,
        "deposited",
        comp.label,
        expires_at=parcel.expires_at.isoformat(),
        item_present=status.item_present,
    )
    return FlowResult(
        flow.id,
        flow.kind,
        "deposited",
        comp.label,
        parcel.id,
        code=code,
        expires_at=parcel.expires_at,
        item_present=status.item_present,
    )


def picked_up(
    ctx: Context,
    s: Session,
    flow: Flow,
    comp: Compartment,
    parcel: Parcel,
    status: DoorStatus,
    now: dt.datetime,
) -> FlowResult:
    if status.item_present:
        # The sensor still sees it: do not report a delivery that did not happen.
        store.to_attention(s, now, parcel, f"parcel {parcel.id} still reads present after pickup")
        task = store.add_task(
            s,
            now,
            S.TASK_ITEM_LEFT,
            f"{comp.label}: parcel {parcel.id} still reads present after pickup",
            compartment_id=comp.id,
            parcel_id=parcel.id,
            flow_id=flow.id,
        )
        audit(s, now, flow.actor, "cabinet.pickup_item_left", comp.label, parcel=parcel.id, task=task.id)
        close_flow(flow, now, "item_left", comp.label, task_id=task.id, item_present=True)
        return stored_result(flow)
    via = flowdata.of(flow, flowdata.PickupData).via
    parcel.state, parcel.finished_at, parcel.code_hmac = (
        S.PICKED_UP,
        now,
        None,
    )  # single use: the code dies here
    store.release(comp, now)
    store.report_delivery(s, now, parcel, "PICKED_UP", comp)
    # Picked up with the ID card before the SMS went out (or while it could not): the text and its
    # "SMS not sent" task have nothing left to do.
    store.pickup_sms_moot(s, now, parcel, f"parcel {parcel.id} was picked up (via {via or '?'})")
    audit(
        s,
        now,
        flow.actor,
        "cabinet.picked_up",
        comp.label,
        parcel=parcel.id,
        case_number=parcel.case_number,
        via=via,
    )
    close_flow(flow, now, "picked_up", comp.label, item_present=status.item_present)
    return stored_result(flow)


def dropped_off(
    ctx: Context,
    s: Session,
    flow: Flow,
    comp: Compartment,
    parcel: Parcel,
    status: DoorStatus,
    now: dt.datetime,
) -> FlowResult:
    if (
        status.item_present is False
    ):  # an empty drop-off gets no receipt: the citizen would hold one for nothing
        return cancelled_empty(
            s, flow, comp, parcel, now, flow.actor, "the door closed and the item sensor reads empty"
        )
    parcel.state, parcel.stored_at = S.DROPPED_OFF, now
    parcel.receipt_number = f"DO{now:%y%m%d}{parcel.id:07d}"  # unique by the parcel id; short enough to type
    store.set_state(comp, S.OCCUPIED, now)
    audit(
        s,
        now,
        flow.actor,
        "cabinet.dropped_off",
        comp.label,
        parcel=parcel.id,
        receipt=parcel.receipt_number,
        case_number=parcel.case_number,
        matter=parcel.matter_code,
    )
    close_flow(
        flow,
        now,
        "dropped_off",
        comp.label,
        receipt_number=parcel.receipt_number,
        item_present=status.item_present,
    )
    return stored_result(flow)


def collected(
    ctx: Context,
    s: Session,
    flow: Flow,
    comp: Compartment,
    parcel: Parcel,
    status: DoorStatus,
    now: dt.datetime,
) -> FlowResult:
    if status.item_present:
        # The sensor still sees it: staff shut the door without taking it (the wrong row tapped). Nothing left the
        # cabinet, so nothing changes hands: the parcel goes back to how it was (a result's code works again),
        # the compartment stays occupied, and the platform hears nothing.
        prev = flowdata.of(flow, flowdata.CollectData).prev_state
        parcel.state = prev
        audit(
            s, now, flow.actor, "cabinet.collect_item_still_inside", comp.label, parcel=parcel.id, state=prev
        )
        close_flow(flow, now, "item_still_inside", comp.label, item_present=True)
        return stored_result(flow)
    reported = parcel.stored_at is not None  # only what the platform heard about is reported back
    if parcel.kind == S.RESULT:
        parcel.state, event = S.RETURNED, "RETURNED_TO_CENTRE"
    else:
        parcel.state, event = S.COLLECTED, "DROPOFF_RECEIVED"
    parcel.finished_at, parcel.code_hmac = now, None
    store.release(comp, now)
    store.resolve_tasks_for(
        s, now, parcel.id, flow.actor, note=f"parcel {parcel.id} taken out by {flow.actor}"
    )
    if parcel.kind == S.RESULT:  # its code just died: a pickup SMS still queued would send it anyway
        store.cancel_pickup_sms(s, now, parcel, f"parcel {parcel.id} was taken back by {flow.actor}")
    if reported:
        store.report_delivery(s, now, parcel, event, comp)
    audit(
        s,
        now,
        flow.actor,
        "cabinet.collected",
        comp.label,
        parcel=parcel.id,
        event=event if reported else None,
    )
    close_flow(flow, now, parcel.state, comp.label, item_present=status.item_present)
    return stored_result(flow)


def undecided(ctx: Context, s: Session, flow: Flow, why: str) -> int:
    """Nothing can tell what happened: hold the compartment and its parcel for a person."""
    now = ctx.clock.now()
    comp, parcel = parts(s, flow)
    if parcel is not None:
        store.to_attention(
            s, now, parcel, why
        )  # the compartment keeps its reserved/occupied state, so nobody else gets it
    pid = parcel.id if parcel else None
    task = store.add_task(
        s,
        now,
        S.TASK_RECONCILE,
        f"{comp.label}: unfinished {flow.kind} (flow {flow.id}, parcel {pid}): {why}",
        compartment_id=comp.id,
        parcel_id=pid,
        flow_id=flow.id,
    )
    close_flow(flow, now, "staff_task", comp.label, task_id=task.id)
    end_left_open(s, now, flow)  # the new task says what to do now
    return task.id
