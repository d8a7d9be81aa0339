"""`diag` says whether the kernel considers the clock synchronised (adjtimex), beside the skew against the platform.

The real adjtimex is read (this machine's answer, whatever it is); the two verdicts are then shown on the check
with read_clock_sync replaced, because a test cannot make the kernel's clock synchronised or not."""

from __future__ import annotations

import ctypes
import platform
import subprocess
import sys
from pathlib import Path

import pytest

from hallkiosk.diag import platform as diag_platform
from hallkiosk.diag.timesync import STA_UNSYNC, TIME_ERROR, ClockSync, _Timex, read_clock_sync
from kiosk.diag_model import Check
from tests.conftest import REPO


def test_reads_the_kernel_with_the_right_struct() -> None:
    if platform.machine() == "x86_64":
        assert ctypes.sizeof(_Timex) == 208  # sizeof(struct timex) on x86_64 glibc
    sync = read_clock_sync()
    assert sync is not None
    assert 0 <= sync.state <= TIME_ERROR
    assert sync.synchronised == (sync.state != TIME_ERROR and not sync.status & STA_UNSYNC)
    assert sync.maxerror_us >= 0


def _clock_check() -> Check:
    return Check(
        id="platform.clock",
        area="platform",
        title="clock skew",
        status="OK",
        finding="within 0.2 s of the platform's clock",
        device="clock",
    )


@pytest.mark.parametrize(
    ("sync", "says", "hint"),
    [
        (ClockSync(True, 0, 0x2001, 12000), "system clock synchronised (estimated error 12 ms)", False),
        (ClockSync(False, TIME_ERROR, STA_UNSYNC, 16_000_000), "system clock NOT synchronised", True),
        (None, "unknown here", False),
    ],
)
def test_the_clock_check_says_it_beside_the_skew(
    monkeypatch: pytest.MonkeyPatch, sync: ClockSync | None, says: str, hint: bool
) -> None:
    monkeypatch.setattr(diag_platform, "read_clock_sync", lambda: sync)
    c = diag_platform.with_clock_sync(_clock_check())
    assert c.finding.startswith("within 0.2 s of the platform's clock; ") and says in c.finding
    assert c.status == "OK"  # the skew decides; the finding warns
    assert c.data["clock_synchronised"] == (None if sync is None else sync.synchronised)
    assert ("timedatectl set-ntp true" in c.hint) == hint


def test_kiosk_diag_json_carries_it(tmp_path: Path) -> None:
    import json
    import os

    r = subprocess.run(
        [sys.executable, "-m", "hallkiosk.cli", "diag", "--only", "platform", "--json"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "HOME": str(tmp_path), "PYTHONPATH": str(REPO)},
    )
    rep = json.loads(r.stdout)
    [clock] = [c for c in rep["checks"] if c["id"] == "platform.clock"]
    real = read_clock_sync()
    assert clock["data"]["clock_synchronised"] == (real.synchronised if real else None)
    assert "skew_s" in clock["data"]
