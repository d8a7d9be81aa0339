"""Kiosk cold start to the first frame of the start screen, against a minimal Kivy app's cold start in the same run.

Each start is a fresh Python process (nothing cached in memory), alternating kiosk and baseline so both see the
same disk cache and machine load. The time is from spawning the process to the first frame drawn (the window's
first flip with the start screen current). Target: kiosk <= 1.5x baseline. Runs under Xvfb when there is no display.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from kiosk.config import load_config
from kiosk.datadir import init

REPO = Path(__file__).resolve().parent.parent
RUNS = int(os.environ.get("BENCH_RUNS", "5"))
TARGET = 1.5

# Both children print FIRST_FRAME on their first flip after the root is built, then exit at once.
_MARK = """
from kivy.core.window import Window
from kivy.clock import Clock
import os, sys
def _flip(*_):
    if {ready}:
        sys.stdout.write("FIRST_FRAME\\n"); sys.stdout.flush(); os._exit(0)
Window.bind(on_flip=_flip)
"""

BASELINE = (
    """
import datetime as dt
import os
os.environ.setdefault("KIVY_NO_ARGS", "1")
from kivy.config import Config
Config.set("graphics", "width", "1080"); Config.set("graphics", "height", "1920")
from kivy.app import App
from kivy.uix.label import Label
"""
    + _MARK.format(ready="True")
    + """
class Minimal(App):
    def build(self):
        return Label(text="Hello")
Minimal().run()
"""
)

KIOSK = (
    """
import os, sys
os.environ.setdefault("KIVY_NO_ARGS", "1")
from kiosk.config import load_config
from hallkiosk.cli.run import build_touch_app
cfg = load_config(sys.argv[1])
app = build_touch_app(cfg, windowed=True)
"""
    + _MARK.format(ready="getattr(app, 'sm', None) is not None and app.sm.current == 'start'")
    + """
app.run()
"""
)


def _config(tmp: Path) -> Path:
    text = (REPO / "kiosk" / "default.toml").read_text(encoding="utf-8")
    text = text.replace('data_dir = "~/.local/share/hall-kiosk"', f'data_dir = "{tmp / "data"}"')
    p = tmp / "kiosk.toml"
    p.write_text(text, encoding="utf-8")
    init(
        load_config(p), dt.datetime.now(dt.UTC), actor="bench"
    )  # `kiosk db init`: the kiosk starts only after it
    return p


def _once(code: str, *args: str) -> float:
    # A file, not ``python -c``: Kivy's App looks up the source file of the app class.
    script = Path(tempfile.gettempdir()) / f"bench_startup_{abs(hash(code))}.py"
    script.write_text(code, encoding="utf-8")
    env = {
        **os.environ,
        "KIVY_NO_ARGS": "1",
        "KIVY_USE_DEFAULTCONFIG": "1",
        "KIVY_NO_CONSOLELOG": "1",
        "KIVY_NO_FILELOG": "1",
    }
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, str(script), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=env,
        cwd=REPO,
        text=True,
    )
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.strip() == "FIRST_FRAME":
            elapsed = time.perf_counter() - t0
            proc.wait(timeout=30)
            return elapsed
    proc.wait(timeout=30)
    raise RuntimeError(f"the child exited ({proc.returncode}) without drawing a frame")


def main() -> int:
    if not os.environ.get("DISPLAY"):
        if not shutil.which("xvfb-run"):
            print("no DISPLAY and no xvfb-run: cannot open a window", file=sys.stderr)
            return 2
        return subprocess.call(["xvfb-run", "-a", "-s", "-screen 0 1280x1024x24", sys.executable, __file__])
    kiosk_s, base_s = [], []
    with tempfile.TemporaryDirectory() as tmp:
        _once(BASELINE)  # warm the disk cache for both (Kivy, SDL2, Mesa are shared)
        for i in range(RUNS):
            # A fresh data directory each time: a first boot (migrations, secret, catalog) is the cold case.
            run_dir = Path(tmp) / f"run{i}"
            run_dir.mkdir()
            kiosk_s.append(_once(KIOSK, str(_config(run_dir))))
            base_s.append(_once(BASELINE))
    k, b = statistics.median(kiosk_s), statistics.median(base_s)
    ratio = k / b

    def ms(xs: list[float]) -> str:
        return ", ".join(f"{x * 1000:.0f}" for x in xs)

    print(f"minimal Kivy app   cold start to first frame: median {b * 1000:.0f} ms  ({ms(base_s)})")
    print(f"kiosk start screen cold start to first frame: median {k * 1000:.0f} ms  ({ms(kiosk_s)})")
    print(f"ratio {ratio:.2f}x (target <= {TARGET}x): {'OK' if ratio <= TARGET else 'OVER TARGET'}")
    return 0 if ratio <= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
