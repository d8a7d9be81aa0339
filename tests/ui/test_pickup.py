"""Pick up by code and by card, end to end: real touches, the real cabinet core, the lock-board simulator."""

from __future__ import annotations

from tests.ui.conftest import shot
from tests.ui.flows import deposit_ready, open_doors, parcel_state, slot_of
from tests.ui.harness import Driver
from ui import theme


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
    assert k.app.screen.error == k.t("error.wrong_code_left", n=2, wait=k.app.wait_text(30))
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
    k.rt.sims.card_sim().insert_demo_card()  # the citizen puts their ID card on the reader
    k.wait_for(
        lambda: k.app.sm.current == "door", timeout=20, what="the card to be read and the door to open"
    )
    assert k.app.session.identified
    assert open_doors(k) == [label]
    door = k.app.screen
    _close_after_taking(k, label)
    k.wait_for(lambda: door.closed, what="the door to read closed")
    assert parcel_state(k, door.handle.parcel_id) == "picked_up"
    # Taking the card away wipes the identity at once; the door screen stays so they can go on to the rating.
    ident = k.app.session.identity
    k.rt.sims.card_sim().remove_card()
    k.wait_for(lambda: ident.wiped, timeout=10, what="card removal to wipe the identity")
    assert k.app.session.identity is None and k.app.sm.current == "door" and not k.app.card_away.active
    k.tap_id("btn_next")
    assert k.app.sm.current == "rate"
    k.tap_id("btn_skip")
    assert k.app.sm.current == "start" and k.app.session.is_blank()


def test_pickup_with_nothing_waiting_says_so(k: Driver) -> None:
    k.tap_id("btn_pickup")
    k.tap_id("btn_card")
    assert k.app.screen.error == k.t("pickup.insert_card")
    assert open_doors(k) == []


def test_pickup_code_needs_exactly_the_configured_number_of_digits(k: Driver) -> None:
    """A code one digit short cannot be sent (the button stays off), and a digit too many is refused on the pad."""
    from sqlalchemy import func, select

    from kiosk.storage.models import CodeAttempt

    def attempts() -> int:
        with k.rt.app.db.transaction() as s:
            return s.execute(select(func.count()).select_from(CodeAttempt)).scalar_one()

    code, label = deposit_ready(k)
    n = k.rt.cfg.pickup.code_digits
    assert len(code) == n
    k.tap_id("btn_pickup")
    scr = k.app.screen
    pad, btn = scr.ids.numpad, scr.ids.btn_open
    before = attempts()
    k.keys(pad, code[:-1])
    assert scr.ids.code_display.text == " ".join(code[:-1] + "_")
    assert btn.disabled and tuple(btn.background_color) == tuple(theme.DISABLED), "greyed out, label readable"
    shot(k, "pickup_short_code")
    _press(k, btn)  # a real press on the greyed-out button: nothing happens
    assert k.app.sm.current == "pickup" and scr.code == code[:-1] and open_doors(k) == []
    scr.open_by_code()  # any other way in is refused too, on the screen, before the core
    assert scr.error == k.t("pickup.code_length", n=n) and open_doors(k) == []
    k.keys(pad, code[-1])
    assert not btn.disabled and scr.error == ""
    k.tap(k.app.root.ids.lang_btn)
    k.keys(pad, "7")  # one too many: refused with the reason, the code stays as typed
    assert scr.code == code and scr.error == f"A pick-up code has exactly {n} digits. Please check it."
    assert scr.ids.code_display.text.replace(" ", "") == code
    shot(k, "pickup_long_code")
    assert attempts() == before, "no wrong-length code reached the core (none counted toward the lockout)"
    k.tap_id("btn_open")
    k.wait_for(lambda: k.app.sm.current == "door", what="the door")
    assert open_doors(k) == [label]
    _close_after_taking(k, label)
    k.wait_for(lambda: k.app.screen.closed, what="the door to read closed")


def _press(d: Driver, w: object) -> None:
    """A finger on the widget's centre whatever its state (Driver.tap refuses a disabled target)."""
    from kivy.tests.common import UnitTestTouch

    x, y = w.to_window(*w.center)  # type: ignore[attr-defined]
    touch = UnitTestTouch(x, y)
    touch.touch_down()
    d.frames(2)
    touch.touch_up()
    d.frames(3)
