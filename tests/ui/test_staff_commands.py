"""A take-back sent from the hall console waits on this kiosk's staff screen and opens its door only once staff
signed in here confirm it (issue 14). Real touches through the running kiosk (its runtime's ConsoleLink loop),
the real cabinet core and the lock-board simulator."""

from __future__ import annotations

from typing import Any

from kiosk import door_commands as dc
from tests.ui.conftest import STAFF_BADGE, shot
from tests.ui.flows import badge, deposit_ready, open_doors, slot_of
from tests.ui.harness import Driver


def _issue(k: Driver, label: str) -> dc.CommandView:
    """What the console does when STAFF1 sends a take-back (hallkiosk/console/app.py)."""
    with k.rt.app.db.transaction() as s:
        return dc.issue(
            s,
            k.rt.app.clock.now(),
            label=label,
            kind=dc.TAKE_BACK,
            reason="citizen_request",
            requester="STAFF1",
        )


def _state(k: Driver, command_id: int) -> str:
    with k.rt.app.db.transaction() as s:
        return next(c.state for c in dc.recent(s) if c.id == command_id)


def test_a_console_take_back_waits_for_staff_here_then_opens(k: Driver) -> None:
    _code, label = deposit_ready(k)
    cmd = _issue(k, label)
    badge(k, STAFF_BADGE)
    k.wait_for(lambda: k.app.sm.current == "staff", what="staff mode")
    btn = k.app.screen.ids.btn_commands
    k.wait_for(
        lambda: btn.text == k.t("staff.commands", n=1), what="the waiting command counted (runtime loop)"
    )
    k.tap(btn)
    screen: Any = k.wait_for(
        lambda: k.app.screen if k.app.sm.current == "staff_commands" else None, what="the commands screen"
    )
    row = k.wait_for(
        lambda: next((r for r in screen.ids.rows.children if r.ref.id == cmd.id), None),
        what="the command listed",
    )
    assert label in row.title and "STAFF1" in row.detail
    assert screen.ids.btn_confirm.disabled and label not in open_doors(k), (
        "nothing moves before a confirmation"
    )
    k.tap(row)
    assert screen.chosen is not None and not screen.ids.btn_confirm.disabled
    assert screen.ids.chosen.text == k.t(
        "commands.confirm_question", label=label, kind=k.t("commands.kind.take_back"), staff="STAFF1"
    )
    shot(k, "staff_commands")
    k.tap(screen.ids.btn_cancel)  # cancel changes nothing
    assert screen.chosen is None and _state(k, cmd.id) == dc.PENDING and label not in open_doors(k)
    k.tap(row)
    k.tap(screen.ids.btn_confirm)
    door = k.wait_for(lambda: k.app.screen if k.app.sm.current == "door" else None, what="the door screen")
    assert door.purpose == "collect" and door.label == label
    assert label in open_doors(k) and _state(k, cmd.id) == dc.DONE
    sim, b, ch = slot_of(k, label)
    sim.take_item(b, ch)
    sim.close_door(b, ch)
    k.wait_for(lambda: door.closed, what="the door screen sees it shut")
    k.go_start()
