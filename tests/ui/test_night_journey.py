"""Issue 12, "done when": an elderly citizen alone at night, in elder mode with the voice on, in a real window with
real taps. The previous person's card is still on the pad: refused and asked to be lifted. The citizen fails a
code twice (tries left shown and said), picks up by card, closes the door, is told (shown and said) to take the
card; and no key of the pickup pad moves at any point."""

from __future__ import annotations

from tests.ui.conftest import shot
from tests.ui.flows import deposit_ready, open_doors, slot_of
from tests.ui.harness import Driver
from tests.ui.test_keypad_still import assert_still, layout


def _said(k: Driver) -> list[str]:
    return [u.text for u in list(k.rt.voice.log)]


def test_night_pickup_in_elder_mode_with_voice(k: Driver) -> None:
    code, label = deposit_ready(k)
    sim = k.rt.sims.card_sim()
    # The person before left their card on the pad.
    k.tap_id("btn_matters")
    sim.insert_demo_card()
    k.wait_for(lambda: k.app.screen.reader_state == "read", timeout=20, what="the previous person's card")
    k.tap_id("btn_home")
    k.wait_for(lambda: k.app.sm.current == "start" and k.app.session.is_blank(), what="the session to end")
    k.rt.voice.log.clear()

    k.tap_id("btn_elder", "start")
    assert k.app.elder and k.rt.voice.slow
    k.tap_id("btn_pickup")
    pickup = k.app.screen
    pad = pickup.ids.numpad
    k.frames(3)
    assert pickup.lift and "拿起来" in pickup.ids.message.text and pickup.ids.lift_picture.opacity == 1
    k.wait_for(lambda: any("拿起来" in t for t in _said(k)), what="the lift request said")
    before = layout(k, pad)
    # The stale card read again opens nothing.
    assert k.app.sm.current == "pickup" and open_doors(k) == [] and not k.app.session.identified

    # Two wrong codes: the tries left, shown and said; the pad holds still.
    wrong = ("9" if code[0] != "9" else "0") + code[1:]
    wait = k.app.wait_text(k.app.cfg.pickup.first_delay_s)
    for left in (2, 1):
        k.keys(pad, wrong)
        k.tap_id("btn_open")
        msg = k.wait_for(lambda: pickup.error, what="the wrong-code message")
        assert msg == k.t("error.wrong_code_left", n=left, wait=wait)
        k.wait_for(lambda msg=msg: msg in _said(k), what="the tries left said")
        assert_still(before, layout(k, pad), f"after a wrong code ({left} left)")
        k.keys(pad, ["clear"])
    shot(k, "night_pickup_elder")

    # The card: lifted and put back, it opens the parcel's door.
    sim.remove_card()
    k.wait_for(lambda: not pickup.lift, what="the pad to be empty")
    assert_still(before, layout(k, pad), "when the lift request went")
    sim.insert_demo_card()
    k.wait_for(lambda: k.app.sm.current == "door", timeout=20, what="the door opened by the card")
    assert open_doors(k) == [label]
    door = k.app.screen
    dsim, b, ch = slot_of(k, label)
    dsim.take_item(b, ch)
    dsim.close_door(b, ch)
    k.wait_for(lambda: door.closed, what="the door to read closed")
    # The card is still on the pad: take it, shown in the header and said.
    k.wait_for(lambda: k.t("voice.take_card") in "".join(_said(k)), what="'take your card' said")
    k.wait_for(lambda: k.app.take_card, what="'take your card' shown")
    assert k.app.root.ids.take_card.text == k.t("header.take_card") and k.app.root.ids.take_card.opacity == 1
    notice = k.app.root.ids.take_card
    lines = ["".join(w.text for w in ln.words) for ln in notice._label._cached_lines]
    assert notice.texture_size[1] <= notice.height + 1 and not any(ln[:1] in "，。" for ln in lines[1:]), (
        lines
    )
    assert k.app.elder, "elder mode kept for the whole session"
    shot(k, "night_take_card")
    sim.remove_card()
    k.wait_for(lambda: not k.app.take_card, what="the reminder to stop once the card is taken")
