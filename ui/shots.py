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
    """Writes ``<n>-<screen>.png`` shortly after each screen change, and ``latest.png`` every few seconds."""

    def __init__(self, app: Any, directory: Path, every_s: float = 5.0) -> None:
        self.app = app
        self.dir = directory
        self.n = 0
        app.bind(on_start=lambda *_: self._hook())
        Clock.schedule_interval(lambda _dt: self._save("latest"), every_s)

    def _hook(self) -> None:
        self.app.sm.bind(current=lambda _sm, name: Clock.schedule_once(lambda _dt: self._numbered(name), 0.3))
        Clock.schedule_once(lambda _dt: self._numbered(self.app.sm.current), 0.5)

    def _numbered(self, name: str) -> None:
        self.n += 1
        self._save(f"{self.n:03d}-{name}")

    def _save(self, stem: str) -> None:
        try:
            grab(self.dir / f"{stem}.png")
        except Exception:  # a full disk must not stop the kiosk
            log.exception("screenshot %s failed", stem)
