"""Issue 12: a picture of where the card goes on every screen that waits for a card (identify, pickup): the
reader drawn with the card stepping onto it and the words, gone once the card is read. Real window, real taps,
the shipped card-reader simulator."""

from __future__ import annotations

from typing import Any

from tests.ui.conftest import shot
from tests.ui.harness import Driver
from ui.card_where import card_places


def _shown(k: Driver, pic: Any, *, moving: bool) -> None:
    """On the window, visible, with each configured reader kind drawn and captioned, the card moving or still."""
    assert pic.get_root_window() is not None and pic.opacity == 1 and pic.height > 0
    places = [c.place for c in reversed(pic.children)]
    assert places == card_places(k.rt.cfg.card_readers) == ["pad"], "the simulator is a GA 467 pad"
    place = pic.children[0]
    assert place.ids.caption.text == k.t("card_where.pad")
    assert place.ids.drawing.s >= k.app.big_target * 0.5, "large enough to see"
    first = place.drop
    if moving:
        k.wait_for(lambda: place.drop != first, timeout=3, what="the card to move")
    else:
        k.frames(60)
        assert place.drop == first == 0.5, "still, half-way down, beside a keypad"


def test_identify_shows_where_the_card_goes_until_it_is_read(k: Driver) -> None:
    k.tap_id("btn_cases")
    scr = k.app.screen
    assert k.app.sm.current == "identify" and scr.reader_state == "waiting"
    pic = scr.ids.card_where
    _shown(k, pic, moving=True)
    before = scr.ids.btn_home.to_window(*scr.ids.btn_home.pos)
    shot(k, "identify_card_where")
    k.rt.sims.card_sim().insert_demo_card()
    k.wait_for(lambda: scr.reader_state == "read", timeout=20, what="the card")
    k.settle()
    assert pic.opacity == 0, "the picture goes once the card is read"
    assert scr.ids.btn_home.to_window(*scr.ids.btn_home.pos) == before, "nothing below moved"
    k.go_start()


def test_pickup_shows_where_the_card_goes(k: Driver) -> None:
    k.tap_id("btn_pickup")
    scr = k.app.screen
    assert k.app.sm.current == "pickup" and not scr.lift
    _shown(k, scr.ids.card_where, moving=False)
    assert scr.ids.lift_picture.opacity == 0
    shot(k, "pickup_card_where")
    k.go_start()
