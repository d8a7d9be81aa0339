"""Screenshots from the real framebuffer: on every screen change (for `make run` under Xvfb) and for the tests."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from kivy.clock import Clock
from kivy.core.window import Window
from kivy.graphics.opengl import GL_RGBA, GL_UNSIGNED_BYTE, glReadPixels
from PIL import Image

log = logging.getLogger(__name__)


def grab(path: Path) -> Path:
    """Save what the window shows now as a PNG (call after a frame has been drawn)."""
    w, h = Window.size
    data = glReadPixels(0, 0, w, h, GL_RGBA, GL_UNSIGNED_BYTE)
    img = Image.frombytes("RGBA", (w, h), data).transpose(Image.Transpose.FLIP_TOP_BOTTOM).convert("RGB")
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path)
    return path


class ScreenRecorder:
    """Writes ``<n>-<screen>.png`` shortly after each screen change, and ``latest.png`` every few seconds.

    A picture is taken in the window's ``on_flip`` (after ``on_draw``, before the buffers swap), i.e. of a frame
    just drawn: read at a Clock time instead, the first one could come before the first frame was ever drawn
    (a slow start: the first Clock tick runs callbacks already due) and came out all black."""

    def __init__(self, app: Any, directory: Path, every_s: float = 5.0) -> None:
        self.app = app
        self.dir = directory
        self.n = 0
        self._wanted: list[str] = []
        app.bind(on_start=lambda *_: self._hook())
        Window.bind(on_flip=self._on_flip)
        Clock.schedule_interval(lambda _dt: self._want("latest"), every_s)

    def _hook(self) -> None:
        self.app.sm.bind(current=lambda _sm, name: Clock.schedule_once(lambda _dt: self._numbered(name), 0.3))
        Clock.schedule_once(lambda _dt: self._numbered(self.app.sm.current), 0.5)

    def _numbered(self, name: str) -> None:
        self.n += 1
        self._want(f"{self.n:03d}-{name}")

    def _want(self, stem: str) -> None:
        self._wanted.append(stem)
        Window.canvas.ask_update()  # a frame is drawn (and flipped) even when nothing else changed

    def _on_flip(self, *_: Any) -> None:
        stems, self._wanted = self._wanted, []
        for stem in stems:
            self._save(stem)

    def _save(self, stem: str) -> None:
        try:
            grab(self.dir / f"{stem}.png")
        except Exception:  # a full disk must not stop the kiosk
            log.exception("screenshot %s failed", stem)
