"""The door engine every flow shares: record, unlock, confirm, watch until shut, read sensors.

It knows doors, boards and flow rows, not what a flow is for: what a failed open, a shut door or a refused open
means for a parcel is the flow kind's policy (:mod:`kiosk.cabinet.policies`). No serial request is sent inside
a database transaction (see :mod:`kiosk.cabinet.context`)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import threading
from collections.abc import Callable
from typing import NoReturn

from sqlalchemy import select
from sqlalchemy.orm import Session

from kiosk.audit import append as audit
from kiosk.cabinet import allocate, crashpoints, finish, flowdata, policies, store
from kiosk.cabinet import states as S
from kiosk.cabinet.context import Context
from kiosk.cabinet.results import AnotherDoorUnknown, DoorLeftOpen, DoorStateUnknown, FlowHandle, FlowResult
from kiosk.cabinet.transitions import transition
from kiosk.errors import LockBoardError, LockBoardFrameError, NoFreeCompartment
from kiosk.ports import DoorStatus
from kiosk.storage.models import Compartment, Flow, Parcel, StaffTask

log = logging.getLogger(__name__)

Cancel = threading.Event | Callable[[], bool] | None


def _cancel_check(cancel: Cancel) -> Callable[[], bool]:
    """One way to ask "has the caller given up?" whichever form ``cancel`` came in."""
    if cancel is None:
        return lambda: False
    if isinstance(cancel, threading.Event):
        return cancel.is_set
    return cancel


class DoorEngine:
    """Open a recorded flow's door, confirm it, watch it until it shuts; hand each outcome to the kind's policy."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def begin(
        self,
        s: Session,
        now: dt.datetime,
        kind: str,
        comp: Compartment,
        parcel: Parcel | None,
        actor: str,
        data: flowdata.FlowData,
    ) -> int:
        """Record the flow and its intent ("opening A07 for parcel 12") before any hardware acts."""
        flow = Flow(
            kind=kind,
            state=S.OPENING,
            compartment_id=comp.id,
            parcel_id=parcel.id if parcel else None,
            actor=actor,
            data=flowdata.to_json(data),
            started_at=now,
            updated_at=now,
        )
        s.add(flow)
        s.flush()
        audit(
            s,
            now,
            actor,
            "cabinet.door_opening",
            comp.label,
            flow=flow.id,
            kind=kind,
            parcel=parcel.id if parcel else None,
        )
        return flow.id

    # --- open -----------------------------------------------------------------------
    def unlock(self, flow_id: int) -> FlowHandle:
        """Send the unlock for a recorded flow (never re-sent); on a fault the kind's policy decides (a deposit or
        drop-off moves on to another compartment: the loop opens that one)."""
        ctx = self.ctx
        while True:
            with ctx.tx() as (s, _now):
                flow = s.get(Flow, flow_id)
                assert flow is not None and flow.compartment_id is not None
                comp = s.get(Compartment, flow.compartment_id)
                assert comp is not None
                kind, label, cab_id, board, channel = (
                    flow.kind,
                    comp.label,
                    comp.cabinet_id,
                    comp.board,
                    comp.channel,
                )
                parcel_id = flow.parcel_id
            self.refuse_while_unknown(flow_id, label)
            crashpoints.hit(f"{kind}.opening")
            try:
                ctx.bus(cab_id).open(board, channel)
            except LockBoardError as err:
                self.open_failed(flow_id, err)  # raises unless the flow moved to another compartment
                continue
            ctx.open_since[flow_id] = ctx.clock.monotonic()
            crashpoints.hit(f"{kind}.after_unlock")
            with ctx.tx() as (s, now):
                flow = s.get(Flow, flow_id)
                assert flow is not None
                transition(flow, S.DOOR_OPEN, now)
                audit(
                    s,
                    now,
                    flow.actor,
                    "cabinet.door_opened",
                    label,
                    flow=flow_id,
                    kind=kind,
                    parcel=parcel_id,
                )
                if kind == S.TECH_OPEN:
                    finish.close_flow(flow, now, "opened", label)
            log.info("door %s open for %s flow %s", label, kind, flow_id)
            if kind != S.TECH_OPEN:
                crashpoints.hit(f"{kind}.door_open")
            return FlowHandle(flow_id, kind, label, cab_id, parcel_id)

    def open_failed(self, flow_id: int, err: LockBoardError) -> None:
        """Record whose fault it was, then apply the kind's open-failed rule: raise, or move to another compartment.

        A door's own fault (did not open) takes that compartment out of service. A board that does not answer (or
        a bus that is down) is not each door's fault: its compartments are left as they were, the flow does not
        try them, and one staff task names the board (see :mod:`kiosk.cabinet.allocate`). Only garbled replies:
        the door's state is unknown (:meth:`door_unknown`)."""
        ctx = self.ctx
        where = allocate.scope(err)
        if where == "garbled":
            self.door_unknown(flow_id, err)
        reason = f"{type(err).__name__}: {err.message}"
        with ctx.tx() as (s, now):
            flow = s.get(Flow, flow_id)
            assert flow is not None and flow.compartment_id is not None
            comp = s.get(Compartment, flow.compartment_id)
            assert comp is not None
            parcel = s.get(Parcel, flow.parcel_id) if flow.parcel_id else None
            gone = None if where == "bus" else comp.board
            board_down = allocate.BoardNotAnswering(
                f"{allocate.where(comp.cabinet_id, gone)} not answering: {comp.label} was not opened ({reason})",
                cabinet_id=comp.cabinet_id,
                board=gone,
            )
            if where == "door":
                comp.state, comp.fault_reason, comp.updated_at = S.FAULTY, reason, now
                audit(
                    s,
                    now,
                    flow.actor,
                    "cabinet.door_fault",
                    comp.label,
                    flow=flow_id,
                    kind=flow.kind,
                    reason=reason,
                )
                log.warning("door %s faulty (%s); taken out of service", comp.label, reason)
            else:
                audit(
                    s,
                    now,
                    flow.actor,
                    "cabinet.board_not_answering",
                    comp.label,
                    flow=flow_id,
                    kind=flow.kind,
                    board=gone,
                    reason=reason,
                )
                log.warning("%s", board_down.message)
            old_label, actor = comp.label, flow.actor
            rule = policies.policy(flow.kind).open_failed
            answer = rule(ctx, s, now, flow, comp, parcel, policies.OpenFault(where, reason, err, board_down))
        if not isinstance(answer, policies.MoveOn):
            if answer is err:
                raise err
            raise answer from err
        # Another compartment, chosen with no transaction open while its sensor is read.
        try:
            moved = allocate.take(
                ctx,
                answer.size,
                actor,
                lambda s, now, nxt: self.move(s, now, flow_id, nxt),
                flow_id=flow_id,
                down=answer.down,
            )
        except allocate.BoardNotAnswering as dead:
            self.nothing_free(flow_id, old_label)
            raise dead
        if moved:
            return
        self.nothing_free(flow_id, old_label)
        if where != "door":
            raise board_down from err
        raise NoFreeCompartment(
            f"no working compartment is free for size {answer.size} (tried {', '.join(answer.tried)})"
        ) from err

    def recall_unknown(self) -> int:
        """At the owner's start: the doors a flow left in an unknown state before a restart, while their board's
        "garbled replies" task is open, are unknown again (the memory of :meth:`door_unknown` does not survive
        the process). Recalling one too many costs only a status read before the next open."""
        ctx = self.ctx
        with ctx.tx() as (s, _now):
            rows = s.execute(
                select(Compartment.cabinet_id, Compartment.board, Compartment.channel, Compartment.label)
                .join(Flow, Flow.compartment_id == Compartment.id)
                .join(
                    StaffTask,
                    (StaffTask.kind == S.TaskKind.BUS_GARBLED)
                    & StaffTask.resolved_at.is_(None)
                    & (StaffTask.cabinet_id == Compartment.cabinet_id)
                    & (StaffTask.board == Compartment.board),
                )
                .where(Flow.outcome == "door_unknown", Compartment.cabinet_id.in_(list(ctx.buses)))
                .distinct()
            ).all()
        for cab_id, board, channel, label in rows:
            ctx.unknown_doors[(cab_id, board, channel)] = label
        return len(rows)

    def refuse_while_unknown(self, flow_id: int, label: str) -> None:
        """The rule "no second door opens while any door's state is unknown": read each unknown door again (a
        status request, safe to re-send); one still unreadable ends this flow unopened, as its kind says."""
        ctx = self.ctx
        for key, other in list(ctx.unknown_doors.items()):
            cab_id, board, channel = key
            try:
                ctx.bus(cab_id).door_state(board, channel)
            except LockBoardError as err:
                with ctx.tx() as (s, now):
                    flow = s.get(Flow, flow_id, with_for_update=True)
                    assert flow is not None
                    why = f"the state of door {other} is unknown"
                    audit(
                        s,
                        now,
                        flow.actor,
                        "cabinet.open_refused",
                        label,
                        flow=flow_id,
                        kind=flow.kind,
                        why=why,
                    )
                    comp, parcel = finish.parts(s, flow)
                    policies.policy(flow.kind).refused(ctx, s, now, flow, comp, parcel, why)
                raise AnotherDoorUnknown(
                    f"{label} was not opened: the state of door {other} is still unknown "
                    f"(the lock bus garbles its replies: {err.message})"
                ) from err
            del ctx.unknown_doors[key]  # a valid reply: known again, open or shut
            log.info("door %s reads valid again", other)

    def door_unknown(self, flow_id: int, err: LockBoardError) -> NoReturn:
        """Only garbled replies after the unlock: the door may stand open. No other door is opened for this flow
        (a deposit does not move on) and no door is marked faulty (the noise is the bus's): the parcel waits in
        ``attention`` with one task naming the board, its compartment kept as it was, so nothing is handed out
        twice and a person looks at the door."""
        ctx = self.ctx
        with ctx.tx() as (s, now):
            flow = s.get(Flow, flow_id, with_for_update=True)
            assert flow is not None and flow.compartment_id is not None
            comp, parcel = finish.parts(s, flow)
            if parcel is not None:
                store.to_attention(s, now, parcel, f"the state of door {comp.label} is unknown")
            pid = parcel.id if parcel else None
            task_id = allocate.garbled_task(
                s, now, comp, f"{comp.label} may be open after an unlock", flow_id=flow_id, parcel_id=pid
            )
            audit(
                s,
                now,
                flow.actor,
                "cabinet.door_state_unknown",
                comp.label,
                flow=flow_id,
                kind=flow.kind,
                parcel=pid,
                board=comp.board,
                task=task_id,
            )
            finish.close_flow(flow, now, "door_unknown", comp.label, task_id=task_id)
            label = comp.label
            ctx.unknown_doors[(comp.cabinet_id, comp.board, comp.channel)] = label
        log.warning(
            "door %s: state unknown after garbled replies (flow %s, task %s)", label, flow_id, task_id
        )
        raise DoorStateUnknown(
            f"compartment {label}: the lock bus garbled every reply after the unlock, so whether "
            f"the door opened is unknown; no other door was opened (staff task {task_id})",
            task_id=task_id,
        ) from err

    def move(self, s: Session, now: dt.datetime, flow_id: int, nxt: Compartment) -> bool:
        """The confirming transaction of a move: the flow and its parcel go to ``nxt`` (already reserved)."""
        flow = s.get(Flow, flow_id, with_for_update=True)
        assert flow is not None and flow.parcel_id is not None
        old, parcel = s.get(Compartment, flow.compartment_id), s.get(Parcel, flow.parcel_id)
        assert old is not None and parcel is not None
        store.release(
            old, now
        )  # a door at fault stays faulty; one on a silent board is free again, as it was
        parcel.compartment_id = flow.compartment_id = nxt.id
        transition(flow, S.OPENING, now)
        audit(
            s,
            now,
            flow.actor,
            "cabinet.door_opening",
            nxt.label,
            flow=flow_id,
            kind=flow.kind,
            parcel=parcel.id,
            instead_of=old.label,
        )
        return True

    def nothing_free(self, flow_id: int, label: str) -> None:
        """End a deposit or drop-off that found no compartment to move to: nothing went in."""
        with self.ctx.tx() as (s, now):
            flow = s.get(Flow, flow_id, with_for_update=True)
            assert flow is not None and flow.parcel_id is not None
            parcel, comp = s.get(Parcel, flow.parcel_id), s.get(Compartment, flow.compartment_id)
            assert parcel is not None and comp is not None
            parcel.state, parcel.finished_at, parcel.compartment_id = S.CANCELLED, now, None
            store.release(comp, now)
            finish.close_flow(flow, now, "no_compartment", label)

    # --- waiting for the door ------------------------------------------------------------
    def poll(self, handle: FlowHandle | int) -> FlowResult | None:
        """Read the door once: None while it is open; the flow's result once it reads closed."""
        flow_id = handle if isinstance(handle, int) else handle.flow_id
        with self.ctx.tx() as (s, _now):
            flow = s.get(Flow, flow_id)
            if flow is None:
                raise ValueError(f"no flow {flow_id}")
            if flow.finished_at is not None:
                return finish.stored_result(flow)
            comp = s.get(Compartment, flow.compartment_id)
            assert comp is not None
            kind, cab_id, board, channel = flow.kind, comp.cabinet_id, comp.board, comp.channel
        try:
            status = self.ctx.bus(cab_id).door_state(board, channel)
        except LockBoardFrameError as err:  # says nothing about the door: keep watching it
            log.warning("door of flow %s: garbled reply (%s); still watching", flow_id, err.message)
            return None
        if not status.closed:
            return None
        return self.closed(flow_id, kind, status)

    def closed(self, flow_id: int, kind: str, status: DoorStatus) -> FlowResult:
        """The door reads closed: the kind's policy ends the flow (once, whichever thread sees it first)."""
        crashpoints.hit(f"{kind}.closed")
        with self.ctx.tx() as (s, _now):
            flow = s.get(Flow, flow_id, with_for_update=True)
            assert flow is not None
            done = flow.finished_at is not None  # another thread finished it first
            result = finish.stored_result(flow) if done else policies.complete(self.ctx, s, flow, status)
        self.ctx.open_since.pop(flow_id, None)
        if not done:
            crashpoints.hit(f"{kind}.done")
        return result

    def wait_closed(
        self, handle: FlowHandle | int, timeout_s: float | None = None, cancel: Cancel = None
    ) -> FlowResult:
        """Poll until the door reads closed; after ``timeout_s`` (default: close_timeout_s) raise a staff task
        for the open door (once per flow) and DoorLeftOpen. The flow stays open: a later poll, wait_closed or
        :meth:`settle_open_flows` finishes it when the door is shut.

        ``cancel`` (an Event, or a callable returning True) ends the wait early: the screen that waited went
        away, so nobody waits any more and no worker is tied up for close_timeout_s. Then DoorLeftOpen is raised
        with ``task_id=None`` and no staff task: the door is not overdue, only unwatched by this caller, and
        :meth:`settle_open_flows` (the runtime's doors loop) finishes the flow or flags it when it is."""
        ctx = self.ctx
        fid = handle if isinstance(handle, int) else handle.flow_id
        if isinstance(handle, int):
            with ctx.tx() as (s, _now):
                flow = s.get(Flow, handle)
                comp = s.get(Compartment, flow.compartment_id) if flow else None
                cab_id = comp.cabinet_id if comp else ""
        else:
            cab_id = handle.cabinet_id
        cancelled = _cancel_check(cancel)
        limit = timeout_s if timeout_s is not None else ctx.close_timeout_s(cab_id)
        deadline = ctx.clock.monotonic() + limit
        while not cancelled():
            result = self.poll(handle)
            if result is not None:
                return result
            if ctx.clock.monotonic() >= deadline:
                task_id = self.flag_left_open(fid)
                raise DoorLeftOpen(
                    f"door still open after {limit:g} s (flow {fid}, staff task {task_id})", task_id=task_id
                )
            ctx.clock.sleep(ctx.close_poll_interval_s)
        raise DoorLeftOpen(f"stopped waiting for the door (flow {fid}); it is still open", task_id=None)

    # --- doors left open ------------------------------------------------------------------
    def flag_left_open(self, handle: FlowHandle | int) -> int | None:
        """The door of a running flow is still open after its wait: raise a staff task naming the door and the
        flow, once per flow (a second call returns the same task). None if the flow has finished meanwhile."""
        fid = handle if isinstance(handle, int) else handle.flow_id
        with self.ctx.tx() as (s, now):
            flow = s.get(Flow, fid, with_for_update=True)
            if flow is None:
                raise ValueError(f"no flow {fid}")
            if flow.finished_at is not None:
                return None
            data = flowdata.load(flow)
            if data.left_open_task is not None:
                return data.left_open_task
            comp = s.get(Compartment, flow.compartment_id)
            assert comp is not None
            detail = (
                f"{comp.label}: door left open during {flow.kind} (flow {flow.id}, parcel {flow.parcel_id}, "
                f"by {flow.actor}); shut it: the kiosk then finishes the flow"
            )
            task = store.add_task(
                s,
                now,
                S.TASK_DOOR_LEFT_OPEN,
                detail,
                compartment_id=comp.id,
                parcel_id=flow.parcel_id,
                flow_id=flow.id,
            )
            audit(
                s,
                now,
                "kiosk",
                "cabinet.door_left_open",
                comp.label,
                flow=flow.id,
                kind=flow.kind,
                parcel=flow.parcel_id,
                task=task.id,
            )
            flowdata.save(flow, dataclasses.replace(data, left_open_task=task.id))
            log.warning("door %s left open (flow %s): staff task %s", comp.label, flow.id, task.id)
            return task.id

    def settle_open_flows(self) -> list[FlowResult]:
        """Look at every door left open past close_timeout_s: finish its flow if the door now reads closed,
        else raise (once) its staff task. The runtime calls this every few seconds, so a flow nobody waits on
        any more still finishes (PICKED_UP reported, ...). A flow still within its timeout is left alone: the
        screen waiting on it gets its result (a deposit's code is shown only there)."""
        ctx = self.ctx
        with ctx.tx() as (s, now):
            rows = s.execute(
                select(
                    Flow.id,
                    Flow.kind,
                    Flow.updated_at,
                    Flow.data,
                    Compartment.cabinet_id,
                    Compartment.board,
                    Compartment.channel,
                )
                .join(Compartment, Compartment.id == Flow.compartment_id)
                .where(
                    Flow.finished_at.is_(None),
                    Flow.state == S.DOOR_OPEN,
                    Compartment.cabinet_id.in_(list(ctx.buses)),
                )
                .order_by(Flow.id)
            ).all()
        done: list[FlowResult] = []
        mono = ctx.clock.monotonic()
        for fid, kind, opened_at, data, cab_id, board, channel in rows:
            if fid in ctx.found_open:
                continue  # reconcile.settle_found_open decides these
            flagged = flowdata.from_json(kind, data).left_open_task is not None
            if (since := ctx.open_since.get(fid)) is None:
                # Opened before this process started: the wall clock is all there is to say how long ago
                # (updated_at is when the door was confirmed open: nothing else writes a flow until it ends).
                # Used once; from here on the monotonic clock counts.
                since = ctx.open_since[fid] = mono - max(0.0, (now - opened_at).total_seconds())
            if not flagged and mono - since < ctx.close_timeout_s(cab_id):
                continue
            try:
                status = ctx.bus(cab_id).door_state(board, channel)
            except LockBoardError as err:
                log.warning("door of flow %s not readable (%s); trying again later", fid, err.message)
                continue
            if status.closed:
                done.append(self.closed(fid, kind, status))
            elif not flagged:
                self.flag_left_open(fid)
        return done
