"""The console's platform page in a real browser (Debian's chromium): each kiosk's outbox backlog and dead
letters; "retry now" only marks rows due (audited with the staff id) for the owning kiosk's sender to send;
a role without the right sees no button and is refused the action."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from sqlalchemy import delete, select

from kiosk import audit
from kiosk.storage.models import OutboxMessage
from tests.console.conftest import login
from tests.console.hall import Hall

pytestmark = pytest.mark.slow


def seed(hall: Hall) -> dict[str, list[int]]:
    """Kiosk K-EAST: one waiting row, two dead letters; K-WEST: one dead letter."""
    now = dt.datetime.now(dt.UTC)
    made: dict[str, list[int]] = {}
    with hall.db.transaction() as s:
        s.execute(delete(OutboxMessage).where(OutboxMessage.origin_kiosk.in_(("K-EAST", "K-WEST"))))
        for kiosk, state, age_min in (
            ("K-EAST", "pending", 90),
            ("K-EAST", "dead", 300),
            ("K-EAST", "dead", 200),
            ("K-WEST", "dead", 50),
        ):
            m = OutboxMessage(
                request_id=str(uuid.uuid4()),
                operation="ReportDelivery",
                payload={"x": 1},
                state=state,
                attempts=8 if state == "dead" else 2,
                next_attempt_at=now + dt.timedelta(hours=1),
                created_at=now - dt.timedelta(minutes=age_min),
                last_error="PlatformUnavailable: timed out",
                origin_kiosk=kiosk,
            )
            s.add(m)
            s.flush()
            made.setdefault(f"{kiosk}:{state}", []).append(m.id)
    return made


def rows(hall: Hall, ids: list[int]) -> list[OutboxMessage]:
    with hall.db.transaction() as s:
        out = s.execute(select(OutboxMessage).where(OutboxMessage.id.in_(ids))).scalars().all()
        s.expunge_all()
        return list(out)


def test_backlog_per_kiosk_and_retry_marks_dead_letters_due(hall: Hall, page: Any) -> None:
    made = seed(hall)
    login(page, hall, "TECH1")
    page.click("nav a[href='/platform']")
    east = page.locator("#backlog tr[data-kiosk='K-EAST']")
    assert east.locator(".pending").inner_text() == "1" and east.locator(".dead").inner_text() == "2"
    assert "90 分钟" in east.inner_text()  # the oldest waiting row
    assert page.locator("#backlog tr[data-kiosk='K-WEST'] .dead").inner_text() == "1"
    east.locator("a").click()
    page.wait_for_load_state()
    assert sorted(int(r.get_attribute("data-id")) for r in page.locator("#rows tr[data-id]").all()) == sorted(
        made["K-EAST:pending"] + made["K-EAST:dead"]
    )
    page.locator("#backlog tr[data-kiosk='K-EAST'] form.retry-dead button").click()
    page.wait_for_load_state()
    assert page.inner_text("#done") == "已标记 2 条为立即发送，将由所属终端发送。"
    before = dt.datetime.now(dt.UTC)
    for m in rows(hall, made["K-EAST:dead"]):
        assert (m.state, m.attempts, m.origin_kiosk) == ("pending", 0, "K-EAST")
        assert m.next_attempt_at <= before  # due now: the owning kiosk's sender picks it up
    assert [m.state for m in rows(hall, made["K-WEST:dead"])] == ["dead"]  # another kiosk's left alone
    assert page.locator("#backlog tr[data-kiosk='K-EAST'] form.retry-dead").count() == 0
    # One row of K-WEST.
    page.goto(hall.url + "/platform?kiosk=K-WEST")
    page.locator(f"#rows tr[data-id='{made['K-WEST:dead'][0]}'] form.retry-one button").click()
    page.wait_for_load_state()
    assert [m.state for m in rows(hall, made["K-WEST:dead"])] == ["pending"]
    with hall.db.transaction() as s:
        retried = [r for r in audit.search(s, action="outbox.retry", limit=100)]
    subjects = {r.subject for r in retried if r.actor == "staff:TECH1"}
    assert {f"outbox:{i}" for i in made["K-EAST:dead"] + made["K-WEST:dead"]} <= subjects


def test_staff_see_the_backlog_but_may_not_retry(hall: Hall, page: Any) -> None:
    made = seed(hall)
    login(page, hall, "STAFF1")
    page.goto(hall.url + "/platform?kiosk=K-EAST")
    assert page.locator("#rows tr[data-id]").count() == 3 and page.locator("form.retry-one").count() == 0
    csrf = page.locator("form[action='/logout'] input[name=csrf]").get_attribute("value")
    status = page.evaluate(
        """async ([url, csrf]) => {
        const body = new URLSearchParams({csrf: csrf, kiosk: "K-EAST"});
        return (await fetch(url, {method: "POST", body: body})).status; }""",
        [f"{hall.url}/platform/retry", csrf],
    )
    assert status == 403
    assert [m.state for m in rows(hall, made["K-EAST:dead"])] == ["dead", "dead"]


def test_english(hall: Hall, page: Any) -> None:
    seed(hall)
    login(page, hall, "ADMIN1")
    page.goto(hall.url + "/lang/en")
    page.goto(hall.url + "/platform?kiosk=K-EAST")
    assert "Retry every dead letter now" in page.inner_text("#backlog") and "dead" in page.inner_text("#rows")
