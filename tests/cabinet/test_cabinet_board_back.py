"""Fault 7 (first half): a board that answers again is noticed by the running kiosk, which closes its task."""

from __future__ import annotations

import pytest

from kiosk.cabinet import Cabinet
from kiosk.cabinet import states as S
from kiosk.cabinet.board_watch import RECHECK_S
from kiosk.errors import LockBoardError
from tests.cabinet.cabinet_support import case


def test_a_board_answering_again_closes_its_task(cabinet: Cabinet, sim, db, clock) -> None:
    sim.silence(0)
    with pytest.raises(LockBoardError):
        cabinet.start_deposit(case(1), actor="staff", size="S")
    [task] = cabinet.tasks()
    assert task.kind == S.TaskKind.BOARD_NOT_ANSWERING
    assert cabinet.recheck_boards() == []  # still silent
    before = len(sim.requests_to(0))
    assert cabinet.recheck_boards() == [] and len(sim.requests_to(0)) == before  # not asked again so soon
    sim.revive(0)
    assert cabinet.recheck_boards() == []  # within RECHECK_S of the last try: not asked yet
    clock.advance(RECHECK_S + 0.1)
    assert cabinet.recheck_boards() == [task.id]
    assert cabinet.tasks() == []
    [done] = cabinet.tasks(open_only=False)
    assert done.resolved_by == "kiosk" and "answers again" in done.detail
    assert cabinet.start_deposit(case(1), actor="staff", size="S").label == "A01"  # the board is used again
