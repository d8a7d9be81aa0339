"""A card left on the reader when a session ends (defect 2) identifies nobody until it is lifted and put back.

The resident ID card goes through the shipped GA 467 simulator and the real reader driver on a pty. The social
security card's events are delivered from a reader thread exactly as the PC/SC reader's watcher delivers them
(the UI tests run no pcscd; tests/cardreader drives the real PC/SC driver against vpcd).
"""

from __future__ import annotations

import threading

from kiosk.identity import Identity
from kiosk.ports import CardEvent
from tests.ui.conftest import shot
from tests.ui.flows import CARD_PERSON, OTHER_PERSON
from tests.ui.harness import Driver

SSC_READER = "PC/SC contact reader"


def _from_reader(k: Driver, kind: str, reader: str, identity: Identity | None = None) -> None:
    ev = CardEvent(kind, reader=reader, identity=identity)  # type: ignore[arg-type]
    t = threading.Thread(target=k.rt._on_card_event, args=(ev,))
    t.start()
    t.join()
    k.frames(3)


def _asks_to_lift(k: Driver) -> None:
    k.tap_id("btn_matters")
    scr = k.wait_for(lambda: k.app.sm.current == "identify" and k.app.screen, what="the identify screen")
    k.wait_for(lambda: scr.reader_state == "lift", what="the lift-and-put-back request")
    k.frames(3)
    assert scr.ids.lift_picture.height > 0 and scr.ids.lift_picture.opacity == 1, "the drawn reader shows"
    assert "拿起来" in scr.ids.reader_state.text
    assert not k.app.session.identified and scr.ids.btn_continue.disabled  # drawn grey (defect 7), not faded


def test_id_card_left_on_the_pad_is_lifted_and_put_back_before_it_counts(k: Driver) -> None:
    sim = k.rt.sims.card_sim()
    k.tap_id("btn_matters")
    sim.insert_demo_card()
    k.wait_for(lambda: k.app.screen.reader_state == "read", timeout=20, what="the card")
    pad = next(iter(k.app.cards_present))
    k.tap_id("btn_home")  # the person walks away; the card stays on the pad
    k.wait_for(lambda: k.app.sm.current == "start" and k.app.session.is_blank(), what="the session to end")

    _asks_to_lift(k)
    shot(k, "identify_lift")
    # The reader reading the same card again (a reconnect does) still identifies nobody.
    again = Identity.checked(CARD_PERSON.id_number, CARD_PERSON.name, "resident_id")
    _from_reader(k, "identified", pad, again)
    assert again.wiped and not k.app.session.identified and k.app.screen.reader_state == "lift"

    sim.remove_card()
    k.wait_for(lambda: k.app.screen.reader_state == "waiting", what="the pad to be empty")
    assert k.app.screen.ids.lift_picture.height == 0
    sim.insert_demo_card()  # put back while the screen waits: read at once
    k.wait_for(lambda: k.app.screen.reader_state == "read", timeout=20, what="the card put back")
    assert k.app.session.identified and k.app.session.card_reader == pad


def test_social_security_card_left_in_the_slot_is_pulled_out_and_put_back(k: Driver) -> None:
    k.tap_id("btn_matters")
    first = Identity.checked(CARD_PERSON.id_number, CARD_PERSON.name, "social_security")
    _from_reader(k, "inserted", SSC_READER)
    _from_reader(k, "identified", SSC_READER, first)
    k.wait_for(lambda: k.app.screen.reader_state == "read", what="the card")
    k.tap_id("btn_home")
    k.wait_for(lambda: k.app.sm.current == "start" and k.app.session.is_blank(), what="the session to end")

    _asks_to_lift(k)
    stale = Identity.checked(CARD_PERSON.id_number, CARD_PERSON.name, "social_security")
    _from_reader(k, "identified", SSC_READER, stale)
    assert stale.wiped and not k.app.session.identified

    _from_reader(k, "removed", SSC_READER)
    k.wait_for(lambda: k.app.screen.reader_state == "waiting", what="the slot to be empty")
    other = Identity.checked(OTHER_PERSON.id_number, OTHER_PERSON.name, "social_security")
    _from_reader(k, "inserted", SSC_READER)
    _from_reader(k, "identified", SSC_READER, other)
    k.wait_for(lambda: k.app.screen.reader_state == "read", what="the new card")
    assert k.app.session.identity is other and not other.wiped
    _from_reader(k, "removed", SSC_READER)  # the harness checks the reader is empty after each test


def test_a_card_placed_while_the_screen_waits_is_read_at_once_on_both_readers(k: Driver) -> None:
    k.tap_id("btn_matters")
    scr = k.wait_for(lambda: k.app.sm.current == "identify" and k.app.screen, what="the identify screen")
    assert scr.reader_state == "waiting" and scr.ids.lift_picture.height == 0
    k.rt.sims.card_sim().insert_demo_card()
    k.wait_for(lambda: scr.reader_state == "read", timeout=20, what="the ID card")
    k.rt.sims.card_sim().remove_card()
    k.wait_for(lambda: k.app.sm.current == "start" and k.app.session.is_blank(), what="the session to end")
    assert not k.app.stale_cards, "a card lifted before the end leaves nothing to put back"

    k.tap_id("btn_matters")
    scr = k.wait_for(lambda: k.app.sm.current == "identify" and k.app.screen, what="the identify screen")
    assert scr.reader_state == "waiting"
    ssc = Identity.checked(OTHER_PERSON.id_number, OTHER_PERSON.name, "social_security")
    _from_reader(k, "inserted", SSC_READER)
    _from_reader(k, "identified", SSC_READER, ssc)
    k.wait_for(lambda: scr.reader_state == "read", what="the social security card")
    assert k.app.session.identity is ssc
    _from_reader(k, "removed", SSC_READER)


def test_pickup_screen_asks_to_lift_a_card_left_and_the_header_says_take_your_card(k: Driver) -> None:
    """Defect 2 on the pickup screen (it reads cards too) and defect 4 on screen: a card left on the pad by the
    previous person opens nothing, the screen asks for it lifted and put back (with the drawn reader) and the
    header shows "请取回您的身份证或社保卡" on every screen until the card is taken; no key moves meanwhile."""
    from tests.ui.flows import deposit_ready, open_doors, slot_of
    from tests.ui.test_keypad_still import assert_still, layout

    _code, label = deposit_ready(k)
    sim = k.rt.sims.card_sim()
    k.tap_id("btn_matters")
    sim.insert_demo_card()
    k.wait_for(lambda: k.app.screen.reader_state == "read", timeout=20, what="the card")
    k.tap_id("btn_home")  # the person walks away; the card stays on the pad
    k.wait_for(lambda: k.app.sm.current == "start" and k.app.session.is_blank(), what="the session to end")
    notice = k.app.root.ids.take_card
    k.wait_for(lambda: k.app.take_card, what="the take-your-card reminder")
    k.frames(3)
    assert notice.opacity == 1 and notice.text == k.t("header.take_card") and "取回" in notice.text
    assert notice.width > 0 and notice.height > 0 and notice.texture_size[1] <= notice.height + 1
    shot(k, "start_take_card")

    k.tap_id("btn_pickup")
    scr = k.app.screen
    k.frames(3)
    assert scr.lift and scr.ids.lift_picture.opacity == 1 and scr.ids.lift_picture.s > 0
    assert "拿起来" in scr.ids.message.text and notice.opacity == 1
    k.wait_for(lambda: any("拿起来" in u.text for u in list(k.rt.voice.log)), what="the lift request said")
    shot(k, "pickup_lift")
    before = layout(k, scr.ids.numpad)
    # The reader reads the same card again: still nobody's, no door opens.
    pad = next(iter(k.app.cards_present))
    again = Identity.checked(CARD_PERSON.id_number, CARD_PERSON.name, "resident_id")
    _from_reader(k, "identified", pad, again)
    assert (
        again.wiped and not k.app.session.identified and k.app.sm.current == "pickup" and open_doors(k) == []
    )

    sim.remove_card()
    k.wait_for(lambda: not scr.lift, what="the pad to be empty")
    k.frames(3)
    assert scr.ids.lift_picture.opacity == 0 and scr.ids.message.text == "" and not k.app.take_card
    assert notice.opacity == 0
    assert_still(before, layout(k, scr.ids.numpad), "when the lift request went")
    sim.insert_demo_card()  # put back: read at once, and the card picks up its parcel
    k.wait_for(lambda: k.app.sm.current == "door", timeout=20, what="the door for the card put back")
    assert open_doors(k) == [label]
    door = k.app.screen
    dsim, b, ch = slot_of(k, label)
    dsim.take_item(b, ch)
    dsim.close_door(b, ch)
    k.wait_for(lambda: door.closed, what="the door to read closed")
