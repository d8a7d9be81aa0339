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
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kiosk import notes
from kiosk.cabinet import Cabinet, LockoutCleared, ParcelView, TaskView, labels, store
from kiosk.cabinet import states as S
from kiosk.cabinet.codes import CodeWait
from kiosk.cabinet.results import NOT_ONE_COMPARTMENT
from kiosk.clock import Clock
from kiosk.config import PickupConfig
from kiosk.errors import LockBoardError
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
    note_id: int | None = None  # staff's note behind fault_reason, while it is kept (kiosk.notes)


@dataclass(frozen=True)
class CabinetGrid:
    cabinet_id: str
    cells: tuple[Cell, ...]

    def count(self, state: str) -> int:
        return sum(1 for c in self.cells if c.state == state)


def _grid_state(comp: Any, parcel: ParcelView | None, tasks: int) -> str:
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

    def __init__(
        self, db: Database, clock: Clock, secret: bytes, pickup: PickupConfig, kiosk_id: str
    ) -> None:
        self.db = db
        self.clock = clock
        self._made = (db, pickup, clock, secret, kiosk_id)
        # The cabinet service with no lock bus: only its database operations are used (resolve_task).
        self._cabinet = Cabinet(db, {}, [], pickup, clock, secret, kiosk_id)

    def _owning(self, label: str) -> Cabinet:
        """The cabinet service scoped to the cabinet holding ``label`` (A01, or CAB-02:A01 when two cabinets have
        an A01; an ambiguous bare label is refused), with a bus that refuses every door command: the console
        moves no door (those are kiosk commands)."""
        with self.db.transaction() as s:
            cab_id = labels.find(s, label).cabinet_id
        db, pickup, clock, secret, kiosk_id = self._made
        buses = {cab_id: _NoBus(cab_id)}
        return Cabinet(db, buses, [], pickup, clock, secret, kiosk_id)  # type: ignore[dict-item]

    def disable(self, label: str, *, actor: str, reason: str) -> None:
        """Out of service, through the cabinet's own disable (refused while a flow has it reserved; audited)."""
        self._owning(label).disable(label, actor=actor, reason=reason)

    def enable(self, label: str, *, actor: str) -> str:
        """Back in service through the cabinet's own enable; the new state (occupied if a parcel is inside)."""
        return self._owning(label).enable(label, actor=actor)

    def delete_fault_note(self, label: str, *, actor: str) -> bool:
        """Delete the staff note behind a compartment's out-of-service reason (audited by its id); False when
        there is none (never written, or already gone)."""
        with self.db.transaction() as s:
            comp = labels.find(s, label)
            if comp.fault_note_id is None or notes.read(s, comp.fault_note_id) == notes.DELETED:
                return False
            notes.remove(s, self.clock.now(), comp.fault_note_id, actor=actor)
            return True

    def code_wait(self) -> CodeWait:
        """The hall's pickup-code wait (shared by every kiosk on this database), for the parcels page."""
        return self._cabinet.code_wait()

    def lift_code_wait(self, *, actor: str) -> LockoutCleared:
        """Staff lift the hall's code wait through the cabinet's own clear_lockout (audited with ``actor``)."""
        return self._cabinet.clear_lockout(actor=actor)

    def grids(self) -> list[CabinetGrid]:
        """Every cabinet's grid. Built once per change of the hall (the console's PerChange) over thousands of
        compartments, so it reads plain rows, not ORM objects: a tenth of the Python work per compartment."""
        with self.db.transaction() as s:
            comps = s.execute(
                select(*_COMPARTMENT_COLUMNS)
                .where(Compartment.board >= 0)
                .order_by(Compartment.cabinet_id, Compartment.label)
            ).all()
            by_cab: dict[str, list[Cell]] = defaultdict(list)
            for cell in _cells(s, self.clock.now(), comps, every=True):
                by_cab[cell.cabinet_id].append(cell)
            return [CabinetGrid(cabinet_id=cab, cells=tuple(cells)) for cab, cells in by_cab.items()]

    def history(self, label: str, limit: int = 50) -> tuple[Cell | None, list[ParcelView]]:
        """One compartment now, and the parcels it has held, newest first (owners masked)."""
        with self.db.transaction() as s:
            now = self.clock.now()
            try:  # A01, or CAB-02:A01 (kiosk.cabinet.labels)
                comp = labels.find(s, label)
            except NOT_ONE_COMPARTMENT:  # none, or a bare label two cabinets share
                return None, []
            if comp.board < 0:
                return None, []
            (cell,) = _cells(s, now, [comp], every=False)
            rows = s.execute(
                select(Parcel).where(Parcel.compartment_id == comp.id).order_by(Parcel.id.desc()).limit(limit)
            ).scalars()
            return cell, [store.parcel_view(s, p, now) for p in rows]

    def tasks(
        self,
        *,
        open_only: bool = True,
        kind: str = "",
        older_than_s: float | None = None,
        newer_than_s: float | None = None,
        limit: int = 500,
        before_id: int | None = None,
    ) -> list[TaskView]:
        """Staff tasks hall-wide, newest first; ``detail`` scrubbed once more on the way out. ``before_id``: the
        next page (keyset: tasks older than that id), so a long history is read a page at a time."""
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
            if before_id is not None:
                q = q.where(StaffTask.id < before_id)
            rows = s.execute(q.order_by(StaffTask.id.desc()).limit(limit)).scalars().all()
            held = _load_compartments(s, {t.compartment_id for t in rows})  # noqa: F841  # see _load_compartments
            wanted = [t.parcel_id for t in rows if t.parcel_id is not None]  # the same for the tasks' parcels
            # Kept alive like ``held``: the session's identity map serves each row's parcel without a query.
            held_parcels = (  # noqa: F841
                list(s.execute(select(Parcel).where(Parcel.id.in_(wanted))).scalars()) if wanted else []
            )
            out = []
            for t in rows:
                v = store.task_view(s, t)
                out.append(
                    TaskView(
                        id=v.id,
                        kind=v.kind,
                        detail=scrub(v.detail),
                        label=v.label,
                        parcel_id=v.parcel_id,
                        flow_id=v.flow_id,
                        created_at=v.created_at,
                        resolved_at=v.resolved_at,
                        resolved_by=v.resolved_by,
                        number=v.number,
                    )
                )
            return out

    def open_help_requests(self) -> list[int]:
        """The ids of every help request no one has answered yet, hall-wide, oldest first."""
        with self.db.transaction() as s:
            return list(
                s.execute(
                    select(StaffTask.id)
                    .where(StaffTask.kind == TASK_HELP_REQUEST, StaffTask.resolved_at.is_(None))
                    .order_by(StaffTask.id)
                ).scalars()
            )

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
            rows = (
                s.execute(
                    select(Parcel)
                    .where(
                        Parcel.case_number.startswith(n, autoescape=True)
                        | Parcel.receipt_number.startswith(n, autoescape=True)
                    )
                    .order_by(Parcel.id.desc())
                    .limit(limit)
                )
                .scalars()
                .all()
            )
            held = _load_compartments(s, {p.compartment_id for p in rows})  # noqa: F841
            return [store.parcel_view(s, p, now) for p in rows]

    def overdue(self) -> list[tuple[str, ParcelView]]:
        """(cabinet id, parcel) for every overdue result in any cabinet, by cabinet then compartment: the
        collection round. Overdue as the cabinet decides it (``store.parcel_view``); the query only leaves
        out parcels whose time is not up yet (``expires_at`` in the future), so the page does not build a
        view of every parcel in the hall to keep a tenth of them."""
        with self.db.transaction() as s:
            now = self.clock.now()
            rows = s.execute(
                select(Parcel, Compartment)
                .join(Compartment, Compartment.id == Parcel.compartment_id)
                .where(Parcel.kind == S.RESULT, Parcel.state.in_(S.LIVE), Parcel.expires_at <= now)
                .order_by(Compartment.cabinet_id, Compartment.label)
            ).all()
            views = [(comp.cabinet_id, store.parcel_view(s, p, now)) for p, comp in rows]
        return [(cab, v) for cab, v in views if v.overdue]


def _load_compartments(s: Session, ids: set[int | None]) -> list[Compartment]:
    """The compartments behind a page of rows in one query. The caller keeps the list: the session's identity
    map holds objects weakly, and ``store.parcel_view``/``task_view`` find them there (``session.get``) instead
    of one query per row."""
    wanted = [i for i in ids if i is not None]
    return list(s.execute(select(Compartment).where(Compartment.id.in_(wanted))).scalars()) if wanted else []


# What a grid cell reads of a compartment and of the live parcel in it: rows of these, never whole ORM objects.
_COMPARTMENT_COLUMNS = (
    Compartment.id,
    Compartment.label,
    Compartment.cabinet_id,
    Compartment.size,
    Compartment.state,
    Compartment.fault_reason,
    Compartment.fault_note_id,
)
_PARCEL_COLUMNS = (
    Parcel.id,
    Parcel.kind,
    Parcel.state,
    Parcel.compartment_id,
    Parcel.case_number,
    Parcel.matter_name,
    Parcel.owner_id_masked,
    Parcel.owner_name_masked,
    Parcel.stored_at,
    Parcel.expires_at,
    Parcel.receipt_number,
)


class _Labels:
    """All :func:`kiosk.cabinet.store.parcel_view` asks of its session, ``get(Compartment, id).label``, answered
    from the labels the grid has already read: the view (and what "overdue" means) stays the cabinet's, and a
    grid of 2,000 compartments neither loads them as ORM objects nor looks each one up in a session."""

    @dataclass(frozen=True)
    class _Label:
        label: str

    def __init__(self, labels: dict[int, str]) -> None:
        self.labels = labels

    def get(self, _entity: type, ident: int) -> _Label:
        return self._Label(self.labels[ident])


def _cells(s: Session, now: dt.datetime, comps: Sequence[Any], *, every: bool) -> list[Cell]:
    """The grid cells of ``comps`` (rows or Compartment objects with the ``_COMPARTMENT_COLUMNS``; ``every``: all
    the hall's compartments, so no id filter is needed)."""
    ids = [c.id for c in comps]
    live_q = select(*_PARCEL_COLUMNS).where(Parcel.state.in_(S.LIVE), Parcel.compartment_id.is_not(None))
    task_q = select(StaffTask.compartment_id).where(
        StaffTask.resolved_at.is_(None), StaffTask.compartment_id.is_not(None)
    )
    if not every:
        live_q = live_q.where(Parcel.compartment_id.in_(ids))
        task_q = task_q.where(StaffTask.compartment_id.in_(ids))
    live: dict[int, Any] = {}
    for p in s.execute(live_q.order_by(Parcel.id.desc())):
        live[p.compartment_id] = p  # oldest wins, as store.live_parcel_in
    tasks: dict[int, int] = defaultdict(int)
    for cid in s.execute(task_q).scalars():
        tasks[cid] += 1
    labels = _Labels({c.id: c.label for c in comps})
    out = []
    for c in comps:
        p = live.get(c.id)
        reason = notes.fault_reason(s, c)  # staff's words from their note ("note deleted" once gone)
        from_note = reason is not None and reason != c.fault_reason  # the reason is staff's note
        kept_note = c.fault_note_id if from_note and not reason.endswith(notes.DELETED) else None
        view = store.parcel_view(labels, p, now) if p is not None else None  # type: ignore[arg-type]
        n = tasks.get(c.id, 0)
        out.append(
            Cell(
                label=c.label,
                cabinet_id=c.cabinet_id,
                size=c.size,
                state=_grid_state(c, view, n),
                stored_state=c.state,
                fault_reason=reason,
                parcel=view,
                open_tasks=n,
                note_id=kept_note,
            )
        )
    return out


class _NoBus:
    """Stands in for a lock bus in the console's process: every door command is refused, loudly."""

    def __init__(self, cabinet_id: str) -> None:
        self.cabinet_id = cabinet_id

    def __getattr__(self, name: str) -> object:
        raise LockBoardError(
            f"the console holds no lock bus for {self.cabinet_id}: a door is moved only by its "
            f"kiosk (a command row), never by the console ({name})"
        )
