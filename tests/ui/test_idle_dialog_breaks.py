"""Defect 7 (issue 12): the inactivity dialog never breaks "14 / 秒后" - the count stays with its unit on one
line, in larger text, in the real dialog (the rules themselves: ui/linebreak.py, test_line_breaking.py)."""

from __future__ import annotations

import itertools

from tests.ui.harness import Driver, walk
from ui.linebreak import NBSP


def _lines(label: object) -> list[str]:
    label.texture_update()  # type: ignore[attr-defined]
    return ["".join(w.text for w in line.words) for line in label._label._cached_lines]  # type: ignore[attr-defined]


def test_the_countdown_keeps_its_number_and_unit_together(k: Driver) -> None:
    k.app.toggle_large_text()
    k.tap_id("btn_pickup")
    k.idle.advance(k.app.cfg.kiosk.inactivity_warning_s + 1)
    warning = k.wait_for(lambda: k.app._warning, what="the inactivity warning")
    k.frames(4)
    shown = k.t("idle.countdown", n=int(warning.seconds_left))
    label = next(w for w in walk(warning) if getattr(w, "text", None) == shown)
    # The dialog's own label, as it would read with 14 s left (the fake idle clock never shows 14 here).
    label.text = k.t("idle.countdown", n=14)
    lines = [ln.replace(NBSP, " ") for ln in _lines(label)]
    assert len(lines) > 1, "larger text wraps the sentence (else the test proves nothing)"
    assert any("14 秒后" in ln or "14秒后" in ln for ln in lines), f"'14' parted from '秒后': {lines}"
    for a, b in itertools.pairwise(lines):
        assert not (a.rstrip()[-1:].isdigit() and b.lstrip()[:1] and not b.lstrip()[0].isascii()), (a, b)
    k.tap(warning.ids.stay)
    k.app.reset_session()
