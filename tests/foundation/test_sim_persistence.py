"""The built-in simulated cabinet starts with what the database says is inside, like a real one after a restart."""

from __future__ import annotations

import os
import subprocess
import sys

from kiosk.config import Config
from tests.conftest import REPO

ID_NUMBER = "11010519491231002X"


def _kiosk(cfg: Config, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hallkiosk.cli", "--config", str(cfg.source), *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )


def test_deposit_then_status_in_another_process_shows_the_item(cfg: Config) -> None:
    r = _kiosk(cfg, "deposit", "LS202600000042", "--id-number", ID_NUMBER, "--name", "张三", "--size", "S")
    assert r.returncode == 0, r.stdout + r.stderr
    label = next(
        line.split(": ", 1)[1].split(",")[0] for line in r.stdout.splitlines() if line.startswith("deposited")
    )
    r = _kiosk(cfg, "cabinet", "status")
    assert r.returncode == 0, r.stderr
    row = next(line for line in r.stdout.splitlines() if line.startswith(label))
    assert row.split()[2:5] == ["occupied", "closed", "item"], row
    assert all(line.split()[4] == "empty" for line in r.stdout.splitlines()[1:] if " free " in line)
