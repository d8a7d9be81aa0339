"""A hall for the console's tests: a database with staff, a cabinet with parcels and tasks made by the real
cabinet core over a simulated lock board on a pty, and the console itself as a separate process."""

from __future__ import annotations

import datetime as dt
import os
import re
import select
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from drivers.lockboard import SerialLockBus
from drivers.lockboard.settings import BusSettings
from drivers.lockboard.sim import SimLockBoard
from kiosk.cabinet import Cabinet
from kiosk.clock import FakeClock, SystemClock
from kiosk.config import CabinetConfig, PickupConfig
from kiosk.identity import Identity, check_digit
from kiosk.secret import load_or_create_secret
from kiosk.staff import StaffDirectory
from kiosk.storage.db import Database
from tests.conftest import init_kiosk
from tests.support.config import write_config

REPO = Path(__file__).resolve().parents[2]
PASSWORD = "console-pass-123"
USERS = {  # staff id: roles
    "ADMIN1": ["hall_admin", "staff"],
    "STAFF1": ["staff"],
    "TECH1": ["technician"],
    "LOCKME": ["staff"],
}
CAB_ID = "CAB-01"


def id_number(seq: int) -> str:
    first17 = f"11010519500101{seq:03d}"
    return first17 + check_digit(first17)


def console_config(
    tmp: Path,
    db_url: str,
    *,
    kiosk_id: str = "HALL-PC-01",
    console: dict[str, Any] | None = None,
    init: bool = True,
) -> Path:
    """A hall PC's kiosk.toml (tests.support.config); ``console``: more [console] keys; ``init``: also `kiosk db
    init` it (False for a config that is meant to be refused)."""
    p = write_config(
        tmp,
        kiosk={"id": kiosk_id, "hall": "测试政务服务中心", "hall_en": "Test Service Centre"},
        storage={"url": db_url},
        platform={"endpoint": "sim"},
        console={"status_interval_s": 1, "max_failed_logins": 3, **(console or {})},
    )
    if init:
        init_kiosk(p)
    return p


@dataclass
class Hall:
    url: str  # the console's address
    db: Database
    cfg_path: Path
    data_dir: Path
    cabinet: Cabinet
    sim: SimLockBoard
    proc: subprocess.Popen[str]
    backend: str

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.sim.stop()
        self.db.dispose()


def cabinet_config() -> CabinetConfig:
    sizes = "SSMMLLMM"
    comps = [
        {"label": f"A{i + 1:02d}", "size": sz, "board": 0, "channel": i + 1} for i, sz in enumerate(sizes)
    ]
    return CabinetConfig.model_validate(
        {
            "id": CAB_ID,
            "bus": "sim",
            "family": "kerong-cu",
            "boards": [0],
            "reply_timeout_s": 0.3,
            "open_timeout_s": 0.4,
            "retries": 1,
            "close_timeout_s": 30,
            "compartments": comps,
        }
    )


def deposit(cab: Cabinet, sim: SimLockBoard, case: str, seq: int, name: str) -> None:
    h = cab.start_deposit(
        case,
        actor="staff:ADMIN1",
        size="S",
        applicant=Identity(id_number=id_number(seq), name=name, card_kind="resident_id"),
    )
    ch = int(h.label[1:])
    sim.put_item(0, ch)
    sim.close_door(0, ch)
    r = cab.wait_closed(h, 10)
    assert r.outcome == "deposited", r


def seed(db: Database, secret: bytes) -> tuple[Cabinet, SimLockBoard]:
    """Staff, and a cabinet: one overdue parcel, one ready, one disabled door, one faulty door, tasks."""
    directory = StaffDirectory(db, secret, SystemClock(), max_failures=3, lockout_s=900)
    for sid, roles in USERS.items():
        directory.add(
            sid,
            {"ADMIN1": "王大明", "STAFF1": "李小红", "TECH1": "赵工", "LOCKME": "孙悟空"}[sid],
            roles,
            actor="test",
            password=PASSWORD,
        )
    cfg = cabinet_config()
    sim = SimLockBoard.from_config(cfg)
    bus = SerialLockBus(sim.serve_pty(), BusSettings.from_config(cfg))
    clock = FakeClock(start=dt.datetime.now(dt.UTC) - dt.timedelta(days=10))
    cab = Cabinet(
        db, {CAB_ID: bus}, [cfg], PickupConfig(), clock, secret, "HALL-PC-01", close_poll_interval_s=0.02
    )
    cab.start()
    deposit(cab, sim, "LS202600000001", 1, "张三丰")  # expires 7 days after, 3 days ago: overdue
    clock.advance(10 * 86400 - 60)
    deposit(cab, sim, "LS202600000002", 2, "李四")
    cab.disable("A07", actor="staff:ADMIN1", reason="hinge broken")
    sim.jam(0, 8)
    try:
        cab.technician_open("A08", actor="technician:TECH1")
    except Exception:
        pass
    return cab, sim


def start_console(
    cfg_path: Path, *args: str, timeout_s: float = 60
) -> tuple[subprocess.Popen[str], str, list[str]]:
    """``kiosk console --port 0`` as its own process; returns it, its address and the lines it printed."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "hallkiosk.cli", "-c", str(cfg_path), "console", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        cwd=REPO,
    )
    lines: list[str] = []
    deadline = time.monotonic() + timeout_s
    assert proc.stdout is not None
    while time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stdout], [], [], 0.5)
        if ready:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line.rstrip())
            m = re.match(r"console: (https?://\S+)", line)
            if m:
                if "--demo" in args:  # the demo line follows the address
                    lines.append(proc.stdout.readline().rstrip())
                return proc, m.group(1).rstrip("/"), lines
        if proc.poll() is not None:
            break
    proc.kill()
    raise AssertionError("the console did not start:\n" + "\n".join(lines))


def make_hall(tmp: Path, db_url: str, backend: str) -> Hall:
    cfg_path = console_config(tmp, db_url)
    db = Database(db_url)
    db.upgrade()
    secret = load_or_create_secret(tmp / "data")
    cab, sim = seed(db, secret)
    proc, url, _ = start_console(cfg_path)
    return Hall(url, db, cfg_path, tmp / "data", cab, sim, proc, backend)
