"""The hall's cabinets seen from the console: every cabinet, parcel and task in the database, whichever kiosk
owns it, and the database-only actions staff take on them.

The one place the console meets the cabinet core (issue 10 is rewriting ``kiosk.cabinet``): the rules
(what is live, what is overdue, how a parcel or task is shown to staff, how a task is resolved) all come
from ``kiosk.cabinet``; this module only chooses rows hall-wide instead of per kiosk. Meant to move into
``kiosk/cabinet`` once that redesign lands. Nothing here talks to a lock board.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import select

from kiosk.cabinet import Cabinet, ParcelView, TaskView, store
from kiosk.cabinet import states as S
from kiosk.clock import Clock
from kiosk.config import PickupConfig
from kiosk.help import TASK_HELP_REQUEST
from kiosk.privacy import scrub
from kiosk.storage.db import Database
from kiosk.storage.models import Compartment, Parcel, StaffTask

# What the grid shows for a compartment, most urgent first (the first that applies wins).
GRID_STATES = ("disabled", "faulty", "attention", "overdue", "occupied", "free")


@dataclass(frozen=True)
class Cell:
    """One compartment in the grid. ``door_closed``/``item_present`` as last read: not stored yet (phase 2)."""

    label: str
    cabinet_id: str
    size: str
    state: str  # one of GRID_STATES
    stored_state: str
    fault_reason: str | None
    parcel: ParcelView | None
    open_tasks: int


@dataclass(frozen=True)
class CabinetGrid:
    cabinet_id: str
    cells: tuple[Cell, ...]

    def count(self, state: str) -> int:
        return sum(1 for c in self.cells if c.state == state)


def _grid_state(comp: Compartment, parcel: ParcelView | None, tasks: int) -> str:
    if comp.state == S.DISABLED:
        return "disabled"
    if comp.state == S.FAULTY:
        return "faulty"
    if tasks or (parcel is not None and parcel.state == S.ATTENTION):
        return "attention"
    if parcel is not None and parcel.overdue:
        return "overdue"
    if parcel is not None or comp.state in (S.OCCUPIED, S.RESERVED):
        return "occupied"
    return "free"


class HallCabinets:
    """Read models and database-only actions over every cabinet of the hall."""

    def __init__(self, db: Database, clock: Clock, secret: bytes, pickup: PickupConfig, kiosk_id: str) -> None:
        self.db = db
        self.clock = clock
        # The cabinet service with no lock bus: only its database operations are used (resolve_task).
        self._cabinet = Cabinet(db, {}, [], pickup, clock, secret, kiosk_id)

    def grids(self) -> list[CabinetGrid]:
        with self.db.transaction() as s:
            now = self.clock.now()
            comps = s.execute(select(Compartment).where(Compartment.board >= 0)
                              .order_by(Compartment.cabinet_id, Compartment.label)).scalars().all()
            live: dict[int, Parcel] = {}
            for p in s.execute(select(Parcel).where(Parcel.state.in_(S.LIVE), Parcel.compartment_id.is_not(None))
                               .order_by(Parcel.id.desc())).scalars():
                live[p.compartment_id] = p  # type: ignore[index]  # oldest wins, as store.live_parcel_in
            tasks: dict[int, int] = defaultdict(int)
            for cid in s.execute(select(StaffTask.compartment_id).where(StaffTask.resolved_at.is_(None),
                                                                          StaffTask.compartment_id.is_not(None))
                                 ).scalars():
                tasks[cid] += 1
            by_cab: dict[str, list[Cell]] = defaultdict(list)
            for c in comps:
                p = live.get(c.id)
                view = store.parcel_view(s, p, now) if p is not None else None
                by_cab[c.cabinet_id].append(Cell(c.label, c.cabinet_id, c.size, _grid_state(c, view, tasks[c.id]),
                                                 c.state, c.fault_reason, view, tasks[c.id]))
            return [CabinetGrid(cab, tuple(cells)) for cab, cells in by_cab.items()]

    def history(self, label: str, limit: int = 50) -> tuple[Cell | None, list[ParcelView]]:
        """One compartment now, and the parcels it has held, newest first (owners masked)."""
        cell = next((c for g in self.grids() for c in g.cells if c.label == label), None)
        if cell is None:
            return None, []
        with self.db.transaction() as s:
            now = self.clock.now()
            rows = s.execute(select(Parcel).join(Compartment, Compartment.id == Parcel.compartment_id)
                             .where(Compartment.label == label).order_by(Parcel.id.desc()).limit(limit)).scalars()
            return cell, [store.parcel_view(s, p, now) for p in rows]

    def tasks(self, *, open_only: bool = True, kind: str = "", older_than_s: float | None = None,
              newer_than_s: float | None = None, limit: int = 500) -> list[TaskView]:
        """Staff tasks hall-wide, newest first; ``detail`` scrubbed once more on the way out."""
        with self.db.transaction() as s:
            now = self.clock.now()
            q = select(StaffTask)
            if open_only:
                q = q.where(StaffTask.resolved_at.is_(None))
            if kind:
                q = q.where(StaffTask.kind == kind)
            if older_than_s is not None:
                q = q.where(StaffTask.created_at <= now - dt.timedelta(seconds=older_than_s))
            if newer_than_s is not None:
                q = q.where(StaffTask.created_at >= now - dt.timedelta(seconds=newer_than_s))
            rows = s.execute(q.order_by(StaffTask.id.desc()).limit(limit)).scalars().all()
            out = []
            for t in rows:
                v = store.task_view(s, t)
                out.append(TaskView(v.id, v.kind, scrub(v.detail), v.label, v.parcel_id, v.flow_id, v.created_at,
                                    v.resolved_at, v.resolved_by))
            return out

    def open_help_requests(self) -> list[int]:
        """The ids of every help request no one has answered yet, hall-wide, oldest first."""
        with self.db.transaction() as s:
            return list(s.execute(select(StaffTask.id).where(StaffTask.kind == TASK_HELP_REQUEST,
                                                             StaffTask.resolved_at.is_(None))
                                  .order_by(StaffTask.id)).scalars())

    def task_kinds(self) -> list[str]:
        with self.db.transaction() as s:
            return sorted(k for k in s.execute(select(StaffTask.kind).distinct()).scalars())

    def resolve_task(self, task_id: int, *, actor: str, note: str) -> None:
        """The cabinet's own resolve (audited with the note, made safe by the cabinet)."""
        self._cabinet.resolve_task(task_id, actor=actor, note=note)

    def find_parcels(self, number: str, limit: int = 50) -> list[ParcelView]:
        """Parcels whose case or receipt number starts with ``number``, newest first."""
        n = number.strip()
        if not n:
            return []
        with self.db.transaction() as s:
            now = self.clock.now()
            rows = s.execute(select(Parcel).where(Parcel.case_number.startswith(n, autoescape=True)
                                                  | Parcel.receipt_number.startswith(n, autoescape=True))
                             .order_by(Parcel.id.desc()).limit(limit)).scalars().all()
            return [store.parcel_view(s, p, now) for p in rows]

    def overdue(self) -> list[tuple[str, ParcelView]]:
        """(cabinet id, parcel) for every overdue result in any cabinet, by cabinet then compartment: the
        collection round. Overdue as the cabinet decides it (``store.parcel_view``)."""
        with self.db.transaction() as s:
            now = self.clock.now()
            rows = s.execute(select(Parcel, Compartment.cabinet_id)
                             .join(Compartment, Compartment.id == Parcel.compartment_id)
                             .where(Parcel.kind == S.RESULT, Parcel.state.in_(S.LIVE))
                             .order_by(Compartment.cabinet_id, Compartment.label)).all()
            views = [(cab, store.parcel_view(s, p, now)) for p, cab in rows]
        return [(cab, v) for cab, v in views if v.overdue]
