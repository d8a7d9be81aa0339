"""Taking a compartment out of service from the console (a real browser against the console process) and the
kiosk's own cabinet core refusing it; back in service the same way; the role check and the confirmation."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select

from kiosk import audit, notes
from kiosk.cabinet import states as S
from kiosk.errors import NoFreeCompartment
from kiosk.identity import Identity
from kiosk.storage.models import Compartment
from tests.console.conftest import ARTIFACTS, login
from tests.console.hall import Hall, id_number

pytestmark = pytest.mark.slow

LARGE = ("A05", "A06")  # the seeded cabinet's only L compartments, both free


def state_of(hall: Hall, label: str) -> str:
    with hall.db.transaction() as s:
        return s.execute(select(Compartment.state).where(Compartment.label == label)).scalar_one()


def audited(hall: Hall, action: str, label: str) -> list[audit.AuditEntry]:
    with hall.db.transaction() as s:
        return audit.search(s, action=action, subject_is=label, limit=50)


def service(page: Any, hall: Hall, label: str, *, reason: str = "", confirm: bool = True) -> None:
    page.goto(f"{hall.url}/cabinets/{label}")
    form = page.locator("form.service")
    if reason:
        form.locator("input[name=reason]").fill(reason)
    if confirm:
        form.locator("input[name=confirm]").check()
    form.locator("button").click()
    page.wait_for_load_state()


def test_disable_from_the_console_and_the_kiosk_refuses_that_compartment(hall: Hall, page: Any) -> None:
    assert [state_of(hall, label) for label in LARGE] == [S.FREE, S.FREE]
    login(page, hall, "TECH1")
    # The browser will not send the form unconfirmed (required box); without the box the server refuses too.
    page.goto(f"{hall.url}/cabinets/{LARGE[0]}")
    page.locator("form.service input[name=reason]").fill("门锁松动")
    page.locator("form.service button").click()
    assert page.url.endswith(f"/cabinets/{LARGE[0]}") and state_of(hall, LARGE[0]) == S.FREE
    csrf = page.locator("form.service input[name=csrf]").get_attribute("value")
    status = page.evaluate(
        """async ([url, csrf]) => {
        const r = await fetch(url, {method: "POST", body: new URLSearchParams({csrf: csrf, reason: "x"})});
        return r.url; }""",
        [f"{hall.url}/cabinets/{LARGE[0]}/disable", csrf],
    )
    assert status.endswith("error=confirm") and state_of(hall, LARGE[0]) == S.FREE

    for label in LARGE:
        service(page, hall, label, reason="门锁松动，待维修")
        assert page.inner_text("#done") == "已停用，操作已记入审计。"
        assert "停用" in page.inner_text("h1")
        assert state_of(hall, label) == S.DISABLED
        (rec,) = audited(hall, "cabinet.disabled", label)
        # The typed reason is a staff note (kiosk.notes): the audit keeps its id, never the text.
        assert rec.actor == "staff:TECH1" and "reason" not in rec.detail
        with hall.db.transaction() as s:
            assert notes.read(s, rec.detail["note"]) == "门锁松动，待维修"
        # The page reads the note (the reason and the audit row); staff delete it there, and the page says so.
        assert "门锁松动，待维修" in page.inner_text("#fault-reason")
        page.locator("#note-delete-form button").click()
        assert page.inner_text("#done") == "停用原因已删除，操作已记入审计。"
        assert notes.DELETED in page.inner_text(
            "#fault-reason"
        ) and "门锁松动，待维修" not in page.inner_text("main")
        assert page.locator("#note-delete-form").count() == 0
        (gone,) = audited(hall, "note.deleted", f"note {rec.detail['note']}")
        assert gone.actor == "staff:TECH1" and "门锁" not in str(gone.detail)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"console-compartment-disabled-{hall.backend}.png"))

    # The kiosk (its own Cabinet over the simulated lock board, in this process) no longer hands them out.
    person = Identity(id_number=id_number(77), name="周八", card_kind="resident_id")
    with pytest.raises(NoFreeCompartment):
        hall.cabinet.start_deposit("LS202600000077", actor="staff:ADMIN1", size="L", applicant=person)
    assert [state_of(hall, label) for label in LARGE] == [S.DISABLED, S.DISABLED]
    grid = {c.label: c.state for c in hall.cabinet.status()}
    assert all(grid[label] == S.DISABLED for label in LARGE)

    # Back in service the same way: confirmed, audited, and the kiosk may use it again.
    for label in LARGE:
        service(page, hall, label)
        assert page.inner_text("#done") == "已重新启用，操作已记入审计。"
        assert state_of(hall, label) == S.FREE
        (rec,) = audited(hall, "cabinet.enabled", label)
        assert rec.actor == "staff:TECH1" and rec.detail["after"] == S.FREE


def test_staff_without_the_technician_role_cannot_disable(hall: Hall, page: Any) -> None:
    login(page, hall, "STAFF1")
    page.goto(f"{hall.url}/cabinets/A03")
    assert page.locator("form.service").count() == 0  # nothing offered ...
    csrf = page.locator("form[action='/logout'] input[name=csrf]").get_attribute("value")
    status = page.evaluate(
        """async ([url, csrf]) => {
        const body = new URLSearchParams({csrf: csrf, reason: "x", confirm: "yes"});
        return (await fetch(url, {method: "POST", body: body})).status; }""",
        [f"{hall.url}/cabinets/A03/disable", csrf],
    )
    assert status == 403  # ... and refused with the member's own valid token
    assert state_of(hall, "A03") != S.DISABLED
    with hall.db.transaction() as s:
        refused = audit.search(s, action="console.refused", actor="staff:STAFF1", limit=10)
    assert any(r.subject == "/cabinets/A03/disable" for r in refused)


def test_a_hall_of_many_cabinets_shows_one_grid_at_a_time(hall: Hall, page: Any) -> None:
    """Past four cabinets the grid page shows one cabinet under tabs that carry each one's counts (a tablet
    cannot show thousands of doors usefully). Five more cabinets are added as rows, as a kiosk's sync does."""
    now = dt.datetime.now(dt.UTC)
    with hall.db.transaction() as s:
        for n in range(2, 7):
            for ch in range(1, 5):
                s.add(
                    Compartment(
                        cabinet_id=f"CAB-{n:02d}",
                        label=f"B{n}{ch:02d}",
                        size="M",
                        board=0,
                        channel=ch,
                        state=S.FAULTY if (n, ch) == (4, 2) else S.FREE,
                        fault_reason="bench" if (n, ch) == (4, 2) else None,
                        updated_at=now,
                    )
                )
        audit.append(s, now, "kiosk", "cabinet.synced", "CAB-02..CAB-06")  # what makes open pages re-fetch
    login(page, hall, "TECH1")
    page.goto(f"{hall.url}/cabinets")
    tabs = page.locator("nav.cabinet-tabs a")
    assert tabs.count() == 7  # six cabinets and "all"
    assert page.locator("section.cabinet").count() == 1
    assert page.locator("section.cabinet").get_attribute("data-key") == "CAB-01"
    assert "故障 1" in page.locator("nav.cabinet-tabs a[data-cabinet='CAB-04']").inner_text()
    page.click("nav.cabinet-tabs a[data-cabinet='CAB-04']")
    page.wait_for_load_state()
    assert page.locator("section.cabinet").get_attribute("data-key") == "CAB-04"
    assert page.locator("a.cell[data-label='B402']").get_attribute("data-state") == "faulty"
    # The live region re-fetches the same cabinet, not the first one.
    assert page.locator("#cabinets").get_attribute("data-src") == "/cabinets?fragment=1&cabinet=CAB-04"
    page.goto(f"{hall.url}/cabinets?cabinet=all")
    assert page.locator("section.cabinet").count() == 6
