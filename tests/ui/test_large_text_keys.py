"""Defect 7 (issue 12): in larger-text mode (and 长辈模式) every key of every pad shows its whole label on one
line inside the key: digits do not overflow, "Space" does not wrap to "Spac/e". Checked in the real window on the
screens with a pad: pickup (numbers), the technician PIN (numbers) and the matter search (letters)."""

from __future__ import annotations

import pytest
from kivy.uix.widget import Widget

from tests.ui.harness import Driver
from ui.widgets import PadKey


def _bad_keys(k: Driver) -> list[str]:
    k.settle()
    bad = []
    for w in Widget.walk(k.app.screen, restrict=True):
        if not isinstance(w, PadKey) or w.opacity == 0 or w.height <= 0:
            continue
        w.texture_update()
        tw, th = w.texture_size
        lines = len(w._label._cached_lines) if w._label is not None else 1
        if tw > w.width + 1 or th > w.height + 1 or lines > 1:
            bad.append(
                f"{w.key!r} {w.text!r}: text {tw:.0f}x{th:.0f} in {w.width:.0f}x{w.height:.0f}, {lines} lines"
            )
    return bad


@pytest.mark.parametrize("mode", ["large", "elder"])
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_key_label_fits_its_key_in_larger_text(k: Driver, mode: str, lang: str) -> None:
    k.app.set_language(lang)
    if mode == "elder":
        k.tap_id("btn_elder", "start")
    else:
        k.app.toggle_large_text()
    assert k.app.large_text
    bad: list[str] = []
    k.tap_id("btn_pickup")
    bad += [f"pickup {b}" for b in _bad_keys(k)]
    k.app.start_again()
    k.tap_id("btn_staff")
    assert k.app.sm.current == "pin"
    bad += [f"pin {b}" for b in _bad_keys(k)]
    k.app.start_again()
    k.app.go("matters")
    k.settle()
    k.tap_id("search_box")
    assert k.app.screen.typing
    bad += [f"matters {b}" for b in _bad_keys(k)]
    k.app.reset_session()
    assert not bad, "keys whose label does not fit:\n" + "\n".join(bad)
