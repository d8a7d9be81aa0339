"""Histories kept by long-running parts stay bounded (issue 16, item 9)."""

from __future__ import annotations

import pytest

from drivers.lockboard import simmodel
from drivers.lockboard.frames import Request
from kiosk.bounded import append_bounded


@pytest.mark.parametrize(
    ("bound", "appends", "expected_tail"),
    [
        (5, 3, [0, 1, 2]),  # under the bound: everything kept
        (5, 6, [0, 1, 2, 3, 4, 5]),  # within the tenth of slack: not trimmed yet
        (5, 7, [2, 3, 4, 5, 6]),  # past it: the newest five
        (100, 1000, list(range(900, 1000))),
    ],
)
def test_append_bounded_keeps_the_newest(bound: int, appends: int, expected_tail: list[int]) -> None:
    items: list[int] = []
    for i in range(appends):
        append_bounded(items, i, bound)
        assert len(items) <= bound + max(1, bound // 10)
    if appends > bound + max(1, bound // 10):
        assert items[-bound:] == expected_tail
    else:
        assert items == expected_tail


def test_simulated_lock_boards_keep_only_the_newest_requests(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(simmodel, "REQUEST_LOG", 50)
    bank = simmodel.BoardBank("kerong-cu", [0])
    for _ in range(1000):  # a day of status polls, shortened
        bank.respond(Request("kerong-cu", "status", 0))
    assert 50 <= len(bank.received) <= 55 and len(bank.requests_to(0)) == len(bank.received)
