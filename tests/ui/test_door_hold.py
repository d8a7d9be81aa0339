"""A door open for a slow citizen holds the session: no inactivity reset until the door is closed (or abandoned).

Real touches, the real cabinet core and the lock-board simulator; the inactivity clock is the harness's FakeIdle
(warning after 10 s, countdown 5 s in the test config), the door's own waits run in real time.
"""

from __future__ import annotations

import time

from tests.ui.conftest import shot
from tests.ui.flows import deposit_ready, open_doors, parcel_state, slot_of
from tests.ui.harness import Driver
from ui.screens.door import DOOR_HOLD_MAX_S


def _idle(k: Driver, seconds: float, step: float = 5.0) -> None:
    """Nobody touches the screen for ``seconds``: the idle clock moves in steps, each seen by the app's timers."""
    left = seconds
    while left > 0:
        k.idle.advance(min(step, left))
        left -= step
        t0 = time.monotonic()
        k.wait_for(lambda t0=t0: time.monotonic() > t0 + 0.6, what="the app's half-second timers to run")


def _open_dropoff_door(k: Driver) -> object:
    k.tap_id("btn_dropoff")
    k.rt.sims.card_sim().insert_demo_card()
    k.wait_for(lambda: k.app.screen.reader_state == "read", timeout=20, what="the card")
    k.tap_id("btn_continue")
    k.wait_for(
        lambda: k.app.sm.current == "dropoff" and k.app.screen.ids.matters.children, what="the choices"
    )
    k.tap_text(k.app.screen.ids.matters.children[-1].title)  # the first matter in the list
    k.tap_id("btn_open_door")  # confirmed as shown (matter, the usual size)
    k.wait_for(lambda: k.app.sm.current == "door", what="a door to open")
    return k.app.screen


def test_dropoff_slower_than_the_idle_timeout_keeps_the_session_and_shows_the_receipt(k: Driver) -> None:
    door = _open_dropoff_door(k)
    label = door.label
    assert open_doors(k) == [label]
    ident = k.app.session.identity
    # A stack of papers takes a while: far past the warning (10 s) and its countdown (5 s).
    _idle(k, 40)
    assert k.app.sm.current == "door" and k.app._warning is None, (
        "no 'are you still there?' while the door is open"
    )
    assert k.app.session.identified and not ident.wiped
    # Instead, a gentle reminder to close the door, in place.
    assert door.reminding and door.ids.reminder.text == k.t("door.reminder")
    shot(k, "door_reminder")
    k.tap(k.app.root.ids.lang_btn)
    assert door.ids.reminder.text == k.t("door.reminder") and k.app.lang == "en"
    shot(k, "door_reminder")
    _idle(k, 40)
    assert k.app.sm.current == "door" and k.app._warning is None
    printed_before = len(k.rt.printer.printed)
    sim, b, ch = slot_of(k, label)
    sim.put_item(b, ch)
    sim.close_door(b, ch)
    k.wait_for(lambda: door.closed, what="the door to read closed")
    receipt = door.result.receipt_number
    assert receipt and receipt in door.ids.instruction.text and door.ids.reminder.text == ""
    assert parcel_state(k, door.handle.parcel_id) == "dropped_off"
    k.wait_for(lambda: len(k.rt.printer.printed) > printed_before, what="the drop-off receipt to print")
    shot(k, "door_dropoff_done")
    # The door is shut: the hold is over and the normal inactivity warning is back.
    _idle(k, 11)
    warning = k.wait_for(lambda: k.app._warning, what="the inactivity warning after the door closed")
    k.tap(warning.ids.stay)
    k.tap_id("btn_next")
    assert k.app.sm.current == "rate"


def test_pickup_by_card_lifting_the_card_and_taking_time_still_reaches_the_rating(k: Driver) -> None:
    _code, label = deposit_ready(k)
    k.tap_id("btn_pickup")
    k.rt.sims.card_sim().insert_demo_card()
    k.wait_for(
        lambda: k.app.sm.current == "door", timeout=20, what="the card to be read and the door to open"
    )
    door = k.app.screen
    ident = k.app.session.identity
    # People pick their ID card up and walk to the door: the card's data goes, the door flow stays.
    k.rt.sims.card_sim().remove_card()
    k.wait_for(lambda: ident.wiped, what="the lifted card's identity to be wiped")
    assert k.app.sm.current == "door" and not k.app.card_away.active and k.app.session.identity is None
    _idle(k, 40)
    assert k.app.sm.current == "door" and k.app._warning is None
    sim, b, ch = slot_of(k, label)
    sim.take_item(b, ch)
    sim.close_door(b, ch)
    k.wait_for(lambda: door.closed, what="the door to read closed")
    assert door.ids.instruction.text == k.t("door.done.pickup")
    assert parcel_state(k, door.handle.parcel_id) == "picked_up"
    k.tap_id("btn_next")
    assert k.app.sm.current == "rate"


def test_a_door_abandoned_open_lets_the_session_go_and_the_flow_still_finishes(k: Driver) -> None:
    code, label = deposit_ready(k)
    k.tap_id("btn_pickup")
    k.keys(k.app.screen.ids.numpad, code)
    k.tap_id("btn_open")
    k.wait_for(lambda: k.app.sm.current == "door", what="the door")
    door = k.app.screen
    handle = door.handle
    # Nobody comes back: the hold ends after DOOR_HOLD_MAX_S, then the usual warning and reset.
    _idle(k, DOOR_HOLD_MAX_S + 1, step=60)
    assert not door.holds_session
    _idle(k, 11)
    k.wait_for(lambda: k.app._warning, what="the warning once the hold is over")
    _idle(k, 5)
    k.wait_for(lambda: k.app.sm.current == "start", what="the reset")
    assert k.app.session.is_blank()
    # The screen's wait ends with the session (no worker tied up for close_timeout_s): the doors loop has it.
    k.wait_for(lambda: handle.flow_id in k.rt.doors.unwatched, what="the wait handed to the doors loop")
    # Someone shuts the door later: the runtime's doors loop finishes it (the screen's wait was cancelled).
    sim, b, ch = slot_of(k, label)
    sim.take_item(b, ch)
    sim.close_door(b, ch)
    k.wait_for(lambda: parcel_state(k, handle.parcel_id) == "picked_up", what="the flow to finish")


def test_a_door_that_cannot_be_read_releases_the_session_and_offers_the_way_out(k: Driver) -> None:
    door = _open_dropoff_door(k)
    label, handle = door.label, door.handle
    sim, b, ch = slot_of(k, label)
    sim.silence(b)  # the lock board stops answering while the door is open
    try:
        k.wait_for(lambda: door.failed, timeout=30, what="the wait to fail")
        assert not door.holds_session and door.error == k.t("error.door")
        assert door.ids.help.text == k.t("door.failed_help")
        shot(k, "door_failed")
        k.app.set_language("en")
        shot(k, "door_failed")
        # Left alone, the normal inactivity reset now ends it (nothing holds the session any more) ...
        _idle(k, 11)
        k.wait_for(lambda: k.app._warning, what="the warning")
        k.tap(k.app._warning.ids.stay)
        # ... or the person takes the way out at once.
        k.tap_id("btn_leave")
        assert k.app.sm.current == "start" and k.app.session.is_blank()
    finally:
        sim.revive(b)
    sim.put_item(b, ch)
    sim.close_door(b, ch)
    assert (
        k.rt.parts.cabinet.wait_closed(handle, 10).outcome == "dropped_off"
    )  # leave the cabinet tidy for later tests
