"""Defect 1: no key moves under the finger. On every screen with a keypad, every key (and every other control)
is at the same place before a message appears, while it shows, and after the next key press removes it; in
both languages and in larger text. Wrong codes and PINs say how many tries are left and how long a pause lasts
(the code wait itself: test_code_wait.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.scrollview import ScrollView

from tests.ui.flows import open_matter
from tests.ui.harness import Driver, walk

Layout = dict[str, tuple[int, int, int, int]]


def layout(k: Driver, pad: Any) -> Layout:
    """Window rectangles (rounded to the pixel) of the pad's keys and every visible button on the screen (a list
    that scrolls is left out: its rows move when scrolled, and a finger on the keypad is not on them)."""
    k.frames(4)
    out: Layout = {}
    for w in walk(k.app.screen):
        if (
            isinstance(w, ButtonBehavior)
            and w.opacity > 0
            and w.get_root_window() is not None
            and not _scrolls(w)
        ):
            x, y = w.to_window(*w.pos)
            name = (
                f"key {w.key}"
                if getattr(w, "key", "")
                else f"{type(w).__name__} {getattr(w, 'text', '')[:12]}"
            )
            name += f" #{sum(1 for n in out if n.startswith(name + ' #'))}"
            out[name] = (round(x), round(y), round(w.width), round(w.height))
    assert any(n.startswith("key ") for n in out), (
        f"no keypad keys found on {k.app.sm.current}: {sorted(out)}"
    )
    return out


def _scrolls(w: Any) -> bool:
    p = w.parent
    while p is not None and p is not p.parent:
        if isinstance(p, ScrollView):
            return True
        p = p.parent
    return False


def assert_still(before: Layout, after: Layout, when: str) -> None:
    moved = {n: (before[n], after.get(n)) for n in before if after.get(n) != before[n]}
    assert not moved, f"controls moved {when}: {moved}"


def check(k: Driver, pad: Any, make_error: Callable[[], str], next_key: str) -> str:
    """Layout before, with the message, and after the next key removes it: identical. Returns the message."""
    before = layout(k, pad)
    message = make_error()
    assert message, "no message appeared"
    slot = k.app.screen.ids.message
    k.frames(3)
    assert slot.texture_size[1] <= slot.height + 1, f"{message!r} does not fit its reserved space"
    assert_still(before, layout(k, pad), "when the message appeared")
    k.keys(pad, [next_key])
    assert k.app.screen.error == ""
    assert_still(before, layout(k, pad), "when the message went")
    return message


@pytest.fixture(
    params=[("zh", False), ("en", False), ("zh", True), ("en", True)],
    ids=["zh", "en", "zh-large", "en-large"],
)
def mode(request: pytest.FixtureRequest, k: Driver) -> Any:
    lang, large = request.param
    k.rt.parts.cabinet.clear_lockout(actor="test:clerk")
    k.app.set_language(lang)
    if large:
        k.app.toggle_large_text()
    yield k
    k.rt.parts.cabinet.clear_lockout(actor="test:clerk")


def test_pickup_keypad_holds_still_and_says_tries_left(mode: Driver) -> None:
    k = mode
    k.tap_id("btn_pickup", "start")
    pad = k.app.screen.ids.numpad
    k.keys(pad, "1")  # the first digit changes the display's font: that must not move the pad either
    before_first = layout(k, pad)
    k.keys(pad, "00001")

    def wrong() -> str:
        k.tap_id("btn_open")
        return k.wait_for(lambda: k.app.screen.error, what="the wrong-code message")

    assert_still(before_first, layout(k, pad), "while typing")
    msg = check(k, pad, wrong, "2")
    assert msg == k.t("error.wrong_code_left", n=2, wait=k.app.wait_text(k.app.cfg.pickup.first_delay_s))
    # One digit too many: a message, and still nothing moves.
    k.keys(pad, "23456")
    check(k, pad, lambda: (k.keys(pad, "7"), k.app.screen.error)[1], "back")


def test_pin_keypad_holds_still_and_says_tries_left(mode: Driver) -> None:
    k = mode
    k.app.go("pin", role="technician")
    pad = k.app.screen.ids.numpad

    def wrong() -> str:
        k.keys(pad, "000000")
        k.tap_id("btn_ok")
        return k.app.screen.error

    msg = check(k, pad, wrong, "1")
    assert msg == k.t("pin.wrong", n=4, minutes=5)
    k.rt.clear_pin_lockout()


def test_staff_deposit_keyboard_holds_still(mode: Driver) -> None:
    k = mode
    k.app.enter_staff("staff", "04A1B2C3D4")
    k.app.go("staff_deposit")
    pad = k.app.screen.ids.keyboard

    def missing() -> str:
        k.tap_id("btn_deposit")
        return k.app.screen.error

    check(k, pad, missing, "A")


def _elder_card_form(k: Driver) -> Any:
    k.tap_id("btn_matters", "start")
    # A senior's card: the senior card is for people aged 60 or over, checked before the form (issue 13).
    k.rt.sims.card_sim().insert_card("张三", "110105195801011232")
    k.wait_for(lambda: k.app.screen.reader_state == "read", timeout=20, what="the card")
    k.tap_id("btn_continue")
    k.wait_for(lambda: k.app.sm.current == "matters" and k.app.screen.ids.rows.children, what="the catalog")
    open_matter(k, "老年人优待证办理" if k.app.lang == "zh" else "Senior Citizen Preferential Card")
    return k.app.screen


def test_form_keypads_hold_still_through_errors_and_candidates(mode: Driver) -> None:
    k = mode
    form = _elder_card_form(k)
    pad = form.ids.numpad
    k.keys(pad, "138")
    before = layout(k, pad)
    k.tap_id("btn_review")  # the phone number is short: its field says so, in place
    box = form.boxes()[form.focus_index]
    k.wait_for(lambda: box.error, what="the field's error")
    assert_still(before, layout(k, pad), "when the field's error appeared")
    k.keys(pad, "0")
    assert box.error == ""
    assert_still(before, layout(k, pad), "when the field's error went")
    # The address field's keyboard: pinyin candidates appearing and going must not move a key either.
    k.tap_id("btn_next")
    kb = form.ids.keyboard
    k.wait_for(lambda: form.input_kind == "keyboard", what="the keyboard")
    before = layout(k, kb)
    if k.app.lang == "zh":
        k.keys(kb, "LU")
        k.wait_for(lambda: form.bar.candidates, what="candidates")
        assert_still(before, layout(k, kb), "when candidates appeared")
        k.keys(kb, ["space"])
    else:
        k.keys(kb, "LU")
    assert_still(before, layout(k, kb), "after typing")
