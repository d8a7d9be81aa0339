"""Defect 7 (issue 12): a disabled button's label stays readable, >= 4.5:1 (WCAG AA), as drawn in a real window.

Two checks: every button of every screen, switched to disabled and back, by the colours its kv rules give it
(composited over what is behind, opacity included); and the pixels of each button class drawn disabled in the
window, the darkest or lightest text pixel against the button's fill."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from kivy.graphics.opengl import GL_RGBA, GL_UNSIGNED_BYTE, glReadPixels
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.button import Button
from kivy.uix.widget import Widget

from tests.ui.harness import Driver
from ui import theme
from ui.widgets import ChoiceButton, KButton, ModeKey, PadKey, SecondaryButton, SimButton

MIN_RATIO = 4.5


def _lum(c: Sequence[float]) -> float:
    def ch(v: float) -> float:
        return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4

    r, g, b = (ch(v) for v in c[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def _ratio(a: Sequence[float], b: Sequence[float]) -> float:
    la, lb = sorted((_lum(a), _lum(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def _over(top: Sequence[float], alpha: float, under: Sequence[float]) -> tuple[float, float, float]:
    return tuple(alpha * t + (1 - alpha) * u for t, u in zip(top[:3], under[:3], strict=True))  # type: ignore[return-value]


def _drawn(b: Button) -> float:
    """Contrast of the disabled label against the disabled fill, as composited over the white screen."""
    alpha = b.opacity * b.background_color[3]
    fill = _over(b.background_color, alpha, theme.BG)
    text = _over(b.disabled_color, b.opacity * b.disabled_color[3], fill)
    return _ratio(text, fill)


def test_every_button_disabled_keeps_a_readable_label(k: Driver) -> None:
    bad, seen = [], 0
    for scr in k.app.sm.screens:
        for w in Widget.walk(scr, restrict=True):  # TechScreen has a walk() of its own (the door walk)
            if not isinstance(w, Button):
                continue
            # Only a button that is enabled now is switched (and switched back): one disabled through its parent
            # would keep an own "disabled" set here after the parent is enabled again.
            was = w.disabled
            if not was:
                w.disabled = True
            try:
                if w.opacity > 0 and w.height > 0:
                    seen += 1
                    r = _drawn(w)
                    if r < MIN_RATIO:
                        bad.append(f"{scr.name}: {type(w).__name__} {w.text[:30]!r} {r:.2f}:1")
            finally:
                if not was:
                    w.disabled = False
    assert seen > 20, "the screens' buttons were found"
    assert not bad, "disabled buttons below 4.5:1:\n" + "\n".join(bad)


def _pixels(w: BoxLayout) -> list[tuple[int, int, int]]:
    x, y = (int(v) for v in w.to_window(w.x, w.y))
    data = glReadPixels(x, y, int(w.width), int(w.height), GL_RGBA, GL_UNSIGNED_BYTE)
    return [tuple(data[i : i + 3]) for i in range(0, len(data), 4)]  # type: ignore[misc]


def test_disabled_buttons_as_drawn_in_the_window(k: Driver) -> None:
    from kivy.core.window import Window

    panel = BoxLayout(
        orientation="vertical", size_hint=(None, None), size=(600, 700), pos=(20, 20), spacing=20
    )
    kinds = (KButton, SecondaryButton, ChoiceButton, SimButton, PadKey, ModeKey)
    buttons = []
    for cls in kinds:
        b = cls(text="确定 OK", disabled=True, **({"key": "0"} if issubclass(cls, PadKey) else {}))
        buttons.append(b)
        panel.add_widget(b)
    Window.add_widget(panel)
    try:
        k.frames(6)
        Window.canvas.ask_update()
        k.frames(3)
        bad = []
        for b in buttons:
            px = _pixels(b)
            fill = Counter(px).most_common(1)[0][0]
            text = max(px, key=lambda p: _ratio([v / 255 for v in p], [v / 255 for v in fill]))
            r = _ratio([v / 255 for v in text], [v / 255 for v in fill])
            if r < MIN_RATIO:
                bad.append(f"{type(b).__name__}: {r:.2f}:1 (text {text} on {fill})")
        assert not bad, "\n".join(bad)
    finally:
        Window.remove_widget(panel)
