"""A take-back sent from the console in a real browser (Debian's chromium): it waits for a confirmation at the
owning kiosk, runs once a staff member signed in there confirms (the kiosk's ConsoleLink over the real cabinet
and a simulated lock board on a pty), and the console shows it done; a role without the right is refused."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select

from hallkiosk.console_link import ConsoleLink
from kiosk import door_commands as dc
from kiosk.cabinet_owners import owner_key
from kiosk.clock import SystemClock
from kiosk.storage.models import KeyValue
from tests.console.conftest import login
from tests.console.hall import CAB_ID, Hall

pytestmark = pytest.mark.slow
KIOSK = "HALL-PC-01"


def owned(hall: Hall) -> None:
    """What cabinet_owners.claim writes when the kiosk starts on the hall database."""
    with hall.db.transaction() as s:
        if s.get(KeyValue, owner_key(CAB_ID)) is None:
            s.add(KeyValue(key=owner_key(CAB_ID), value=json.dumps({"kiosk": KIOSK})))


def send(page: Any, hall: Hall, label: str, kind: str, reason: str) -> None:
    page.goto(f"{hall.url}/cabinets/{label}")
    page.select_option("#command-form select[name=kind]", kind)
    page.select_option("#command-form select[name=reason]", reason)
    page.check("#command-form input[name=confirm]")
    page.click("#command-form button")
    page.wait_for_load_state()


def test_take_back_waits_for_the_kiosk_then_runs(hall: Hall, page: Any) -> None:
    owned(hall)
    link = ConsoleLink(hall.db, hall.cabinet, KIOSK, SystemClock(), poll_s=0.1)
    link.start()
    try:
        login(page, hall, "STAFF1")
        send(page, hall, "A02", "take_back", "citizen_request")
        assert page.inner_text("#cmd-done") == "指令已发送，正在等待终端上确认。"
        row = page.locator("#commands tr[data-command]").first
        assert row.get_attribute("data-state") == "pending" and "等待终端确认" in row.inner_text()
        cmd_id = int(row.get_attribute("data-command"))
        # A second one for the same door is refused while the first waits.
        send(page, hall, "A02", "take_back", "overdue")
        assert page.locator("#cmd-error").count() == 1
        # The kiosk sees it waiting; the door stays shut until someone there confirms.
        page.wait_for_timeout(300)
        assert [c.id for c in link.waiting] == [cmd_id]
        assert not hall.sim.is_open(0, 2)
        ran = link.confirm(cmd_id, "ADMIN1")
        assert ran.command.state == dc.DONE and hall.sim.is_open(0, 2)
        page.reload()
        row = page.locator(f"#commands tr[data-command='{cmd_id}']")
        assert row.get_attribute("data-state") == "done" and "已执行" in row.inner_text()
        assert "STAFF1 / ADMIN1" in row.inner_text()
        hall.sim.take_item(0, 2)
        hall.sim.close_door(0, 2)
        assert ran.flow_id is not None
        hall.cabinet.wait_closed(ran.flow_id, 10)
        # Idle again: the kiosk stores a round of sensor readings, and the grid shows them with their age.
        assert link.read_sensors()
        page.goto(hall.url + "/cabinets")
        assert page.inner_text("[data-label=A02] .sensor").startswith("门关 · 无物 · ")
        assert page.inner_text("[data-label=A01] .sensor").startswith("门关 · 有物 · ")
    finally:
        link.stop()
    with hall.db.transaction() as s:
        from kiosk.storage.models import AuditRecord

        actions = [
            (r.actor, r.action)
            for r in s.execute(
                select(AuditRecord).where(AuditRecord.action.like("door_command.%")).order_by(AuditRecord.seq)
            ).scalars()
        ]
    assert actions == [
        ("staff:STAFF1", "door_command.issued"),
        ("staff:ADMIN1", "door_command.confirmed"),
        ("staff:ADMIN1", "door_command.done"),
    ]


def test_a_technician_may_not_take_back_but_may_inspect(hall: Hall, page: Any) -> None:
    owned(hall)
    login(page, hall, "TECH1")
    page.goto(f"{hall.url}/cabinets/A01")
    kinds = page.locator("#command-form select[name=kind] option").evaluate_all("os => os.map(o => o.value)")
    assert kinds == ["inspect"]
    csrf = page.locator("form[action='/logout'] input[name=csrf]").get_attribute("value")
    status = page.evaluate(
        """async ([url, csrf]) => {
        const body = new URLSearchParams({csrf: csrf, kind: "take_back", reason: "overdue", confirm: "yes"});
        return (await fetch(url, {method: "POST", body: body})).status; }""",
        [f"{hall.url}/cabinets/A01/command", csrf],
    )
    assert status == 403
    send(page, hall, "A01", "inspect", "sensor_check")
    row = page.locator("#commands tr[data-command]").first
    assert row.get_attribute("data-state") == "pending"
    with hall.db.transaction() as s:
        assert [c.requested_by for c in dc.pending(s, SystemClock().now(), KIOSK)] == ["TECH1"]


def test_english(hall: Hall, page: Any) -> None:
    login(page, hall, "ADMIN1")
    page.goto(hall.url + "/lang/en")
    page.goto(f"{hall.url}/cabinets/A03")
    assert "Door commands (confirmed at the kiosk)" in page.inner_text("body")
