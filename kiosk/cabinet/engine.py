"""The door engine every flow shares: record, unlock, record the outcome; poll until the door closes.

No serial request is ever sent inside a database transaction: a silent board would hold SQLite's write lock
(or PostgreSQL's audit lock) for its whole timeout. Each step reads what it needs, commits, then talks to the
board, then records what the board said in a new transaction."""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, NoReturn

from sqlalchemy import select
from sqlalchemy.orm import Session

from kiosk.audit import append as audit
from kiosk.cabinet import allocate, crashpoints, finish, store
from kiosk.cabinet import states as S
from kiosk.cabinet.codes import CodeGuard
from kiosk.cabinet.results import AnotherDoorUnknown, DoorLeftOpen, DoorStateUnknown, FlowHandle, FlowResult, PickupDoorFault
from kiosk.cabinet.transitions import transition
from kiosk.clock import Clock
from kiosk.config import CabinetConfig, PickupConfig
from kiosk.errors import KioskError, LockBoardError, LockBoardFrameError, NoFreeCompartment
from kiosk.ports import DoorStatus, LockBus, Platform
from kiosk.storage.db import Database
from kiosk.storage.models import Compartment, Flow, Parcel

log = logging.getLogger(__name__)


def _cancel_check(cancel: threading.Event | Callable[[], bool] | None) -> Callable[[], bool]:
    """One way to ask "has the caller given up?" whichever form ``cancel`` came in."""
    if cancel is None:
        return lambda: False
    if isinstance(cancel, threading.Event):
        return cancel.is_set
    return cancel


class Engine:
    """Shared state and the open/poll machinery; :class:`kiosk.cabinet.Cabinet` adds the flows."""

    def __init__(
        self,
        db: Database,
        buses: Mapping[str, LockBus],
        cabinets: Sequence[CabinetConfig],
        pickup: PickupConfig,
        clock: Clock,
        secret: bytes,
        kiosk_id: str,
        platform: Platform | None = None,
        *,
        close_poll_interval_s: float = 0.2,
    ) -> None:
        self.db = db
        self.buses = dict(buses)
        self.cabinets = {c.id: c for c in cabinets}
        self.pickup = pickup
        self.clock = clock
        self.secret = secret
        self.kiosk_id = kiosk_id
        self.platform = platform
        self.close_poll_interval_s = close_poll_interval_s
        self.guard = CodeGuard(pickup, kiosk_id)
        # flow id -> monotonic time this process saw its door open: how long a door stands open is measured on
        # the monotonic clock, so an NTP step of the wall clock neither flags every open door at once nor never.
        self._open_since: dict[int, float] = {}
        # Flows whose door start-up found open (kiosk.cabinet.reconcile): decided by the start-up table once shut.
        self.found_open: set[int] = set()
        # (cabinet, board) -> monotonic time its "not answering" task was last re-checked (kiosk.cabinet.board_watch)
        self.board_tries: dict[tuple[str, int | None], float] = {}
        # Doors whose state is unknown (only garbled replies after their unlock): cabinet, board, channel -> label.
        # No other door opens until each reads valid again (then it is known, open or shut).
        self.unknown_doors: dict[tuple[str, int, int], str] = {}

    # --- helpers ----------------------------------------------------------------
    @contextmanager
    def _tx(self) -> Iterator[tuple[Session, dt.datetime]]:
        with self.db.transaction() as s:
            yield s, self.clock.now()

    def _bus(self, cabinet_id: str) -> LockBus:
        try:
            return self.buses[cabinet_id]
        except KeyError:
            raise LockBoardError(f"no lock bus is configured for cabinet {cabinet_id}") from None

    def _close_timeout_s(self, cabinet_id: str) -> float:
        cab = self.cabinets.get(cabinet_id)
        return cab.close_timeout_s if cab else 120.0

    def _begin(self, s: Session, now: dt.datetime, kind: str, comp: Compartment, parcel: Parcel | None,
               actor: str, data: dict[str, Any]) -> int:
        """Record the flow and its intent ("opening A07 for parcel 12") before any hardware acts."""
        flow = Flow(kind=kind, state=S.OPENING, compartment_id=comp.id, parcel_id=parcel.id if parcel else None,
                    actor=actor, data=data, started_at=now, updated_at=now)
        s.add(flow)
        s.flush()
        audit(s, now, actor, "cabinet.door_opening", comp.label, flow=flow.id, kind=kind,
              parcel=parcel.id if parcel else None)
        return flow.id

    # --- open -----------------------------------------------------------------------
    def _unlock(self, flow_id: int) -> FlowHandle:
        """Send the unlock for a recorded flow; on a faulty door, mark it and (deposit, drop-off) try another."""
        while True:
            with self._tx() as (s, _now):
                flow = s.get(Flow, flow_id)
                assert flow is not None and flow.compartment_id is not None
                comp = s.get(Compartment, flow.compartment_id)
                assert comp is not None
                kind, label, cab_id, board, channel = flow.kind, comp.label, comp.cabinet_id, comp.board, comp.channel
                parcel_id = flow.parcel_id
            self._no_door_unknown(flow_id, label)
            crashpoints.hit(f"{kind}.opening")
            try:
                self._bus(cab_id).open(board, channel)
            except LockBoardError as err:
                self._door_fault(flow_id, err)  # raises unless the flow moved to another compartment
                continue
            self._open_since[flow_id] = self.clock.monotonic()
            crashpoints.hit(f"{kind}.after_unlock")
            with self._tx() as (s, now):
                flow = s.get(Flow, flow_id)
                assert flow is not None
                transition(flow, S.DOOR_OPEN, now)
                audit(s, now, flow.actor, "cabinet.door_opened", label, flow=flow_id, kind=kind, parcel=parcel_id)
                if kind == S.TECH_OPEN:
                    finish.close_flow(flow, now, "opened", label)
            log.info("door %s open for %s flow %s", label, kind, flow_id)
            if kind != S.TECH_OPEN:
                crashpoints.hit(f"{kind}.door_open")
            return FlowHandle(flow_id, kind, label, cab_id, parcel_id)

    def _door_fault(self, flow_id: int, err: LockBoardError) -> None:
        """Record the fault, then move a deposit or drop-off on to another compartment, or end the flow with an error.

        A door's own fault (did not open, garbled reply) takes that compartment out of service. A board that does
        not answer (or a bus that is down) is not each door's fault: its compartments are left as they were, the
        flow does not try them, and one staff task names the board (see :mod:`kiosk.cabinet.allocate`)."""
        where = allocate.scope(err)
        if where == "garbled":
            self._door_unknown(flow_id, err)
        reason = f"{type(err).__name__}: {err.message}"
        raise_after: KioskError | None = None
        down: list[allocate.Down] = []
        tried: list[str] = []
        with self._tx() as (s, now):
            flow = s.get(Flow, flow_id)
            assert flow is not None and flow.compartment_id is not None
            comp = s.get(Compartment, flow.compartment_id)
            assert comp is not None
            parcel = s.get(Parcel, flow.parcel_id) if flow.parcel_id else None
            gone = None if where == "bus" else comp.board
            board_down = allocate.BoardNotAnswering(
                f"{allocate.where(comp.cabinet_id, gone)} not answering: {comp.label} was not opened ({reason})",
                cabinet_id=comp.cabinet_id, board=gone)
            if where == "door":
                comp.state, comp.fault_reason, comp.updated_at = S.FAULTY, reason, now
                audit(s, now, flow.actor, "cabinet.door_fault", comp.label, flow=flow_id, kind=flow.kind, reason=reason)
                log.warning("door %s faulty (%s); taken out of service", comp.label, reason)
            else:
                audit(s, now, flow.actor, "cabinet.board_not_answering", comp.label, flow=flow_id, kind=flow.kind,
                      board=gone, reason=reason)
                log.warning("%s", board_down.message)
            kind, actor, size, old_label = flow.kind, flow.actor, flow.data.get("size", "S"), comp.label
            if kind in (S.DEPOSIT, S.DROPOFF_FLOW):
                if where == "door":
                    store.add_task(s, now, S.TASK_DOOR_FAULT, f"{comp.label}: {reason}", compartment_id=comp.id,
                                   flow_id=flow_id)
                else:
                    allocate.board_task(s, now, comp.cabinet_id, gone, f"{comp.label} was not opened ({reason})",
                                        flow_id=flow_id)
                # Boards found dead earlier in this flow stay off its list (kept in the flow, as JSON pairs).
                down = [(c, b) for c, b in flow.data.get("down", [])]
                if where != "door":
                    down += allocate.down_after(self, err, comp.cabinet_id, comp.board)
                tried = [*flow.data.get("tried", []), comp.label]
                flow.data = {**flow.data, "tried": tried, "down": down}
            elif kind == S.PICKUP:
                assert parcel is not None
                parcel.state = S.ATTENTION
                why = reason if where == "door" else board_down.message
                detail = f"{comp.label} would not open for parcel {parcel.id} ({why})"
                task = store.add_task(s, now, S.TASK_PICKUP_DOOR, detail, compartment_id=comp.id, parcel_id=parcel.id,
                                      flow_id=flow_id)
                finish.close_flow(flow, now, "door_fault", comp.label, task_id=task.id)
                raise_after = PickupDoorFault(f"compartment {comp.label} did not open for parcel {parcel.id}: {why}")
            else:  # collect, technician open: a person is standing there
                if parcel is not None:
                    parcel.state = S.ATTENTION
                pid = parcel.id if parcel else None
                if where == "door":
                    task = store.add_task(s, now, S.TASK_DOOR_FAULT, f"{comp.label}: {reason}", compartment_id=comp.id,
                                          parcel_id=pid, flow_id=flow_id)
                else:
                    task = store.add_task(s, now, S.TaskKind.BOARD_NOT_ANSWERING, f"{board_down.message}; parcel {pid}",
                                          compartment_id=comp.id, parcel_id=pid, flow_id=flow_id,
                                          cabinet_id=comp.cabinet_id, board=gone)
                finish.close_flow(flow, now, "door_fault", comp.label, task_id=task.id)
                raise_after = err if where == "door" else board_down
        if raise_after is not None:
            if raise_after is err:
                raise err
            raise raise_after from err
        # Deposit, drop-off: another compartment, chosen with no transaction open while its sensor is read.
        try:
            moved = allocate.take(self, size, actor, lambda s, now, nxt: self._move(s, now, flow_id, nxt),
                                  flow_id=flow_id, down=down)
        except allocate.BoardNotAnswering as dead:
            self._no_compartment(flow_id, old_label)
            raise dead
        if moved:
            return
        self._no_compartment(flow_id, old_label)
        if where != "door":
            raise board_down from err
        raise NoFreeCompartment(f"no working compartment is free for size {size} (tried {', '.join(tried)})") from err

    def _no_door_unknown(self, flow_id: int, label: str) -> None:
        """The rule "no second door opens while any door's state is unknown": read each unknown door again (a
        status request, safe to re-send); one still unreadable ends this flow unopened, as if it never ran."""
        for key, other in list(self.unknown_doors.items()):
            cab_id, board, channel = key
            try:
                self._bus(cab_id).door_state(board, channel)
            except LockBoardError as err:
                with self._tx() as (s, now):
                    flow = s.get(Flow, flow_id, with_for_update=True)
                    assert flow is not None
                    why = f"the state of door {other} is unknown"
                    audit(s, now, flow.actor, "cabinet.open_refused", label, flow=flow_id, kind=flow.kind, why=why)
                    parcel = s.get(Parcel, flow.parcel_id) if flow.parcel_id else None
                    if flow.kind in (S.DEPOSIT, S.DROPOFF_FLOW) and parcel is not None:  # nothing went in
                        comp = s.get(Compartment, flow.compartment_id)
                        assert comp is not None
                        parcel.state, parcel.finished_at, parcel.compartment_id = S.CANCELLED, now, None
                        store.release(comp, now)
                        finish.close_flow(flow, now, "not_opened", label)
                    elif parcel is not None:  # pickup, collect: the parcel is as it was
                        finish.roll_back(self, s, flow, why)
                    else:
                        finish.close_flow(flow, now, "not_opened", label)
                raise AnotherDoorUnknown(f"{label} was not opened: the state of door {other} is still unknown "
                                         f"(the lock bus garbles its replies: {err.message})") from err
            del self.unknown_doors[key]  # a valid reply: known again, open or shut
            log.info("door %s reads valid again", other)

    def _door_unknown(self, flow_id: int, err: LockBoardError) -> NoReturn:
        """Only garbled replies after the unlock: the door may stand open. No other door is opened for this flow
        (a deposit does not move on) and no door is marked faulty (the noise is the bus's): the parcel waits in
        ``attention`` with one task naming the board, its compartment kept as it was, so nothing is handed out
        twice and a person looks at the door."""
        with self._tx() as (s, now):
            flow = s.get(Flow, flow_id, with_for_update=True)
            assert flow is not None and flow.compartment_id is not None
            comp = s.get(Compartment, flow.compartment_id)
            assert comp is not None
            parcel = s.get(Parcel, flow.parcel_id) if flow.parcel_id else None
            if parcel is not None:
                parcel.state = S.ATTENTION
            pid = parcel.id if parcel else None
            task_id = allocate.garbled_task(s, now, comp, f"{comp.label} may be open after an unlock",
                                            flow_id=flow_id, parcel_id=pid)
            audit(s, now, flow.actor, "cabinet.door_state_unknown", comp.label, flow=flow_id, kind=flow.kind,
                  parcel=pid, board=comp.board, task=task_id)
            finish.close_flow(flow, now, "door_unknown", comp.label, task_id=task_id)
            label = comp.label
            self.unknown_doors[(comp.cabinet_id, comp.board, comp.channel)] = label
        log.warning("door %s: state unknown after garbled replies (flow %s, task %s)", label, flow_id, task_id)
        raise DoorStateUnknown(f"compartment {label}: the lock bus garbled every reply after the unlock, so whether "
                               f"the door opened is unknown; no other door was opened (staff task {task_id})",
                               task_id=task_id) from err

    def _move(self, s: Session, now: dt.datetime, flow_id: int, nxt: Compartment) -> bool:
        """The confirming transaction of a move: the flow and its parcel go to ``nxt`` (already reserved)."""
        flow = s.get(Flow, flow_id, with_for_update=True)
        assert flow is not None and flow.parcel_id is not None
        old, parcel = s.get(Compartment, flow.compartment_id), s.get(Parcel, flow.parcel_id)
        assert old is not None and parcel is not None
        store.release(old, now)  # a door at fault stays faulty; one on a silent board is free again, as it was
        parcel.compartment_id = flow.compartment_id = nxt.id
        transition(flow, S.OPENING, now)
        audit(s, now, flow.actor, "cabinet.door_opening", nxt.label, flow=flow_id, kind=flow.kind, parcel=parcel.id,
              instead_of=old.label)
        return True

    def _no_compartment(self, flow_id: int, label: str) -> None:
        """End a deposit or drop-off that found no compartment to move to: nothing went in."""
        with self._tx() as (s, now):
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
        with self._tx() as (s, _now):
            flow = s.get(Flow, flow_id)
            if flow is None:
                raise ValueError(f"no flow {flow_id}")
            if flow.finished_at is not None:
                return finish.stored_result(flow)
            comp = s.get(Compartment, flow.compartment_id)
            assert comp is not None
            kind, cab_id, board, channel = flow.kind, comp.cabinet_id, comp.board, comp.channel
        try:
            status = self._bus(cab_id).door_state(board, channel)
        except LockBoardFrameError as err:  # says nothing about the door: keep watching it
            log.warning("door of flow %s: garbled reply (%s); still watching", flow_id, err.message)
            return None
        if not status.closed:
            return None
        return self._closed(flow_id, kind, status)

    def _closed(self, flow_id: int, kind: str, status: DoorStatus) -> FlowResult:
        crashpoints.hit(f"{kind}.closed")
        with self._tx() as (s, _now):
            flow = s.get(Flow, flow_id, with_for_update=True)
            assert flow is not None
            done = flow.finished_at is not None  # another thread finished it first
            result = finish.stored_result(flow) if done else finish.complete(self, s, flow, status)
        self._open_since.pop(flow_id, None)
        if not done:
            crashpoints.hit(f"{kind}.done")
        return result

    def wait_closed(self, handle: FlowHandle | int, timeout_s: float | None = None,
                    cancel: threading.Event | Callable[[], bool] | None = None) -> FlowResult:
        """Poll until the door reads closed; after ``timeout_s`` (default: close_timeout_s) raise a staff task
        for the open door (once per flow) and DoorLeftOpen. The flow stays open: a later poll, wait_closed or
        :meth:`settle_open_flows` finishes it when the door is shut.

        ``cancel`` (an Event, or a callable returning True) ends the wait early: the screen that waited went
        away, so nobody waits any more and no worker is tied up for close_timeout_s. Then DoorLeftOpen is raised
        with ``task_id=None`` and no staff task: the door is not overdue, only unwatched by this caller, and
        :meth:`settle_open_flows` (the runtime's doors loop) finishes the flow or flags it when it is."""
        fid = handle if isinstance(handle, int) else handle.flow_id
        if isinstance(handle, int):
            with self._tx() as (s, _now):
                flow = s.get(Flow, handle)
                comp = s.get(Compartment, flow.compartment_id) if flow else None
                cab_id = comp.cabinet_id if comp else ""
        else:
            cab_id = handle.cabinet_id
        cancelled = _cancel_check(cancel)
        limit = timeout_s if timeout_s is not None else self._close_timeout_s(cab_id)
        deadline = self.clock.monotonic() + limit
        while not cancelled():
            result = self.poll(handle)
            if result is not None:
                return result
            if self.clock.monotonic() >= deadline:
                task_id = self.flag_left_open(fid)
                raise DoorLeftOpen(f"door still open after {limit:g} s (flow {fid}, staff task {task_id})",
                                   task_id=task_id)
            self.clock.sleep(self.close_poll_interval_s)
        raise DoorLeftOpen(f"stopped waiting for the door (flow {fid}); it is still open", task_id=None)

    # --- doors left open ------------------------------------------------------------------
    def flag_left_open(self, handle: FlowHandle | int) -> int | None:
        """The door of a running flow is still open after its wait: raise a staff task naming the door and the
        flow, once per flow (a second call returns the same task). None if the flow has finished meanwhile."""
        fid = handle if isinstance(handle, int) else handle.flow_id
        with self._tx() as (s, now):
            flow = s.get(Flow, fid, with_for_update=True)
            if flow is None:
                raise ValueError(f"no flow {fid}")
            if flow.finished_at is not None:
                return None
            if flow.data.get("left_open_task"):
                return int(flow.data["left_open_task"])
            comp = s.get(Compartment, flow.compartment_id)
            assert comp is not None
            detail = (f"{comp.label}: door left open during {flow.kind} (flow {flow.id}, parcel {flow.parcel_id}, "
                      f"by {flow.actor}); shut it: the kiosk then finishes the flow")
            task = store.add_task(s, now, S.TASK_DOOR_LEFT_OPEN, detail, compartment_id=comp.id,
                                  parcel_id=flow.parcel_id, flow_id=flow.id)
            audit(s, now, "kiosk", "cabinet.door_left_open", comp.label, flow=flow.id, kind=flow.kind,
                  parcel=flow.parcel_id, task=task.id)
            flow.data = {**flow.data, "left_open_task": task.id}
            log.warning("door %s left open (flow %s): staff task %s", comp.label, flow.id, task.id)
            return task.id

    def settle_open_flows(self) -> list[FlowResult]:
        """Look at every door left open past close_timeout_s: finish its flow if the door now reads closed,
        else raise (once) its staff task. The runtime calls this every few seconds, so a flow nobody waits on
        any more still finishes (PICKED_UP reported, ...). A flow still within its timeout is left alone: the
        screen waiting on it gets its result (a deposit's code is shown only there)."""
        with self._tx() as (s, now):
            rows = s.execute(
                select(Flow.id, Flow.kind, Flow.updated_at, Flow.data, Compartment.cabinet_id, Compartment.board,
                       Compartment.channel)
                .join(Compartment, Compartment.id == Flow.compartment_id)
                .where(Flow.finished_at.is_(None), Flow.state == S.DOOR_OPEN, Compartment.cabinet_id.in_(list(self.buses)))
                .order_by(Flow.id)
            ).all()
        done: list[FlowResult] = []
        mono = self.clock.monotonic()
        for fid, kind, opened_at, data, cab_id, board, channel in rows:
            if fid in self.found_open:
                continue  # reconcile.settle_found_open decides these
            flagged = bool((data or {}).get("left_open_task"))
            if (since := self._open_since.get(fid)) is None:
                # Opened before this process started: the wall clock is all there is to say how long ago
                # (updated_at is when the door was confirmed open: nothing else writes a flow until it ends).
                # Used once; from here on the monotonic clock counts.
                since = self._open_since[fid] = mono - max(0.0, (now - opened_at).total_seconds())
            if not flagged and mono - since < self._close_timeout_s(cab_id):
                continue
            try:
                status = self._bus(cab_id).door_state(board, channel)
            except LockBoardError as err:
                log.warning("door of flow %s not readable (%s); trying again later", fid, err.message)
                continue
            if status.closed:
                done.append(self._closed(fid, kind, status))
            elif not flagged:
                self.flag_left_open(fid)
        return done
