"""Pick up by code and by card, end to end: real touches, the real cabinet core, the lock-board simulator."""

from __future__ import annotations

from tests.ui.conftest import shot
from tests.ui.flows import deposit_ready, open_doors, parcel_state, slot_of
from tests.ui.harness import Driver


def _close_after_taking(d: Driver, label: str) -> None:
    sim, b, ch = slot_of(d, label)
    sim.take_item(b, ch)
    sim.close_door(b, ch)


def test_pickup_by_code_opens_that_door_and_finishes_the_parcel(k: Driver) -> None:
    code, label = deposit_ready(k)
    shot(k, "start")
    k.tap_id("btn_pickup")
    assert k.app.sm.current == "pickup"
    pad = k.app.screen.ids.numpad
    k.keys(pad, "9" + code[1:] if code[0] != "9" else "0" + code[1:])  # first a wrong code
    k.tap_id("btn_open")
    k.settle()
    assert k.app.screen.error == k.t("error.wrong_code")
    assert open_doors(k) == []
    k.keys(pad, code)
    assert k.app.screen.ids.code_display.text.replace(" ", "") == code
    shot(k, "pickup")
    k.tap_id("btn_open")
    k.wait_for(lambda: k.app.sm.current == "door", what="the door screen")
    assert open_doors(k) == [label], "exactly the parcel's door is open"
    door = k.app.screen
    assert door.label == label and door.ids.cabinet.highlight == label
    assert label in door.ids.door_title.text
    shot(k, "door")
    handle = door.handle
    _close_after_taking(k, label)
    k.wait_for(lambda: door.closed, what="the door to read closed")
    assert parcel_state(k, handle.parcel_id) == "picked_up"
    assert k.app.get_screen("pickup").code == "", "the code does not stay on screen"
    k.tap_id("btn_next")
    assert k.app.sm.current == "rate"


def test_pickup_by_card_needs_no_code(k: Driver) -> None:
    _code, label = deposit_ready(k)
    k.tap_id("btn_pickup")
    k.rt.card_sim().insert_demo_card()  # the citizen puts their ID card on the reader
    k.wait_for(lambda: k.app.sm.current == "door", timeout=20, what="the card to be read and the door to open")
    assert k.app.session.identified
    assert open_doors(k) == [label]
    door = k.app.screen
    _close_after_taking(k, label)
    k.wait_for(lambda: door.closed, what="the door to read closed")
    assert parcel_state(k, door.handle.parcel_id) == "picked_up"
    # Taking the card away ends the identified session and wipes it.
    ident = k.app.session.identity
    k.rt.card_sim().remove_card()
    k.wait_for(lambda: k.app.sm.current == "start", timeout=10, what="card removal to end the session")
    assert ident.wiped and k.app.session.is_blank()


def test_pickup_with_nothing_waiting_says_so(k: Driver) -> None:
    k.tap_id("btn_pickup")
    k.tap_id("btn_card")
    assert k.app.screen.error == k.t("pickup.insert_card")
    assert open_doors(k) == []
