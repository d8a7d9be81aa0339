"""手写: draw a character on the pad with real touches, pick it among the candidates, and it is typed in the field.

The strokes are hanzi-writer-data's medians (npm, installed at test time; skipped with the reason otherwise),
drawn through the window as a finger would: touch down, moves, touch up, one stroke at a time.
"""

from __future__ import annotations

from typing import Any

import pytest
from kivy.tests.common import UnitTestTouch

from tests.handwriting.strokes import install, medians
from tests.ui.conftest import shot
from tests.ui.harness import Driver

ELDER = "MZ-ELDER-CARD"


@pytest.fixture(scope="module")
def pkg() -> Any:
    got = install()
    if isinstance(got, str):
        pytest.skip(f"hanzi-writer-data unavailable: {got}")
    return got


def draw(k: Driver, ink: Any, strokes: list[list[tuple[float, float]]]) -> None:
    """Each stroke as one real touch, scaled from the data's 1024 box into the ink area (y downwards)."""
    x0, y0 = ink.to_window(ink.x, ink.top)
    f = min(ink.width, ink.height) / 1024 * 0.9
    for stroke in strokes:
        pts = [(x0 + 10 + x * f, y0 - 10 - y * f) for x, y in stroke]
        touch = UnitTestTouch(*pts[0])
        touch.touch_down()
        for p in pts[1:]:
            touch.touch_move(*p)
        touch.touch_up()
        k.frames(1)


def test_draw_pick_and_the_field_has_it(k: Driver, pkg: Any) -> None:
    k.wait_for(lambda: k.app.pinyin_lexicon.ready, timeout=90, what="the pinyin index")
    matter = next(m for m in k.rt.filing.matters() if m.code == ELDER)
    k.app.go("form", matter=matter)
    form = k.app.screen
    k.keys(form.ids.numpad, "13800138000")
    k.tap_id("btn_next")
    assert form.current_spec().key == "address" and form.input_kind == "keyboard"
    k.tap_id("btn_handwriting")
    assert form.input_kind == "handwriting"
    pad = form.ids.handwriting
    for ch in "南京":
        draw(k, pad.ids.ink, medians(pkg, ch))
        k.frames(2)
        assert ch in pad.candidates[:5], f"{ch} not among {pad.candidates}"
        key = next(w for w in pad.walk() if getattr(w, "key", None) == ch)
        k.tap(key)
        assert pad.candidates == [] and pad.ids.ink.strokes == []
    assert k.app.session.form.get("address") == "南京"
    shot(k, "form_handwriting")
    # Back to the keyboard, and the next text field opens on the pad again only if chosen again.
    k.tap_id("btn_handwriting")
    assert form.input_kind == "keyboard"
    k.app.reset_session()
    k.settle()
    assert form.handwriting is False and pad.ids.ink.strokes == []
