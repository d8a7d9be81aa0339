"""The tasks page reads a long history a page at a time (Debian's chromium): 50 tasks, then "older tasks"
for the rest, none lost or repeated between pages."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select

from hallkiosk.console.app import TASKS_PAGE
from kiosk.storage.models import StaffTask
from tests.console.conftest import login
from tests.console.hall import Hall

pytestmark = pytest.mark.slow


def test_day_old_tasks_come_a_page_at_a_time(hall: Hall, page: Any) -> None:
    old = dt.datetime.now(dt.UTC) - dt.timedelta(days=3)
    with hall.db.transaction() as s:
        s.add_all(
            [
                StaffTask(kind="paging_test", detail=f"old task {i}", created_at=old, kiosk_id="HALL-PC-01")
                for i in range(TASKS_PAGE + 12)
            ]
        )
    with hall.db.transaction() as s:
        want = set(s.execute(select(StaffTask.id).where(StaffTask.kind == "paging_test")).scalars())
    login(page, hall, "STAFF1")
    page.goto(hall.url + "/tasks?open=0&kind=paging_test&age=day")
    first = [int(e.get_attribute("data-key")) for e in page.locator("li.task").all()]
    assert len(first) == TASKS_PAGE and first == sorted(first, reverse=True)
    page.click("#older")
    page.wait_for_load_state()
    second = [int(e.get_attribute("data-key")) for e in page.locator("li.task").all()]
    assert len(second) == 12 and page.locator("#older").count() == 0
    assert set(first) | set(second) == want and not set(first) & set(second)
