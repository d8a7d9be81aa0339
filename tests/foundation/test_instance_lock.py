"""One owner per kiosk: a CLI command on a running kiosk is refused before it touches a door or a flow."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

from sqlalchemy import select

from drivers.cardreader.ga467_sim import DEMO_CARD
from hallkiosk.instance import InstanceLock
from kiosk.config import Config
from kiosk.errors import KioskBusy
from kiosk.identity import Identity
from kiosk.storage.models import Flow
from tests.conftest import REPO

HOLDER = textwrap.dedent("""
    import sys, time
    from kiosk.config import load_config
    from hallkiosk.wiring import App
    app = App(load_config(sys.argv[1]))
    app.buses  # what the running kiosk does at start-up
    print("holding", flush=True)
    time.sleep(60)
""")


def _hold(cfg_path: Path) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(cfg_path)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "holding"
    return proc


def _kiosk(cfg_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hallkiosk.cli", "--config", str(cfg_path), *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )


def test_cli_refused_while_another_process_owns_the_cabinet(cfg: Config) -> None:
    cfg_path = cfg.source
    holder = _hold(cfg_path)
    try:
        r = _kiosk(cfg_path, "cabinet", "open", "A01")
        assert r.returncode == KioskBusy.exit_code, r.stderr
        assert f"in use by process {holder.pid} (kiosk, since " in r.stderr
        assert "hint: Use the staff or technician screen" in r.stderr
        assert "start-up:" not in r.stdout  # refused before reconciling anything
        r = _kiosk(cfg_path, "run", "--windowed")
        assert r.returncode == KioskBusy.exit_code and f"process {holder.pid}" in r.stderr
    finally:
        holder.send_signal(signal.SIGKILL)  # as in a crash or power cut: the kernel drops the lock
        holder.wait()
    r = _kiosk(cfg_path, "cabinet", "status")
    assert r.returncode == 0, r.stderr


def test_open_flow_of_the_running_kiosk_is_left_alone(cfg: Config) -> None:
    """The reviewer's case: a deposit waiting with its door open must not be turned into a staff task."""
    from hallkiosk.wiring import App
    from kiosk.cabinet import Cabinet

    app = App(cfg)
    try:
        cab = Cabinet(app.db, app.buses, cfg.cabinets, cfg.pickup, app.clock, app.secret, cfg.kiosk.id)
        cab.start()
        h = cab.start_dropoff(
            Identity(id_number=DEMO_CARD["id_number"], name="张三", card_kind="resident_id"),
            matter_code="M-001",
            size="S",
        )
        # Read-only commands answer from the database, without reconciling the running kiosk's open door.
        r = _kiosk(cfg.source, "cabinet", "tasks")
        assert r.returncode == 0 and "door and item sensors not read" in r.stderr, r.stderr
        r = _kiosk(cfg.source, "cabinet", "status")
        assert r.returncode == 0 and "start-up:" not in r.stdout, r.stdout + r.stderr
        row = next(line for line in r.stdout.splitlines() if line.startswith(h.label))
        assert (
            "reserved" in row and "not read: the cabinet and card readers of this kiosk are in use" in row
        ), row
        with app.db.transaction() as s:
            flow = s.execute(select(Flow).where(Flow.id == h.flow_id)).scalar_one()
            assert flow.finished_at is None and flow.state != "staff_task"
    finally:
        app.close()


def test_same_process_shares_the_lock_and_releases_it_at_the_end(tmp_path: Path) -> None:
    a, b = InstanceLock(tmp_path), InstanceLock(tmp_path)
    a.acquire()
    b.acquire()  # a second App in the same process (tests, the UI's runtime) is the same owner
    a.release()
    probe = subprocess.run(
        [
            sys.executable,
            "-c",
            textwrap.dedent(f"""
        from pathlib import Path
        from hallkiosk.instance import InstanceLock
        InstanceLock(Path({str(tmp_path)!r})).acquire()
    """),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert probe.returncode != 0 and "KioskBusy" in probe.stderr  # b still holds it
    b.release()
    probe = subprocess.run(
        probe.args, cwd=REPO, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(REPO)}
    )
    assert probe.returncode == 0, probe.stderr


def test_pickup_code_never_reaches_the_lock_file(cfg: Config) -> None:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            HOLDER.replace("sys.argv[1]", "sys.argv[2]"),
            "pickup",
            str(cfg.source),
            "493817",
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
        text = (cfg.data_dir / "kiosk.lock").read_text()
        assert "kiosk pickup" in text and "493817" not in text
    finally:
        holder.kill()
        holder.wait()


def test_diag_on_a_running_kiosk_does_not_probe_its_bus(cfg: Config) -> None:
    holder = _hold(cfg.source)
    try:
        r = _kiosk(cfg.source, "diag", "--json", "--only", "lockboards,card")
        checks = {c["id"]: c for c in json.loads(r.stdout)["checks"]}
        bus = checks["lockboards.bus"]
        assert bus["status"] == "DEGRADED" and f"process {holder.pid}" in bus["finding"], bus
        assert any(k.startswith("card.") for k in checks)
        assert not any(c["status"] == "FAULT" for c in checks.values()), checks
        assert r.returncode == 1
    finally:
        holder.kill()
        holder.wait()


def _probe(tmp_path: Path, wait_s: float) -> subprocess.CompletedProcess[str]:
    code = (
        f"from pathlib import Path\nfrom hallkiosk.instance import InstanceLock\n"
        f"InstanceLock(Path({str(tmp_path)!r})).acquire({wait_s})"
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )


def test_a_starting_kiosk_waits_for_a_command_that_is_finishing(tmp_path: Path) -> None:
    lock = InstanceLock(tmp_path)
    lock.acquire()
    threading.Timer(1.0, lock.release).start()
    assert "KioskBusy" in _probe(tmp_path, 0.3).stderr  # too short a wait: refused, naming the holder
    r = _probe(tmp_path, 5)
    assert r.returncode == 0, r.stderr


def test_a_forked_child_does_not_keep_the_kiosk_locked(tmp_path: Path) -> None:
    script = textwrap.dedent(f"""
        import os, sys, time
        from pathlib import Path
        from hallkiosk.instance import InstanceLock
        InstanceLock(Path({str(tmp_path)!r})).acquire()
        if os.fork() == 0:
            time.sleep(5)  # the child outlives its parent
            os._exit(0)
        print("parent done", flush=True)
    """)
    r = subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert r.stdout.strip() == "parent done", r.stderr
    r = _probe(tmp_path, 0)
    assert r.returncode == 0, r.stderr


def test_database_only_commands_work_on_a_running_kiosk(cfg: Config) -> None:
    holder = _hold(cfg.source)
    try:
        r = _kiosk(cfg.source, "cabinet", "clear-lockout")
        assert r.returncode == 0 and "door and item sensors not read" in r.stderr, r.stdout + r.stderr
    finally:
        holder.kill()
        holder.wait()
