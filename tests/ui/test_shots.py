"""ui/shots.py's ScreenRecorder: the first screenshot shows the first screen, never a black undrawn buffer.

A small Kivy app (a white window with a red square) in its own process under the session's DISPLAY (Xvfb), with
the recorder as `kiosk run --screenshot-dir` has it. Its on_start sleeps 1 s, as a slow packaged start does (first
run, cold caches, the runtime starting): the recorder's first picture is then due before the first frame is drawn.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from tests.conftest import REPO

APP = r"""
import sys, time
from pathlib import Path
import os
os.environ["KIVY_NO_ARGS"] = "1"
from kivy.config import Config
Config.set("graphics", "width", "320"); Config.set("graphics", "height", "240")
from kivy.app import App
from kivy.clock import Clock
from kivy.core.window import Window
from kivy.graphics import Color, Rectangle
from kivy.uix.screenmanager import Screen, ScreenManager
from ui.shots import ScreenRecorder

class Shots(App):
    def build(self):
        Window.clearcolor = (1, 1, 1, 1)
        self.sm = ScreenManager()
        s = Screen(name="start")
        with s.canvas:
            Color(1, 0, 0, 1)
            Rectangle(pos=(40, 40), size=(100, 100))
        self.sm.add_widget(s)
        return self.sm

app = Shots()
ScreenRecorder(app, Path(sys.argv[1]), every_s=60)
app.bind(on_start=lambda *_: time.sleep(1.0))  # a slow start, after the recorder's own on_start hook
Clock.schedule_once(lambda _dt: app.stop(), 4)
app.run()
"""


def _colours(png: Path) -> set[tuple[int, int, int]]:
    with Image.open(png) as im:
        return {c for _n, c in im.convert("RGB").getcolors(1 << 20) or []}


def test_the_first_screenshot_is_the_first_screen_not_black(tmp_path: Path) -> None:
    if not os.environ.get("DISPLAY"):
        pytest.skip("no DISPLAY: run under xvfb-run, as make test does")
    script = tmp_path / "shots_app.py"  # a file: Kivy's start-up exits 1 silently under `python -c`
    script.write_text(APP, encoding="utf-8")
    r = subprocess.run(
        [sys.executable, str(script), str(tmp_path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(REPO), "KIVY_HOME": str(tmp_path / "kivy")},
    )
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-3000:]
    first = tmp_path / "001-start.png"
    assert first.exists(), sorted(p.name for p in tmp_path.iterdir())
    colours = _colours(first)
    assert (255, 255, 255) in colours and (255, 0, 0) in colours, (
        f"first screenshot shows {sorted(colours)[:8]}"
    )
