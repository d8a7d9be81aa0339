"""Staff and technician operations: status, technician open, disable/enable, staff tasks, overdue list."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kiosk import notes
from kiosk.audit import append as audit
from kiosk.cabinet import finish, flowdata, labels, sensor_check, store
from kiosk.cabinet import states as S
from kiosk.cabinet.codes import CodeWait
from kiosk.cabinet.context import Context
from kiosk.cabinet.door import DoorEngine
from kiosk.cabinet.results import (
    CompartmentStatus,
    FlowResult,
    LockoutCleared,
    ParcelView,
    TaskView,
    UnknownCompartment,
)
from kiosk.cabinet.transitions import transition
from kiosk.errors import FlowError, LockBoardError, LockBoardFrameError
from kiosk.lockboard_families import FAMILY
from kiosk.ports import DoorStatus
from kiosk.privacy import audit_text
from kiosk.storage.models import Compartment, Flow, Parcel, StaffTask

log = logging.getLogger(__name__)


class Desk:
    """The staff desk and the technician: what the staff and technician screens (and ``kiosk cabinet ...``) call.
    Its own part, composed with the shared context and the door engine."""

    def __init__(self, ctx: Context, door: DoorEngine) -> None:
        self.ctx, self.door = ctx, door

    def _comp(self, s: Session, label: str) -> Compartment:
        """``label`` (``A01``, or ``CAB-02:A01`` when two of this kiosk's cabinets have an A01: kiosk.cabinet.labels)."""
        return labels.find(s, label, cabinets=self.ctx.buses)

    def status(self) -> list[CompartmentStatus]:
        """Every compartment: stored state, its parcel, and the door and item sensor as the board reads them now."""
        with self.ctx.tx() as (s, now):
            comps = (
                s.execute(
                    select(Compartment)
                    .where(Compartment.cabinet_id.in_(list(self.ctx.buses)))
                    .order_by(Compartment.label)
                )
                .scalars()
                .all()
            )
            parcels = {c.id: store.live_parcel_in(s, c.id) for c in comps}
            views = {cid: store.parcel_view(s, p, now) if p else None for cid, p in parcels.items()}
            reasons = {c.id: notes.fault_reason(s, c) for c in comps}  # staff's words read from their note
        boards: dict[tuple[str, int], dict[int, DoorStatus] | str] = {}
        for c in comps:
            key = (c.cabinet_id, c.board)
            if key not in boards and c.board >= 0:
                try:
                    boards[key] = dict(
                        self.ctx.bus(c.cabinet_id).board_state(c.board)
                    )  # one request per board
                except LockBoardError as err:
                    boards[key] = f"{type(err).__name__}: {err.message}"
        out = []
        for c in comps:
            b = boards.get((c.cabinet_id, c.board), "not on a board")
            door = b.get(c.channel) if isinstance(b, dict) else None
            out.append(
                CompartmentStatus(
                    c.label,
                    c.cabinet_id,
                    c.size,
                    c.board,
                    c.channel,
                    c.state,
                    reasons[c.id],
                    door.closed if door else None,
                    door.item_present if door else None,
                    views[c.id],
                    None if isinstance(b, dict) else b,
                )
            )
        return out

    def technician_open(self, label: str, *, actor: str) -> FlowResult:
        """Open one door for a technician (any state, audited); a door that does not open is marked faulty."""
        with self.ctx.tx() as (s, now):
            comp = self._comp(s, label)
            parcel = store.live_parcel_in(s, comp.id)
            audit(
                s,
                now,
                actor,
                "cabinet.technician_open",
                comp.label,
                state=comp.state,
                parcel=parcel.id if parcel else None,
            )
            data = flowdata.for_kind(S.TECH_OPEN, parcel=parcel.id if parcel else None)
            flow_id = self.door.begin(s, now, S.TECH_OPEN, comp, None, actor, data)
        handle = self.door.unlock(flow_id)
        return FlowResult(handle.flow_id, S.TECH_OPEN, "opened", handle.label, None)

    def technician_open_all(
        self, board: int, *, actor: str, cabinet_id: str | None = None
    ) -> list[FlowResult]:
        """Open every door of one board for a technician, each recorded (and audited) as a technician-open flow.

        Refused while any flow of this kiosk is open (its door must not be opened under a person). Kerong boards
        have an unlock-all command; a family without one is opened one door at a time (never re-sent). Once the
        doors are shut, :meth:`check_after_open_all` compares the item sensors with the records."""
        cab_id = cabinet_id or next(iter(self.ctx.cabinets))
        if cab_id not in self.ctx.buses:
            raise UnknownCompartment(f"no cabinet {cab_id} in this kiosk")
        with self.ctx.tx() as (s, now):
            running = s.execute(
                select(Flow.id)
                .join(Compartment, Compartment.id == Flow.compartment_id)
                .where(Flow.finished_at.is_(None), Compartment.cabinet_id.in_(list(self.ctx.buses)))
            ).scalar()
            if running is not None:
                raise FlowError(
                    f"open all refused: flow {running} has a door open or opening",
                    hint="Wait until every door is shut (see `kiosk cabinet status`).",
                )
            comps = (
                s.execute(
                    select(Compartment)
                    .where(Compartment.cabinet_id == cab_id, Compartment.board == board)
                    .order_by(Compartment.channel)
                )
                .scalars()
                .all()
            )
            if not comps:
                raise UnknownCompartment(f"cabinet {cab_id} has no compartment on board {board}")
            audit(s, now, actor, "cabinet.technician_open_all", cab_id, board=board, doors=len(comps))
            data = flowdata.for_kind(S.TECH_OPEN, all_board=board)
            flows = [
                (self.door.begin(s, now, S.TECH_OPEN, c, None, actor, data), c.label, c.channel)
                for c in comps
            ]
        bus = self.ctx.bus(cab_id)
        if FAMILY[self.ctx.cabinets[cab_id].family].can("unlock_all"):
            return self._opened_all(bus, cab_id, board, flows)
        out: list[FlowResult] = []
        for flow_id, label, _ch in flows:  # one at a time, each through the door engine's own open
            try:
                h = self.door.unlock(flow_id)
                out.append(FlowResult(h.flow_id, S.TECH_OPEN, "opened", label, None))
            except LockBoardError as err:
                out.append(FlowResult(flow_id, S.TECH_OPEN, "door_fault", label, None))
                log.warning("open all: %s did not open (%s)", label, err.message)
        return out

    def _opened_all(
        self, bus: Any, cab_id: str, board: int, flows: list[tuple[int, str, int]]
    ) -> list[FlowResult]:
        """Kerong: one unlock-all command (never re-sent), then each door as the board reads it."""
        try:
            doors = bus.unlock_all(board)
        except LockBoardError as err:
            doors, why = {}, f"{type(err).__name__}: {err.message}"
            if isinstance(
                err, LockBoardFrameError
            ):  # only garbage: they may stand open, so no other door opens
                self.ctx.unknown_doors.update({(cab_id, board, ch): label for _f, label, ch in flows})
        else:
            why = "did not read open after the unlock-all"
        out: list[FlowResult] = []
        with self.ctx.tx() as (s, now):
            for flow_id, label, ch in flows:
                flow = s.get(Flow, flow_id)
                assert flow is not None
                door = doors.get(ch)
                if door is not None and not door.closed:
                    transition(flow, S.DOOR_OPEN, now)
                    audit(s, now, flow.actor, "cabinet.door_opened", label, flow=flow_id, kind=flow.kind)
                    finish.close_flow(flow, now, "opened", label)
                else:  # unknown or shut: said so, no door marked (a technician stands at it)
                    audit(
                        s,
                        now,
                        flow.actor,
                        "cabinet.door_not_opened",
                        label,
                        flow=flow_id,
                        kind=flow.kind,
                        why=why,
                    )
                    finish.close_flow(flow, now, "not_opened", label)
                out.append(FlowResult(flow_id, S.TECH_OPEN, flow.outcome or "", label, None))
        return out

    def wait_board_shut(
        self, board: int, *, cabinet_id: str | None = None, timeout_s: float | None = None
    ) -> list[str]:
        """Read the board until every door on it is shut (or ``timeout_s``, default close_timeout_s); returns the
        labels still open (empty: all shut)."""
        cab_id = cabinet_id or next(iter(self.ctx.cabinets))
        with self.ctx.tx() as (s, _now):
            labels = dict(
                s.execute(
                    select(Compartment.channel, Compartment.label).where(
                        Compartment.cabinet_id == cab_id, Compartment.board == board
                    )
                ).all()
            )
        deadline = self.ctx.clock.monotonic() + (
            timeout_s if timeout_s is not None else self.ctx.close_timeout_s(cab_id)
        )
        while True:
            try:
                doors = self.ctx.bus(cab_id).board_state(board)
                still = sorted(labels[ch] for ch, d in doors.items() if ch in labels and not d.closed)
            except LockBoardError as err:  # unknown is not shut
                log.warning("open all: board %s not readable (%s)", board, err.message)
                still = sorted(labels.values())
            if not still or self.ctx.clock.monotonic() >= deadline:
                return still
            self.ctx.clock.sleep(self.ctx.close_poll_interval_s)

    def check_after_open_all(self, board: int, *, cabinet_id: str | None = None) -> list[str]:
        """The doors of an open-all are shut again: compare each item sensor with the records, one task per
        compartment that disagrees; returns those findings."""
        cab_id = cabinet_id or next(iter(self.ctx.cabinets))
        return sensor_check.compare(
            self.ctx, "after a technician opened every door,", cabinet_id=cab_id, board=board
        )

    def disable(self, label: str, *, actor: str, reason: str = "") -> None:
        """Take a compartment out of service (an occupied one keeps its parcel, which can still be taken out)."""
        with self.ctx.tx() as (s, now):
            comp = self._comp(s, label)
            running = s.execute(
                select(Flow.id).where(Flow.compartment_id == comp.id, Flow.finished_at.is_(None))
            ).scalar()
            if (
                running is not None
            ):  # asked of the flows, not read off the compartment (a held parcel keeps it reserved)
                raise FlowError(
                    f"{comp.label} is in use by a running flow ({running}); try again when its door is closed"
                )
            # The typed reason (it may name someone) is a deletable note: the audit and the row keep its id.
            fields = notes.for_audit(
                s,
                now,
                actor=actor,
                subject_kind="compartment",
                subject_id=labels.ref(comp.cabinet_id, comp.label),
                text=reason,
            )
            comp.state, comp.fault_reason, comp.updated_at = S.DISABLED, notes.STAFF_DISABLED, now
            comp.fault_note_id = fields.get("note")  # type: ignore[assignment]
            audit(s, now, actor, "cabinet.disabled", comp.label, **fields)

    def enable(self, label: str, *, actor: str) -> str:
        """Back in service (after a repair); returns the new state (occupied if a parcel is still inside)."""
        with self.ctx.tx() as (s, now):
            comp = self._comp(s, label)
            parcel = store.live_parcel_in(s, comp.id)
            if parcel is None:
                new = S.FREE
            else:
                new = S.RESERVED if parcel.state in (S.DEPOSITING, S.DROPPING) else S.OCCUPIED
            old = comp.state
            comp.state, comp.fault_reason, comp.fault_note_id, comp.updated_at = new, None, None, now
            audit(s, now, actor, "cabinet.enabled", comp.label, before=old, after=new)
            return new

    def tasks(self, *, open_only: bool = True) -> list[TaskView]:
        """Staff tasks, oldest first."""
        with self.ctx.tx() as (s, _now):
            q = select(StaffTask).order_by(StaffTask.id)
            if open_only:
                q = q.where(StaffTask.resolved_at.is_(None))
            return [store.task_view(s, t) for t in s.execute(q).scalars()]

    def report_problem(self, label: str, detail: str, *, actor: str, flow_id: int | None = None) -> int:
        """Someone at the kiosk says something is wrong with a compartment (e.g. "the door did not open"): a staff task."""
        with self.ctx.tx() as (s, now):
            comp = self._comp(s, label)
            parcel = (
                s.execute(
                    select(Parcel.id).where(Parcel.compartment_id == comp.id, Parcel.finished_at.is_(None))
                )
                .scalars()
                .first()
            )
            detail = (
                audit_text(detail) or "-"
            )  # it lands in the audit chain, directly and in the task's record
            audit(s, now, actor, "cabinet.problem_reported", comp.label, detail=detail, flow=flow_id)
            return store.add_task(
                s,
                now,
                "reported_problem",
                f"{comp.label}: {detail} (reported by {actor})",
                compartment_id=comp.id,
                parcel_id=parcel,
                flow_id=flow_id,
            ).id

    def resolve_task(self, task_id: int, *, actor: str, note: str = "") -> None:
        """Mark a task done; a parcel still held for attention is then collected with ``start_collect``."""
        with self.ctx.tx() as (s, now):
            task = s.get(StaffTask, task_id)
            if task is None:
                raise FlowError(f"no staff task {task_id}")
            if task.resolved_at is None:
                task.resolved_at, task.resolved_by = now, actor
                audit(
                    s,
                    now,
                    actor,
                    "cabinet.task_resolved",
                    f"task {task_id}",
                    kind=task.kind,
                    **notes.for_audit(
                        s, now, actor=actor, subject_kind="task", subject_id=task_id, text=note
                    ),
                )

    # --- a parcel held for attention: resolved at the desk -----------------------------------------
    def _held(self, s: Session, parcel_id: int, what: str) -> tuple[Parcel, Compartment]:
        """The parcel, if it is in ``attention`` in one of this kiosk's compartments with no door flow running."""
        parcel = s.get(Parcel, parcel_id, with_for_update=True)
        comp = s.get(Compartment, parcel.compartment_id) if parcel and parcel.compartment_id else None
        if parcel is None or comp is None or comp.cabinet_id not in self.ctx.buses:
            raise FlowError(
                f"{what}: no parcel {parcel_id} in this kiosk's compartments",
                hint="`kiosk cabinet status` lists the parcels in each compartment.",
            )
        if parcel.state != S.ATTENTION:
            raise FlowError(
                f"{what}: parcel {parcel_id} is {parcel.state}, not attention: refused",
                hint="Only a parcel held for staff (attention) can be handed over or put back.",
            )
        running = s.execute(
            select(Flow.id).where(Flow.compartment_id == comp.id, Flow.finished_at.is_(None))
        ).scalar()
        if running is not None:
            raise FlowError(
                f"{what}: the door of {comp.label} is in use by flow {running}; try again once it is shut"
            )
        return parcel, comp

    def handover(self, parcel_id: int, *, actor: str, note: str = "") -> ParcelView:
        """Staff handed a held result to its owner at the desk: PICKED_UP (reported once: the parcel leaves
        ``attention`` only once), its code dies, a queued pickup SMS is cancelled, its tasks are resolved."""
        with self.ctx.tx() as (s, now):
            parcel, comp = self._held(s, parcel_id, "hand over")
            if parcel.kind != S.RESULT:
                raise FlowError(
                    f"hand over: parcel {parcel_id} is a drop-off, not a result for a citizen",
                    hint="Take a drop-off out with `kiosk collect PARCEL`.",
                )
            parcel.state, parcel.finished_at, parcel.code_hmac = S.PICKED_UP, now, None
            store.release(comp, now)
            if parcel.stored_at is not None:  # only what the platform heard was deposited is reported
                store.report_delivery(s, now, parcel, "PICKED_UP", comp)
            why = f"parcel {parcel.id} handed over at the desk by {actor}"
            store.pickup_sms_moot(s, now, parcel, why)
            store.resolve_tasks_for(s, now, parcel.id, actor, note=why)
            audit(
                s,
                now,
                actor,
                "cabinet.handed_over",
                comp.label,
                parcel=parcel.id,
                case_number=parcel.case_number,
                **notes.for_audit(
                    s, now, actor=actor, subject_kind="parcel", subject_id=parcel.id, text=note
                ),
            )
            return store.parcel_view(s, parcel, now)

    def putback(self, parcel_id: int, *, actor: str, note: str = "") -> ParcelView:
        """Staff found a held parcel where it belongs: back to ``ready`` (a drop-off: ``dropped_off``), so its code
        and its owner's card work again; its tasks are resolved. Refused for a result never confirmed deposited
        (it has no code) and for a compartment out of service (enable it first: the code would open that door)."""
        with self.ctx.tx() as (s, now):
            parcel, comp = self._held(s, parcel_id, "put back")
            if parcel.stored_at is None or (parcel.kind == S.RESULT and parcel.code_hmac is None):
                raise FlowError(
                    f"put back: parcel {parcel_id} was never confirmed in {comp.label}, so it has no code",
                    hint="Take it out with `kiosk collect PARCEL` and deposit it again.",
                )
            if comp.state in S.OUT_OF_SERVICE:
                raise FlowError(
                    f"put back: {comp.label} is {comp.state}; enable it first",
                    hint=f"`kiosk cabinet enable {comp.label}` once its door works.",
                )
            if parcel.kind == S.RESULT:
                store.back_to_ready(s, now, parcel, f"parcel {parcel.id} put back by {actor}")
            else:
                parcel.state = S.DROPPED_OFF
            store.set_state(comp, S.OCCUPIED, now)
            store.resolve_tasks_for(
                s, now, parcel.id, actor, note=f"parcel {parcel.id} put back to {parcel.state} by {actor}"
            )
            audit(
                s,
                now,
                actor,
                "cabinet.put_back",
                comp.label,
                parcel=parcel.id,
                state=parcel.state,
                **notes.for_audit(
                    s, now, actor=actor, subject_kind="parcel", subject_id=parcel.id, text=note
                ),
            )
            return store.parcel_view(s, parcel, now)

    def overdue(self) -> list[ParcelView]:
        """Results past their expiry still in a compartment (their owner can still pick up by ID card)."""
        with self.ctx.tx() as (s, now):
            rows = (
                s.execute(
                    select(Parcel)
                    .join(Compartment, Compartment.id == Parcel.compartment_id)
                    .where(
                        Parcel.kind == S.RESULT,
                        Parcel.state.in_(S.LIVE),
                        Parcel.expires_at <= now,
                        Compartment.cabinet_id.in_(list(self.ctx.buses)),
                    )
                    .order_by(Parcel.expires_at)
                )
                .scalars()
                .all()
            )
            return [store.parcel_view(s, p, now) for p in rows]

    def clear_lockout(self, *, actor: str) -> LockoutCleared:
        """Staff lift the hall's pickup-code wait (and the wrong codes growing the next one); says what it lifted.
        The daily ceiling (pickup.wrong_codes_per_day) is not lifted: it is the hall's budget for guessing."""
        with self.ctx.tx() as (s, now):
            before = self.ctx.guard.clear(s, now)
            cleared = LockoutCleared(
                before.wait_s or None, before.wrong_counted, self.ctx.guard.status(s, now).wait_s or None
            )
            audit(
                s,
                now,
                actor,
                "cabinet.code_lockout_cleared",
                retry_after_s=cleared.retry_after_s,
                wrong_codes=cleared.wrong_codes,
                still_waits_s=cleared.still_waits_s,
            )
            return cleared

    def code_wait(self) -> CodeWait:
        """The hall's pickup-code state now: the wait, tries left, wrong codes today (for the staff screen)."""
        with self.ctx.tx() as (s, now):
            return self.ctx.guard.status(s, now)
