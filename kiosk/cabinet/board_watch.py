"""A board that answers again: the running kiosk re-reads each board it holds an open "not answering" task for
(every :data:`RECHECK_S`), and closes the task once the board answers. Found by the task's columns (cabinet,
board), never by its text. Only status requests are sent: re-sending them is always safe."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from sqlalchemy import select

from kiosk.audit import append as audit
from kiosk.cabinet import states as S
from kiosk.errors import LockBoardError
from kiosk.storage.models import StaffTask

if TYPE_CHECKING:
    from kiosk.cabinet.context import Context

log = logging.getLogger(__name__)

RECHECK_S = 5.0  # how often a silent board is asked again while its task is open


def recheck(eng: Context, last: dict[tuple[str, int | None], float]) -> list[int]:
    """Ask each board with an open board task once (at most every RECHECK_S); returns the tasks closed.
    ``last`` (board -> monotonic time of the last try) is kept by the caller between calls."""
    with eng.tx() as (s, _now):
        rows = s.execute(
            select(StaffTask.id, StaffTask.cabinet_id, StaffTask.board).where(
                StaffTask.kind == S.TaskKind.BOARD_NOT_ANSWERING,
                StaffTask.resolved_at.is_(None),
                StaffTask.parcel_id.is_(None),
                StaffTask.cabinet_id.in_(list(eng.buses)),
            )
        ).all()
    closed: list[int] = []
    mono = eng.clock.monotonic()
    for task_id, cab_id, board in rows:
        key = (cab_id, board)
        if mono - last.get(key, float("-inf")) < RECHECK_S:
            continue
        last[key] = mono
        cab = eng.cabinets.get(cab_id)
        boards = [board] if board is not None else list(cab.boards if cab else [])
        try:
            for b in boards:  # a whole bus is back when every board on it answers
                eng.buses[cab_id].board_state(b)
        except LockBoardError as err:
            log.debug("board task %s: still not answering (%s)", task_id, err.message)
            continue
        with eng.tx() as (s, _now):
            task = s.get(StaffTask, task_id, with_for_update=True)
            if task is None or task.resolved_at is not None:
                continue
            now = eng.clock.now()
            note = "the board answers again" if board is not None else "every board on the bus answers again"
            task.resolved_at, task.resolved_by, task.detail = now, "kiosk", f"{task.detail} [{note}]"
            audit(
                s,
                now,
                "kiosk",
                "cabinet.task_resolved",
                f"task {task_id}",
                kind=task.kind,
                note=note,
                cabinet=cab_id,
                board=board,
            )
        log.warning("board %s of cabinet %s answers again: staff task %s closed", board, cab_id, task_id)
        closed.append(task_id)
    return closed
