"""Lifting the hall-wide pickup-code wait from the console in a real browser (Debian's chromium): the parcels
page shows the wait every kiosk shares, staff lift it after a confirmation (audited with their staff id, through
the cabinet's own clear_lockout), and a technician is offered no button and refused the action."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from kiosk import audit
from kiosk.cabinet.codes import CodeGuard
from kiosk.config import PickupConfig
from tests.console.conftest import login
from tests.console.hall import Hall

pytestmark = pytest.mark.slow


def guard() -> CodeGuard:
    return CodeGuard(PickupConfig(), "HALL-PC-02")  # the console's hall config keeps the default pickup rules


def wrong_codes(hall: Hall, n: int) -> int:
    """``n`` wrong codes typed at a kiosk now, as its cabinet records them; the hall's wait after them."""
    g = guard()
    with hall.db.transaction() as s:
        for _ in range(n):
            g.check(s, dt.datetime.now(dt.UTC))
            g.record(s, dt.datetime.now(dt.UTC), ok=False)
        return g.status(s, dt.datetime.now(dt.UTC)).wait_s


def wait_now(hall: Hall) -> int:
    with hall.db.transaction() as s:
        return guard().status(s, dt.datetime.now(dt.UTC)).wait_s


def test_staff_lift_the_hall_code_wait(hall: Hall, page: Any) -> None:
    assert wrong_codes(hall, 4) > 0
    login(page, hall, "STAFF1")
    page.goto(hall.url + "/parcels")
    assert int(page.get_attribute("#code-wait", "data-wait")) > 0
    assert "各终端还需等待" in page.inner_text("#code-status")
    page.click("#lift-form button")  # the box is required: the browser does not send the form without it
    assert wait_now(hall) > 0 and page.url.endswith("/parcels")
    page.check("#lift-form input[name=confirm]")
    page.click("#lift-form button")
    page.wait_for_load_state()
    assert "已解除" in page.inner_text("#lifted") and page.inner_text("#code-status") == "取件码可正常使用。"
    assert wait_now(hall) == 0
    with hall.db.transaction() as s:
        rec = audit.search(s, action="cabinet.code_lockout_cleared", limit=10)
    assert rec and rec[0].actor == "staff:STAFF1"


def test_a_technician_may_not_lift_it(hall: Hall, page: Any) -> None:
    assert wrong_codes(hall, 4) > 0
    login(page, hall, "TECH1")
    csrf = page.locator("form[action='/logout'] input[name=csrf]").get_attribute("value")
    status = page.evaluate(
        """async ([url, csrf]) => {
        const body = new URLSearchParams({csrf: csrf, confirm: "yes"});
        return (await fetch(url, {method: "POST", body: body})).status; }""",
        [f"{hall.url}/parcels/codes/lift", csrf],
    )
    assert status == 403 and wait_now(hall) > 0
