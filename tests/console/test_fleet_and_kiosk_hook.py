"""Kiosk rows from real kiosk processes (the runtime's own status hook) in the console, live; a killed kiosk
goes offline by the database's clock. The fleet half runs on the test PostgreSQL, as a hall's fleet would."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from kiosk.clock import SystemClock
from kiosk.kiosk_status import kiosks
from kiosk.secret import load_or_create_secret
from kiosk.staff import StaffDirectory
from kiosk.storage.db import Database
from tests.console.conftest import login
from tests.console.hall import PASSWORD, REPO, console_config, start_console

pytestmark = pytest.mark.slow


def kiosk_config(tmp: Path, db_url: str, kiosk_id: str, letter: str) -> Path:
    comps = ", ".join(
        f'{{ label = "{letter}0{i}", size = "M", board = 0, channel = {i} }}' for i in range(1, 5)
    )
    extra = f"""
[[cabinets]]
id = "CAB-{letter}"
bus = "sim"
family = "kerong-cu"
boards = [0]
compartments = [{comps}]

[[card_readers]]
kind = "sim"

[printer]
kind = "sim"
"""
    path = console_config(tmp / kiosk_id, db_url, kiosk_id=kiosk_id)
    path.write_text(path.read_text(encoding="utf-8") + extra, encoding="utf-8")
    return path


def start_kiosk(cfg: Path) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.console.kiosk_proc", str(cfg)],
        cwd=REPO,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert proc.stdout is not None
    seen: list[str] = []
    for line in proc.stdout:  # log lines (SIMULATED HARDWARE ...) come first
        seen.append(line)
        if line.strip() == "ready":
            # Keep reading its log so a full pipe never blocks the kiosk.
            threading.Thread(target=proc.stdout.read, daemon=True).start()
            return proc
    raise AssertionError("the kiosk did not start:\n" + "".join(seen))


@pytest.mark.postgres
def test_two_kiosk_processes_on_postgresql(
    pg_url: str, tmp_path: Path, browser: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # One hall secret for the console and both kiosks (kiosk.hall_secret refuses another one on this database).
    monkeypatch.setenv("KIOSK_SECRET_FILE", str(tmp_path / "hall-secret.key"))
    db = Database(pg_url)
    db.upgrade()
    console_cfg = console_config(tmp_path / "console", pg_url)
    StaffDirectory(db, load_or_create_secret(tmp_path / "console" / "data"), SystemClock()).add(
        "TECH1", "赵工", ["technician"], actor="test", password=PASSWORD
    )
    procs = [
        start_kiosk(kiosk_config(tmp_path, pg_url, k, letter))
        for k, letter in (("KIOSK-A", "B"), ("KIOSK-B", "C"))
    ]
    console, url, _ = start_console(console_cfg)
    ctx = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        page = ctx.new_page()
        login(page, SimpleNamespace(url=url), "TECH1")  # type: ignore[arg-type]
        page.wait_for_selector("#live.on")
        page.wait_for_selector("tr[data-key=KIOSK-A].online", timeout=15000)
        page.wait_for_selector("tr[data-key=KIOSK-B].online", timeout=15000)
        row = page.inner_text("tr[data-key=KIOSK-A]")
        assert "在线" in row and "start" in row
        rows = {r.kiosk_id: r for r in kiosks(db)}
        assert rows["KIOSK-A"].devices and rows["KIOSK-B"].software_version
        # Kill one kiosk outright: its row turns offline on the open page, by the database's clock.
        procs[1].send_signal(signal.SIGKILL)
        procs[1].wait(10)
        t0 = time.monotonic()
        page.wait_for_selector("tr[data-key=KIOSK-B].offline", timeout=15000)
        waited = time.monotonic() - t0
        assert 2.0 < waited < 10.0, waited  # 3 intervals of 1 s + 2 s grace, then within a tick
        assert page.locator("tr[data-key=KIOSK-A].online").count() == 1
    finally:
        ctx.close()
        for p in procs:
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(15)
                except subprocess.TimeoutExpired:
                    p.kill()
        console.terminate()
        console.wait(10)
        db.dispose()


def test_the_running_kiosk_writes_its_row_and_takes_directory_badges(tmp_path: Path) -> None:
    """One real runtime on SQLite: its status row appears; a badge of the staff directory is a staff badge and
    the audit then names the member's staff id."""
    from hallkiosk.runtime import Runtime
    from kiosk.config import load_config

    cfg = load_config(kiosk_config(tmp_path, f"sqlite:///{tmp_path / 'k.db'}", "KIOSK-ONE", "D"))
    rt = Runtime(cfg)
    rt.screen_name = "pickup"
    rt.start()
    try:
        assert rt.wait_ready(60) and rt.start_error is None
        deadline = time.monotonic() + 10
        while not kiosks(rt.app.db) and time.monotonic() < deadline:
            time.sleep(0.2)
        (row,) = kiosks(rt.app.db)
        assert row.kiosk_id == "KIOSK-ONE" and row.online and row.screen == "pickup"
        assert {d["name"] for d in row.devices}  # the heartbeat's passive diagnostics
        assert not rt.is_staff_badge("0A0B0C0D")
        StaffDirectory(rt.app.db, rt.app.secret, rt.app.clock).add("S0042", "张三", ["staff"], actor="test")
        StaffDirectory(rt.app.db, rt.app.secret, rt.app.clock).add_badge("S0042", "0A0B0C0D", actor="test")
        assert rt.is_staff_badge("0a0b0c0d") and rt.staff_id_of("0A0B0C0D") == "S0042"
        assert rt.staff_id_of("5A1F0D5E") == "5A1F0D5E"  # a config badge stays itself (issue 13 maps it)
    finally:
        rt.stop()
