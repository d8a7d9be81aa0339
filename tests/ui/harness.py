"""Drive the real KioskApp in a real window: frames, real touch events through the Window, screenshots, overflow checks.

One Kivy window per process (SDL2 cannot make a second), so the app is built once per test session.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from kivy.base import EventLoop
from kivy.tests.common import UnitTestTouch
from kivy.uix.label import Label
from kivy.uix.widget import Widget

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "artifacts" / "ui"


class FakeIdle:
    """The inactivity timer's clock: moves only when a test says so."""

    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t

    def advance(self, s: float) -> None:
        self.t += s


class Driver:
    def __init__(self, app: Any, idle: FakeIdle) -> None:
        self.app = app
        self.idle = idle
        self.rt = app.rt
        # Whether the (simulated) reader has told the app a card is on it: a card taken off and put straight
        # back would otherwise be the same card to the reader, and the next test's card never read.
        self.reader_has_card = False
        app.rt.add_card_listener(self._on_card)

    def _on_card(self, ev: Any) -> None:
        if ev.kind == "inserted":
            self.reader_has_card = True
        elif ev.kind == "removed":
            self.reader_has_card = False

    def clear_reader(self) -> None:
        """Take any card off the simulated reader and wait until the reader has reported it gone."""
        self.rt.sims.card_sim().remove_card()
        self.wait_for(lambda: not self.reader_has_card, what="the reader to report the card removed")

    # --- time ------------------------------------------------------------------
    def frames(self, n: int = 3) -> None:
        for _ in range(n):
            EventLoop.idle()

    def wait_for(self, cond: Callable[[], Any], timeout: float = 15.0, what: str = "") -> Any:
        """Run frames (so worker results are delivered on the main thread) until ``cond()`` is truthy."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            EventLoop.idle()
            v = cond()
            if v:
                return v
            time.sleep(0.01)
        raise AssertionError(
            f"timed out after {timeout} s waiting for {what or cond}; screen={self.app.sm.current}, "
            f"error={self.app.screen.error!r}"
        )

    def settle(self) -> None:
        """Wait until no background call is in flight and the layout is done."""
        self.wait_for(lambda: not self.app.busy, what="the busy indicator to go")
        self.frames(4)

    # --- touches ---------------------------------------------------------------
    def tap(self, w: Widget, *, min_mm: float | None = 15.0) -> None:
        """Press and release a real touch at the widget's centre, through the Window like a touch screen does."""
        self.frames(
            3
        )  # let a screen that just appeared finish its layout, or the touch lands on stale positions
        assert w.get_root_window() is not None, f"{w} is not on screen"
        assert w.opacity > 0 and not w.disabled, f"{w} ({getattr(w, 'text', '')!r}) is hidden or disabled"
        if min_mm is not None:
            px = self.app.min_target_px() * min_mm / 15.0
            assert w.height >= px - 0.5 and w.width >= px - 0.5, (
                f"touch target {getattr(w, 'text', w)!r} is {w.width:.0f}x{w.height:.0f} px, below {min_mm} mm ({px:.0f} px)"
            )
        x, y = self._visible_point(w)
        touch = UnitTestTouch(x, y)
        touch.touch_down()
        self.frames(2)
        touch.touch_up()
        self.frames(3)

    def _visible_point(self, w: Widget) -> tuple[float, float]:
        """The widget's centre in window coordinates, scrolled into view as a person would; never a clipped point."""
        from kivy.core.window import Window
        from kivy.uix.scrollview import ScrollView

        for _ in range(2):
            x, y = w.to_window(*w.center)
            clipper = next(
                (a for a in _ancestors(w) if isinstance(a, ScrollView) and not _inside(a, x, y)), None
            )
            if clipper is None:
                break
            clipper.scroll_to(w, animate=False)
            self.frames(3)
        assert 0 <= x <= Window.width and 0 <= y <= Window.height, (
            f"{getattr(w, 'text', w)!r} is outside the window"
        )
        assert clipper is None, f"{getattr(w, 'text', w)!r} stays hidden in its scrolling list"
        return x, y

    def tap_id(self, wid: str, screen: str | None = None) -> None:
        scr = self.app.get_screen(screen or self.app.sm.current)
        self.tap(scr.ids[wid])

    def tap_text(self, text: str, root: Widget | None = None) -> None:
        self.tap(self.find_text(text, root))

    def find_text(self, text: str, root: Widget | None = None) -> Widget:
        """The visible widget whose text (or ListRow title) is ``text``."""
        for w in walk(root or self.app.screen):
            if (getattr(w, "text", None) == text or getattr(w, "title", None) == text) and w.opacity > 0:
                return w
        raise AssertionError(f"no visible widget says {text!r} on {self.app.sm.current}")

    def keys(self, pad: Widget, chars: str | list[str]) -> None:
        """Tap pad keys: each character of a string, or named keys ("back", "clear", "space") in a list."""
        for ch in chars:
            key = next(k for k in pad.children if getattr(k, "key", None) == ch)
            self.tap(key)

    def t(self, key: str, **kw: Any) -> str:
        return self.app.t(key, **kw)

    def go_start(self) -> None:
        self.app.reset_session()
        self.settle()


def _inside(w: Widget, x: float, y: float) -> bool:
    """Whether the window point (x, y) lies within the widget's box on screen."""
    x0, y0 = w.to_window(w.x, w.y)
    x1, y1 = w.to_window(w.right, w.top)
    return x0 <= x <= x1 and y0 <= y <= y1


def _ancestors(w: Widget) -> Iterator[Widget]:
    p = w.parent
    while p is not None and p is not p.parent:
        yield p
        p = p.parent


def walk(w: Widget) -> Iterator[Widget]:
    """Every visible widget under ``w`` (a hidden or zero-height branch is skipped)."""
    if w.opacity == 0 or (w.height <= 0 and w.size_hint_y is None):
        return
    yield w
    for c in w.children:
        yield from walk(c)


def overflowing(root: Widget, win_width: float) -> list[str]:
    """Labels whose text is larger than the label, or that stick out of the window sideways."""
    bad = []
    for w in walk(root):
        if not isinstance(w, Label) or not w.text.strip():
            continue
        w.texture_update()
        tw, th = w.texture_size
        if tw > w.width + 2 or th > w.height + 2:
            bad.append(
                f"{w.__class__.__name__} {w.text[:40]!r}: text {tw:.0f}x{th:.0f} > box {w.width:.0f}x{w.height:.0f}"
            )
        x0, _ = w.to_window(w.x, w.y)
        if x0 < -1 or x0 + w.width > win_width + 1:
            bad.append(
                f"{w.__class__.__name__} {w.text[:40]!r}: outside the window (x={x0:.0f}, w={w.width:.0f})"
            )
    return bad
