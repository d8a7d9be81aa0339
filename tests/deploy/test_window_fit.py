"""Defect 7 (issue 12): `make run` on a laptop (the kiosk config in a window, no --windowed) shows the whole
1080x1920 kiosk, scaled down to fit the display with its aspect kept, instead of a clipped window.

A private Xvfb the size of a laptop screen (1366x768) runs `kiosk run`; xdotool reads the window's geometry."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO
from ui.bootstrap import SCREEN_MARGIN_PX, fit_scale

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        shutil.which("xdotool") is None or shutil.which("Xvfb") is None,
        reason="xdotool and Xvfb are needed (make test installs them)",
    ),
]
LAPTOP = (1366, 768)


def test_fit_scale_keeps_the_aspect_and_never_enlarges() -> None:
    assert fit_scale((1080, 1920), (1080, 1920 + SCREEN_MARGIN_PX)) == 1.0
    assert fit_scale((1080, 1920), (3840, 2160)) == 1.0, "never larger than configured"
    s = fit_scale((1080, 1920), LAPTOP)
    assert s == pytest.approx((768 - SCREEN_MARGIN_PX) / 1920)
    assert 1080 * s <= 1366 and 1920 * s <= 768 - SCREEN_MARGIN_PX + 1e-9


@pytest.fixture
def laptop() -> Iterator[str]:
    r, w = os.pipe()
    xvfb = subprocess.Popen(
        ["Xvfb", "-displayfd", str(w), "-screen", "0", f"{LAPTOP[0]}x{LAPTOP[1]}x24", "-nolisten", "tcp"],
        pass_fds=(w,),
        stderr=subprocess.DEVNULL,
    )
    os.close(w)
    with os.fdopen(r) as f:
        num = f.readline().strip()
    assert num, "Xvfb did not start"
    yield f":{num}"
    xvfb.terminate()
    xvfb.wait(10)


def _xdotool(dpy: str, *args: str) -> str:
    return subprocess.run(
        ["xdotool", *args], capture_output=True, text=True, timeout=20, env={**os.environ, "DISPLAY": dpy}
    ).stdout


def test_the_kiosk_window_fits_a_laptop_display(laptop: str, tmp_path: Path) -> None:
    cfg = tmp_path / "kiosk.toml"
    text = (REPO / "kiosk/default.toml").read_text(encoding="utf-8")
    assert "fullscreen = false" in text  # the demo config `make run` uses: a window
    cfg.write_text(text, encoding="utf-8")
    env = {**os.environ, "DISPLAY": laptop, "HOME": str(tmp_path), "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "hallkiosk.cli", "--config", str(cfg), "run"],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        end, wid = time.monotonic() + 90, ""
        while time.monotonic() < end and not wid:
            assert proc.poll() is None, f"the kiosk exited with {proc.returncode}"
            found = _xdotool(laptop, "search", "--pid", str(proc.pid)).split()
            wid = found[0] if found else ""
            time.sleep(0.5)
        assert wid, "no kiosk window"
        time.sleep(2)
        geometry = _xdotool(laptop, "getwindowgeometry", wid)
        size = next(line for line in geometry.splitlines() if "Geometry:" in line).split()[-1]
        w, h = (int(v) for v in size.split("x"))
        assert h <= LAPTOP[1] and w <= LAPTOP[0], f"clipped: {w}x{h} on {LAPTOP}"
        assert w / h == pytest.approx(1080 / 1920, rel=0.01), f"aspect changed: {w}x{h}"
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(10)
