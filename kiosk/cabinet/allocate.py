"""Handing out a compartment without holding the database while a board is asked anything.

A serial request can take reply_timeout × (retries + 1) when a board is silent. Inside a write transaction
that would hold SQLite's one write lock (every other writer gets "database is locked") or, after an audit
record, PostgreSQL's hall-wide audit lock, for that long. So :func:`take` goes in three steps:

1. reserve the best fit and commit (``reserved``: no other flow or kiosk takes it);
2. read its item sensor with no transaction open;
3. in a second transaction, hand it to the caller's ``confirm`` (which records the parcel and the flow), or
   take it out of service for a stray item and go round again.

A crash between 1 and 3 leaves a compartment reserved with no flow and no live parcel: start-up
reconciliation frees exactly those (``reconcile._free_orphans``).

Faults are judged by whose they are. A jammed door or a garbled reply is the door's: that compartment goes
out of service and the flow moves on. No reply at all is the board's, and a port that fails is the whole
bus's: its doors are left as they were (marking each one faulty would take a whole cabinet out of service for
one loose cable), the flow does not try them, and one staff task names the board.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, TypeVar

from sqlalchemy import and_, not_, select
from sqlalchemy.orm import Session

from kiosk.audit import append as audit
from kiosk.cabinet import states as S
from kiosk.cabinet import store
from kiosk.errors import LockBoardError, LockBoardFrameError, LockBoardTimeout, OpenNotDetected
from kiosk.storage.models import Compartment, StaffTask

if TYPE_CHECKING:
    from kiosk.cabinet.context import Context

log = logging.getLogger(__name__)
T = TypeVar("T")

# A "free" compartment whose sensor sees something is taken out of service, but never more than this many in
# one allocation: past that, a stuck sensor or a wrong item_present_level is far likelier than a row of strays.
MAX_STRAYS = 2
TASK_BOARD = S.TaskKind.BOARD_NOT_ANSWERING
TASK_SENSORS = S.TaskKind.ITEM_SENSORS
Down = tuple[str, int | None]  # (cabinet id, board); board None: the cabinet's whole bus


class BoardNotAnswering(LockBoardError):
    """A lock board (or its bus) did not answer: the flow ended without trying the board's other doors."""

    hint = (
        "Check the board's power, its RS-485 cable and DIP address (`kiosk diag --only lockboards`); its doors "
        "were left as they were, so nothing needs enabling once it answers. Then resolve the staff task."
    )

    def __init__(self, message: str, *, cabinet_id: str, board: int | None) -> None:
        super().__init__(message)
        self.cabinet_id, self.board = cabinet_id, board


def scope(err: LockBoardError) -> str:
    """Whose fault: "door" (did not open), "garbled" (only garbled replies: the bus's, the door's state unknown),
    "board" (no reply) or "bus" (the port failed)."""
    if isinstance(err, LockBoardTimeout):
        return "board"
    if isinstance(err, OpenNotDetected):
        return "door"
    if isinstance(err, LockBoardFrameError):
        return "garbled"
    return "bus"  # cannot open the port, port failed, bus closed, no bus configured


def garbled_task(
    s: Session, now: dt.datetime, comp: Compartment, why: str, *, flow_id: int | None, parcel_id: int | None
) -> int:
    """One open "garbled replies" task per board (found by kind and board, never by its text): line noise is the
    bus's problem, so no compartment is marked faulty for it."""
    found = s.execute(
        select(StaffTask.id).where(
            StaffTask.kind == S.TaskKind.BUS_GARBLED,
            StaffTask.resolved_at.is_(None),
            StaffTask.cabinet_id == comp.cabinet_id,
            StaffTask.board == comp.board,
        )
    ).first()
    if found is not None:
        return int(found[0])
    detail = (
        f"{where(comp.cabinet_id, comp.board)}: garbled replies (line noise or bad checksums): {why}. Check the "
        f"RS-485 cable, its termination and earthing; no door was marked faulty"
    )
    return store.add_task(
        s, now, S.TaskKind.BUS_GARBLED, detail, compartment_id=comp.id, parcel_id=parcel_id, flow_id=flow_id
    ).id


def where(cabinet_id: str, board: int | None) -> str:
    return (
        f"board {board} (cabinet {cabinet_id})"
        if board is not None
        else f"the lock bus of cabinet {cabinet_id}"
    )


def down_after(ctx: Context, err: LockBoardError, cabinet_id: str, board: int) -> list[Down]:
    """What a board-level fault puts out of reach: the board, or every cabinet on the same bus object."""
    if scope(err) == "board":
        return [(cabinet_id, board)]
    bus = ctx.buses.get(cabinet_id)
    return [(c, None) for c, b in ctx.buses.items() if b is bus] or [(cabinet_id, None)]


def board_task(
    s: Session, now: dt.datetime, cabinet_id: str, board: int | None, why: str, *, flow_id: int | None = None
) -> int:
    """One open "board N not answering" task per board: a second flow meeting the same dead board adds none."""
    head = f"{where(cabinet_id, board)} not answering"
    found = s.execute(
        select(StaffTask.id).where(
            StaffTask.kind == TASK_BOARD,
            StaffTask.resolved_at.is_(None),
            StaffTask.parcel_id.is_(None),
            StaffTask.cabinet_id == cabinet_id,
            StaffTask.board.is_(None) if board is None else StaffTask.board == board,
        )
    ).first()
    if found is not None:
        return int(found[0])
    detail = (
        f"{head}: {why}; its doors were left as they were. Check its power and cable, then resolve this task"
    )
    return store.add_task(s, now, TASK_BOARD, detail, flow_id=flow_id, cabinet_id=cabinet_id, board=board).id


def _candidate(s: Session, cabinet_ids: Iterable[str], size: str, down: set[Down]) -> Compartment | None:
    """The smallest free compartment that fits, off the boards known not to answer, locked (two kiosks never
    take the same one; SQLite ignores the lock, BEGIN IMMEDIATE serialises writers there)."""
    if size not in S.SIZES:
        raise ValueError(f"size must be one of {S.SIZES}")
    cabs = [c for c in cabinet_ids if (c, None) not in down]
    off = [not_(and_(Compartment.cabinet_id == c, Compartment.board == b)) for c, b in down if b is not None]
    for sz in S.SIZES[S.SIZES.index(size) :]:
        q = (
            select(Compartment)
            .where(
                Compartment.state == S.FREE, Compartment.size == sz, Compartment.cabinet_id.in_(cabs), *off
            )
            .order_by(Compartment.label)
            .limit(1)
            .with_for_update(skip_locked=True, key_share=True)
        )
        comp = s.execute(q).scalar_one_or_none()
        if comp is not None:
            return comp
    return None


def _sensors_suspect(s: Session, cabinet_id: str, board: int) -> bool:
    """While its "item sensors look wrong" task is open, a board's sensors decide nothing at allocation."""
    return (
        s.execute(
            select(StaffTask.id).where(
                StaffTask.kind == TASK_SENSORS,
                StaffTask.resolved_at.is_(None),
                StaffTask.cabinet_id == cabinet_id,
                StaffTask.board == board,
            )
        ).first()
        is not None
    )


def _item_present(ctx: Context, cabinet_id: str, board: int, channel: int) -> bool | None:
    """The sensor of one door; None with no sensor or a garbled reply (the unlock that follows decides).
    Raises the board's or the bus's error when it does not answer at all."""
    cab = ctx.cabinets.get(cabinet_id)
    if cab is not None and not cab.has_item_sensors:
        return None  # nothing to read: no request at all
    try:
        return ctx.bus(cabinet_id).door_state(board, channel).item_present
    except LockBoardError as err:
        if scope(err) in ("door", "garbled"):
            return None
        raise


def take(
    ctx: Context,
    size: str,
    actor: str,
    confirm: Callable[[Session, dt.datetime, Compartment], T],
    *,
    flow_id: int | None = None,
    down: Iterable[Down] = (),
) -> T | None:
    """Reserve, read, confirm (see the module text). ``confirm(s, now, comp)`` runs in the confirming transaction
    with ``comp`` reserved; its value is returned. None when nothing fits; BoardNotAnswering when something
    would have fitted on a board that did not answer."""
    skip, strays = set(down), 0
    dead: tuple[str, int | None, LockBoardError, int] | None = None
    while True:
        with ctx.tx() as (s, now):
            comp = _candidate(s, ctx.buses, size, skip)
            if comp is None:
                break
            comp.state, comp.updated_at = S.RESERVED, now
            cid, label, cab_id, board, channel = (
                comp.id,
                comp.label,
                comp.cabinet_id,
                comp.board,
                comp.channel,
            )
            suspect = _sensors_suspect(s, cab_id, board)
        try:
            present = None if suspect else _item_present(ctx, cab_id, board, channel)  # no transaction open
        except LockBoardError as err:
            skip.update(down_after(ctx, err, cab_id, board))
            gone = None if scope(err) == "bus" else board
            with ctx.tx() as (s, now):
                _release(s, now, cid)
                audit(
                    s,
                    now,
                    actor,
                    "cabinet.board_not_answering",
                    label,
                    flow=flow_id,
                    board=gone,
                    reason=f"{type(err).__name__}: {err.message}",
                )
                task_id = board_task(
                    s, now, cab_id, gone, f"no answer reading {label}'s item sensor", flow_id=flow_id
                )
            log.warning("%s not answering; allocation passes over it: %s", where(cab_id, gone), err.message)
            dead = (cab_id, gone, err, task_id)
            continue
        except Exception:  # not BaseException: a process going down leaves the reservation to start-up
            _release_now(ctx, cid)
            raise
        try:
            with ctx.tx() as (s, now):
                comp = s.get(Compartment, cid, with_for_update=True)
                if comp is None or comp.state != S.RESERVED:
                    continue  # a person enabled or disabled it meanwhile: it is not ours any more
                if present and strays < MAX_STRAYS:
                    _stray(s, now, comp, actor, flow_id)
                    strays += 1
                    continue
                if present:
                    _distrust(s, now, comp, actor, flow_id)
                return confirm(s, now, comp)
        except Exception:  # not BaseException: a process going down leaves the reservation to start-up
            _release_now(ctx, cid)
            raise
    if dead is None:
        return None
    cab_id, gone, err, task_id = dead
    raise BoardNotAnswering(
        f"{where(cab_id, gone)} not answering ({err.message}); no other compartment of size "
        f"{size} or larger is free on a board that answers (staff task {task_id})",
        cabinet_id=cab_id,
        board=gone,
    ) from err


def _release(s: Session, now: dt.datetime, comp_id: int) -> None:
    comp = s.get(Compartment, comp_id, with_for_update=True)
    if comp is not None and comp.state == S.RESERVED:
        store.release(comp, now)


def _release_now(ctx: Context, comp_id: int) -> None:
    """Best effort after an error: give back a reservation nothing recorded (a crash leaves it to start-up)."""
    try:
        with ctx.tx() as (s, now):
            _release(s, now, comp_id)
    except Exception:  # the original error says more; start-up reconciliation frees the reservation
        log.exception("could not give back the reservation of compartment %s", comp_id)


def _stray(s: Session, now: dt.datetime, comp: Compartment, actor: str, flow_id: int | None) -> None:
    """Something is inside a compartment believed empty: someone's (left behind, or a collect shut on it). Out of
    service with a staff task, never handed out on top of it. This also keeps reconciliation honest: "item
    present" after an interrupted deposit then means the deposited item."""
    reason = "the item sensor reads something inside, but no parcel is stored there"
    comp.state, comp.fault_reason, comp.updated_at = S.DISABLED, reason, now
    audit(s, now, actor, "cabinet.stray_item", comp.label, flow=flow_id)
    store.add_task(
        s,
        now,
        S.TASK_ITEM_LEFT,
        f"{comp.label}: {reason}; take it out, then enable {comp.label}",
        compartment_id=comp.id,
        flow_id=flow_id,
    )
    log.warning("%s reads an item but should be empty; taken out of service", comp.label)


def _distrust(s: Session, now: dt.datetime, comp: Compartment, actor: str, flow_id: int | None) -> None:
    """A third "free but full" in one allocation: the sensors, not the compartments, are suspect. One task; the
    compartment is handed out (the person at the open door sees inside) and, while the task is open, this
    board's sensors no longer take compartments out of service at allocation."""
    head = f"item sensors look wrong on {where(comp.cabinet_id, comp.board)}"
    detail = (
        f"{head}: {MAX_STRAYS + 1} compartments in a row read an item though none is stored there "
        f"(the last, {comp.label}, was handed out anyway). Check the sensors and item_present_level, "
        "then resolve this task: until then this board's sensors are not trusted when handing out doors"
    )
    store.add_task(s, now, TASK_SENSORS, detail, compartment_id=comp.id, flow_id=flow_id)
    audit(s, now, actor, "cabinet.item_sensors_suspect", comp.label, flow=flow_id, board=comp.board)
    log.warning("%s", head)
