"""The systemd watchdog protocol against a test NOTIFY_SOCKET: READY=1, then WATCHDOG=1 from the UI loop, and
no more pings once the UI thread hangs (the test hook blocks it), so systemd would restart the kiosk.

Real parts: the kiosk's own `kiosk run` on its simulators in a real Kivy window under the test run's Xvfb, and a
real unix datagram socket standing in for systemd's (systemd itself cannot run a unit inside this test)."""

from __future__ import annotations

import itertools
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO

pytestmark = [pytest.mark.slow, pytest.mark.ui]
# 5 s: a ping every 2.5 s. Shorter timeouts fail on a loaded 2-core test machine for the right reason (the UI
# thread does stall a second or two while the core starts beside it); the units use WatchdogSec=30.
WATCHDOG_USEC = 5_000_000
TIMEOUT_S = WATCHDOG_USEC / 1e6


@pytest.fixture
def notify_socket(tmp_path: Path) -> Iterator[tuple[socket.socket, Path]]:
    path = tmp_path / "notify.sock"
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(str(path))
    yield s, path
    s.close()


def _start_kiosk(tmp_path: Path, sock: Path, **extra: str) -> subprocess.Popen[bytes]:
    if not os.environ.get("DISPLAY"):
        pytest.skip("no display: run under `make test` (Xvfb)")
    env = {
        **os.environ,
        "HOME": str(tmp_path / "home"),
        "NOTIFY_SOCKET": str(sock),
        "WATCHDOG_USEC": str(WATCHDOG_USEC),
        "PYTHONPATH": str(REPO),
        **extra,
    }
    env.pop("WATCHDOG_PID", None)
    # The built-in config's data directory under this HOME: marked once by `kiosk db init` (kiosk.datadir).
    init = subprocess.run(
        [sys.executable, "-m", "hallkiosk.cli", "db", "init"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert init.returncode == 0, init.stderr
    return subprocess.Popen(
        [sys.executable, "-m", "hallkiosk.cli", "run", "--windowed"],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(tmp_path / "kiosk.err", "wb"),
    )


def _messages(s: socket.socket, seconds: float) -> list[tuple[float, str]]:
    """Every datagram received within ``seconds``, with its arrival time."""
    out: list[tuple[float, str]] = []
    end = time.monotonic() + seconds
    while (left := end - time.monotonic()) > 0:
        s.settimeout(left)
        try:
            out.append((time.monotonic(), s.recv(4096).decode()))
        except TimeoutError:
            break
    return out


def _wait_ready(s: socket.socket, proc: subprocess.Popen[bytes], tmp_path: Path) -> list[str]:
    before: list[str] = []
    end = time.monotonic() + 90
    while time.monotonic() < end:
        assert proc.poll() is None, (tmp_path / "kiosk.err").read_text()
        got = _messages(s, 1.0)
        before += [m for _, m in got]
        if any("READY=1" in m.split("\n") for m in before):
            return before
    pytest.fail("no READY=1 within 90 s: " + (tmp_path / "kiosk.err").read_text()[-2000:])


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.kill()
    proc.wait(10)


def test_ready_then_pings_from_the_ui_loop(notify_socket: tuple[socket.socket, Path], tmp_path: Path) -> None:
    s, path = notify_socket
    proc = _start_kiosk(tmp_path, path)
    try:
        before = _wait_ready(s, proc, tmp_path)
        assert not any("WATCHDOG=1" in m for m in before[:-1]), "a ping before READY=1"
        pings = [t for t, m in _messages(s, 12.0) if m == "WATCHDOG=1"]
        # A ping every 2.5 s: 12 s hold about 4; never a gap as long as the timeout (systemd would restart it).
        assert len(pings) >= 3, pings
        assert max(b - a for a, b in itertools.pairwise(pings)) < TIMEOUT_S
    finally:
        _stop(proc)


def test_a_blocked_ui_thread_stops_the_pings(
    notify_socket: tuple[socket.socket, Path], tmp_path: Path
) -> None:
    s, path = notify_socket
    proc = _start_kiosk(tmp_path, path, HALL_KIOSK_TEST_BLOCK_UI_AFTER_S="4")
    try:
        _wait_ready(s, proc, tmp_path)
        pings = [t for t, m in _messages(s, 12.0) if m == "WATCHDOG=1"]
        assert pings, "no ping before the hook blocked the UI thread"
        assert time.monotonic() - pings[-1] > TIMEOUT_S, "pings went on with the UI thread blocked"
        assert proc.poll() is None  # hung, not exited: only the missing pings tell systemd
    finally:
        _stop(proc)


def test_outside_systemd_nothing_is_sent(tmp_path: Path) -> None:
    from hallkiosk.sdnotify import Notifier

    n = Notifier({})
    assert not n.enabled and n.ping_interval_s is None and n.notify("READY=1") is False
    # Inherited variables meant for another process are ignored (sd_watchdog_enabled's WATCHDOG_PID rule).
    assert (
        Notifier(
            {"NOTIFY_SOCKET": "/x", "WATCHDOG_USEC": str(WATCHDOG_USEC), "WATCHDOG_PID": "1"}
        ).ping_interval_s
        is None
    )
    assert Notifier({"NOTIFY_SOCKET": "@abstract"}).address == "\0abstract"
