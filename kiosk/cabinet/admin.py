"""Staff and technician operations: status, technician open, disable/enable, staff tasks, overdue list."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from kiosk.audit import append as audit
from kiosk.cabinet import states as S
from kiosk.cabinet import store
from kiosk.cabinet.codes import CodeWait
from kiosk.cabinet.flows import Flows
from kiosk.cabinet.results import (
    CompartmentStatus,
    FlowResult,
    LockoutCleared,
    ParcelView,
    TaskView,
    UnknownCompartment,
)
from kiosk.errors import FlowError, LockBoardError
from kiosk.ports import DoorStatus
from kiosk.privacy import audit_text
from kiosk.storage.models import Compartment, Parcel, StaffTask


class Admin(Flows):
    """What the staff and technician screens (and ``kiosk cabinet ...``) call."""

    def _comp(self, s: Session, label: str) -> Compartment:
        comp = s.execute(select(Compartment).where(Compartment.label == label.upper())).scalar_one_or_none()
        if comp is None or comp.cabinet_id not in self.buses:
            raise UnknownCompartment(f"no compartment {label} in this kiosk's cabinets")
        return comp

    def status(self) -> list[CompartmentStatus]:
        """Every compartment: stored state, its parcel, and the door and item sensor as the board reads them now."""
        with self._tx() as (s, now):
            comps = s.execute(select(Compartment).where(Compartment.cabinet_id.in_(list(self.buses)))
                              .order_by(Compartment.label)).scalars().all()
            parcels = {c.id: store.live_parcel_in(s, c.id) for c in comps}
            views = {cid: store.parcel_view(s, p, now) if p else None for cid, p in parcels.items()}
        boards: dict[tuple[str, int], dict[int, DoorStatus] | str] = {}
        for c in comps:
            key = (c.cabinet_id, c.board)
            if key not in boards and c.board >= 0:
                try:
                    boards[key] = dict(self._bus(c.cabinet_id).board_state(c.board))  # one request per board
                except LockBoardError as err:
                    boards[key] = f"{type(err).__name__}: {err.message}"
        out = []
        for c in comps:
            b = boards.get((c.cabinet_id, c.board), "not on a board")
            door = b.get(c.channel) if isinstance(b, dict) else None
            out.append(CompartmentStatus(c.label, c.cabinet_id, c.size, c.board, c.channel, c.state, c.fault_reason,
                                         door.closed if door else None, door.item_present if door else None,
                                         views[c.id], None if isinstance(b, dict) else b))
        return out

    def technician_open(self, label: str, *, actor: str) -> FlowResult:
        """Open one door for a technician (any state, audited); a door that does not open is marked faulty."""
        with self._tx() as (s, now):
            comp = self._comp(s, label)
            parcel = store.live_parcel_in(s, comp.id)
            audit(s, now, actor, "cabinet.technician_open", comp.label, state=comp.state,
                  parcel=parcel.id if parcel else None)
            flow_id = self._begin(s, now, S.TECH_OPEN, comp, None, actor, {"parcel": parcel.id if parcel else None})
        handle = self._unlock(flow_id)
        return FlowResult(handle.flow_id, S.TECH_OPEN, "opened", handle.label, None)

    def disable(self, label: str, *, actor: str, reason: str = "") -> None:
        """Take a compartment out of service (an occupied one keeps its parcel, which can still be taken out)."""
        with self._tx() as (s, now):
            comp = self._comp(s, label)
            if comp.state in (S.RESERVED,):
                raise FlowError(f"{comp.label} is in use by a running flow; try again when its door is closed")
            comp.state, comp.fault_reason, comp.updated_at = S.DISABLED, reason or "disabled by staff", now
            audit(s, now, actor, "cabinet.disabled", comp.label, reason=audit_text(reason))  # typed: made safe

    def enable(self, label: str, *, actor: str) -> str:
        """Back in service (after a repair); returns the new state (occupied if a parcel is still inside)."""
        with self._tx() as (s, now):
            comp = self._comp(s, label)
            parcel = store.live_parcel_in(s, comp.id)
            if parcel is None:
                new = S.FREE
            else:
                new = S.RESERVED if parcel.state in (S.DEPOSITING, S.DROPPING) else S.OCCUPIED
            old = comp.state
            comp.state, comp.fault_reason, comp.updated_at = new, None, now
            audit(s, now, actor, "cabinet.enabled", comp.label, before=old, after=new)
            return new

    def tasks(self, *, open_only: bool = True) -> list[TaskView]:
        """Staff tasks, oldest first."""
        with self._tx() as (s, _now):
            q = select(StaffTask).order_by(StaffTask.id)
            if open_only:
                q = q.where(StaffTask.resolved_at.is_(None))
            return [store.task_view(s, t) for t in s.execute(q).scalars()]

    def report_problem(self, label: str, detail: str, *, actor: str, flow_id: int | None = None) -> int:
        """Someone at the kiosk says something is wrong with a compartment (e.g. "the door did not open"): a staff task."""
        with self._tx() as (s, now):
            comp = self._comp(s, label)
            parcel = s.execute(select(Parcel.id).where(Parcel.compartment_id == comp.id, Parcel.finished_at.is_(None))
                               ).scalars().first()
            detail = audit_text(detail) or "-"  # it lands in the audit chain, directly and in the task's record
            audit(s, now, actor, "cabinet.problem_reported", comp.label, detail=detail, flow=flow_id)
            return store.add_task(s, now, "reported_problem", f"{comp.label}: {detail} (reported by {actor})",
                                  compartment_id=comp.id, parcel_id=parcel, flow_id=flow_id).id

    def resolve_task(self, task_id: int, *, actor: str, note: str = "") -> None:
        """Mark a task done; a parcel still held for attention is then collected with ``start_collect``."""
        with self._tx() as (s, now):
            task = s.get(StaffTask, task_id)
            if task is None:
                raise FlowError(f"no staff task {task_id}")
            if task.resolved_at is None:
                task.resolved_at, task.resolved_by = now, actor
                audit(s, now, actor, "cabinet.task_resolved", f"task {task_id}", kind=task.kind, note=audit_text(note))

    def overdue(self) -> list[ParcelView]:
        """Results past their expiry still in a compartment (their owner can still pick up by ID card)."""
        with self._tx() as (s, now):
            rows = s.execute(
                select(Parcel).join(Compartment, Compartment.id == Parcel.compartment_id)
                .where(Parcel.kind == S.RESULT, Parcel.state.in_(S.LIVE), Parcel.expires_at <= now,
                       Compartment.cabinet_id.in_(list(self.buses)))
                .order_by(Parcel.expires_at)
            ).scalars().all()
            return [store.parcel_view(s, p, now) for p in rows]

    def clear_lockout(self, *, actor: str) -> LockoutCleared:
        """Staff lift the hall's pickup-code wait (and the wrong codes growing the next one); says what it lifted.
        The daily ceiling (pickup.wrong_codes_per_day) is not lifted: it is the hall's budget for guessing."""
        with self._tx() as (s, now):
            before = self.guard.clear(s, now)
            cleared = LockoutCleared(before.wait_s or None, before.wrong_counted,
                                     self.guard.status(s, now).wait_s or None)
            audit(s, now, actor, "cabinet.code_lockout_cleared", retry_after_s=cleared.retry_after_s,
                  wrong_codes=cleared.wrong_codes, still_waits_s=cleared.still_waits_s)
            return cleared

    def code_wait(self) -> CodeWait:
        """The hall's pickup-code state now: the wait, tries left, wrong codes today (for the staff screen)."""
        with self._tx() as (s, now):
            return self.guard.status(s, now)
