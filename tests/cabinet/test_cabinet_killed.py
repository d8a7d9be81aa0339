"""KILL AT EVERY STEP: each flow runs in a child process SIGKILLed at each crash point; then restart and check.

The lock-board simulator is served from this test process on a pty, so it
outlives the killed kiosk exactly as real boards outlive a power cut of the PC.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cabinet.cabinet_support import assert_consistent, make_bus, make_cabinet
from tests.cabinet.crash_scenarios import (
    act,
    after_crash,
    check,
    expected,
    finish_watched,
    prepare,
    scenarios,
)

SCRIPT = "tests.cabinet.crash_flow"  # run as a module from the repository, like every other helper process
REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
@pytest.mark.parametrize(("kind", "step", "world"), scenarios())
def test_killed_then_reconciled(
    kind: str, step: str, world: str, db, db_url, cabinet, sim_pty, bus, cab_cfg, clock, platform
) -> None:
    sim, path = sim_pty
    parcel_id, code = prepare(cabinet, sim, kind)
    bus.close()  # one owner of the line at a time, as on a real bus
    env = {
        **os.environ,
        "KIOSK_CRASH_AT": f"{kind}.{step}",
        "CRASH_TEST_CODE": code or "",
        "CRASH_TEST_NOW": clock.now().isoformat(),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", SCRIPT, kind, db_url, path, str(parcel_id or 0)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=REPO,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if line.startswith("OPEN"):
            act(sim, kind)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    stderr = proc.stderr.read() if proc.stderr else ""
    assert proc.returncode == -signal.SIGKILL, (
        f"the child was not killed at {kind}.{step}: rc={proc.returncode}\n{stderr}"
    )
    after_crash(sim, kind, step, world)
    bus2 = make_bus(cab_cfg, path)
    try:
        cab = make_cabinet(db, bus2, cab_cfg, clock, platform=platform)
        cab.start()
        outcome = expected(step, world)
        check(db, kind, parcel_id, outcome)
        if outcome == "watched":
            check(db, kind, parcel_id, finish_watched(cab, sim, kind))
        assert_consistent(db)
    finally:
        bus2.close()
