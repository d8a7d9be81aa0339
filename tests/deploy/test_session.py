"""The kiosk session: fullscreen, borderless, and no way out by keyboard.

A private Xvfb started with the session's X options (-nocursor -s 0 -dpms; -novtswitch and DontZap are Xorg's
own and have no Xvfb equivalent, so the real Xorg is not part of this test) runs `kiosk run` in kiosk mode (no
--windowed); xdotool sends Escape, Alt+F4, Ctrl+Alt+Backspace and Ctrl+Alt+F2 through XTEST, as a keyboard
would. A control shows the same key path closes a Kivy window on default settings, so the test can fail."""

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

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        shutil.which("xdotool") is None or shutil.which("Xvfb") is None,
        reason="xdotool and Xvfb are needed (make test installs them)",
    ),
]
KEYS = ("Escape", "alt+F4", "ctrl+alt+BackSpace", "ctrl+alt+F2")
SESSION = REPO / "packaging/session"


@pytest.fixture
def display() -> Iterator[str]:
    r, w = os.pipe()
    xvfb = subprocess.Popen(
        [
            "Xvfb",
            "-displayfd",
            str(w),
            "-screen",
            "0",
            "1280x1024x24",
            "-nolisten",
            "tcp",
            "-nocursor",
            "-s",
            "0",
            "-dpms",
        ],
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


def _xdotool(dpy: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["xdotool", *args], capture_output=True, text=True, timeout=20, env={**os.environ, "DISPLAY": dpy}
    )


def _window(dpy: str, title: str, proc: subprocess.Popen[bytes], timeout: float = 90) -> str:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        assert proc.poll() is None, f"{title} exited with {proc.returncode}"
        found = _xdotool(dpy, "search", "--pid", str(proc.pid)).stdout.split()
        if found:
            return found[0]
        time.sleep(0.5)
    pytest.fail(f"no window called {title!r} within {timeout} s")


def _press_all(dpy: str, wid: str) -> None:
    for combo in KEYS:
        _xdotool(dpy, "windowfocus", "--sync", wid)
        assert _xdotool(dpy, "key", "--clearmodifiers", combo).returncode == 0, combo
        time.sleep(1.0)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.kill()
    proc.wait(10)


def test_keyboard_shortcuts_leave_the_kiosk_in_place(display: str, tmp_path: Path) -> None:
    cfg = tmp_path / "kiosk.toml"
    text = (REPO / "kiosk/default.toml").read_text(encoding="utf-8")
    assert "fullscreen = false" in text
    cfg.write_text(text.replace("fullscreen = false", "fullscreen = true"), encoding="utf-8")
    env = {**os.environ, "DISPLAY": display, "HOME": str(tmp_path), "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "hallkiosk.cli", "--config", str(cfg), "run"],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wid = _window(display, "Hall Kiosk", proc)
        time.sleep(3)  # the first frame and the core's start
        geometry = _xdotool(display, "getwindowgeometry", wid).stdout
        assert "Position: 0,0" in geometry and "Geometry: 1280x1024" in geometry, geometry  # the whole screen
        _press_all(display, wid)
        assert proc.poll() is None, f"the kiosk exited ({proc.returncode}) on a key press"
        assert wid in _xdotool(display, "search", "--pid", str(proc.pid)).stdout.split()
        assert "Geometry: 1280x1024" in _xdotool(display, "getwindowgeometry", wid).stdout
    finally:
        _stop(proc)


CONTROL = """
from kivy.app import App
from kivy.uix.label import Label
class Control(App):
    title = "Kivy control"
    def build(self):
        return Label(text="control")
Control().run()
"""


def test_control_the_same_keys_close_a_kivy_window_on_default_settings(display: str, tmp_path: Path) -> None:
    env = {**os.environ, "DISPLAY": display, "HOME": str(tmp_path), "KIVY_NO_ARGS": "1"}
    env.pop("KIVY_USE_DEFAULTCONFIG", None)
    script = tmp_path / "control.py"  # a file: Kivy's App looks for its .kv beside the source
    script.write_text(CONTROL)
    proc = subprocess.Popen(
        [sys.executable, str(script)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wid = _window(display, "Kivy control", proc)
        time.sleep(1)
        _xdotool(display, "windowfocus", "--sync", wid)
        _xdotool(display, "key", "--clearmodifiers", "Escape")
        proc.wait(15)  # exit_on_escape is on by default: the key reached the window
        assert proc.returncode == 0
    finally:
        _stop(proc)


def test_session_files_lock_the_x_server() -> None:
    conf = (SESSION / "50-hall-kiosk.conf").read_text()
    for option in ('"DontZap"      "true"', '"DontVTSwitch" "true"', '"BlankTime"    "0"'):
        assert option in conf, option
    unit = (REPO / "packaging/systemd/hall-kiosk.service").read_text()
    assert "-nocursor -s 0 -dpms -novtswitch" in unit and "/usr/bin/hall-kiosk-session" in unit
    script = SESSION / "hall-kiosk-session"
    assert os.access(script, os.X_OK)
    assert subprocess.run(["sh", "-n", str(script)]).returncode == 0


def test_session_script_opens_a_terminal_only_for_the_technician(tmp_path: Path) -> None:
    """hall-kiosk-session with stand-ins for the kiosk and xterm (no X here): exit 75 opens the terminal."""
    from ui.main import TECH_SHELL_EXIT

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "xterm").write_text(f"#!/bin/sh\ntouch {tmp_path}/terminal-opened\n")
    (bin_dir / "systemd-notify").write_text("#!/bin/sh\nexit 0\n")
    for f in bin_dir.iterdir():
        f.chmod(0o755)
    script = (SESSION / "hall-kiosk-session").read_text().replace("/usr/bin/kiosk", str(bin_dir / "kiosk"))
    (tmp_path / "session").write_text(script)
    for status, opens in ((TECH_SHELL_EXIT, True), (0, False), (1, False)):
        (bin_dir / "kiosk").write_text(f"#!/bin/sh\nexit {status}\n")
        (bin_dir / "kiosk").chmod(0o755)
        (tmp_path / "terminal-opened").unlink(missing_ok=True)
        r = subprocess.run(
            ["sh", str(tmp_path / "session")],
            env={**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"},
            timeout=30,
        )
        assert (tmp_path / "terminal-opened").exists() == opens, status
        assert r.returncode == (0 if opens else status)
    assert f"TECH_SHELL_EXIT={TECH_SHELL_EXIT}" in script  # the script and ui.main agree on the number
