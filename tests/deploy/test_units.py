"""The systemd units: `systemd-analyze verify` on each, in a root holding this machine's units, the package's
units and stand-ins for the executables the package would install (so the check is the same on a machine where
the package is not installed; the package test verifies them against the real, installed files)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import REPO

UNITS = sorted(p.name for p in (REPO / "packaging/systemd").iterdir())
EXECUTABLES = (
    "usr/bin/kiosk",
    "usr/bin/hall-kiosk-session",
    "usr/bin/xinit",
    "usr/lib/hall-kiosk/bin/python",
)


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze not installed (make test installs systemd)")
    root = tmp_path_factory.mktemp("root")
    shutil.copytree("/lib/systemd/system", root / "lib/systemd/system", symlinks=True)
    for name in UNITS:
        shutil.copy(REPO / "packaging/systemd" / name, root / "lib/systemd/system" / name)
    for exe in EXECUTABLES:
        (root / exe).parent.mkdir(parents=True, exist_ok=True)
        (root / exe).write_text("#!/bin/sh\n")
        (root / exe).chmod(0o755)
    return root


def _verify(root: Path, name: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["systemd-analyze", "verify", f"--root={root}", str(root / "lib/systemd/system" / name)],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_units_are_the_expected_set() -> None:
    assert UNITS == [
        "hall-kiosk-backup.service",
        "hall-kiosk-backup.timer",
        "hall-kiosk-console.service",
        "hall-kiosk.service",
    ]


@pytest.mark.parametrize("name", UNITS)
def test_systemd_analyze_verify(root: Path, name: str) -> None:
    r = _verify(root, name)
    assert r.returncode == 0 and r.stderr == "" and r.stdout == "", r.stdout + r.stderr


def test_verify_does_catch_a_broken_unit(root: Path) -> None:
    """The check above can fail: a misspelt setting and a missing executable are both reported."""
    unit = root / "lib/systemd/system/hall-kiosk-console.service"
    good = unit.read_text()
    try:
        unit.write_text(good.replace("Restart=always", "Restart=allways"))
        assert "Failed to parse service restart specifier" in _verify(root, unit.name).stderr
        unit.write_text(good)
        (root / "usr/bin/kiosk").unlink()
        r = _verify(root, unit.name)
        assert r.returncode != 0 and "/usr/bin/kiosk is not executable" in r.stderr
    finally:
        unit.write_text(good)
        (root / "usr/bin/kiosk").write_text("#!/bin/sh\n")
        (root / "usr/bin/kiosk").chmod(0o755)


def _settings(name: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for line in (REPO / "packaging/systemd" / name).read_text().splitlines():
        if "=" in line and not line.startswith("#"):
            k, v = line.split("=", 1)
            out.setdefault(k, []).append(v)
    return out


def test_the_touch_ui_is_watched_and_hardened() -> None:
    s = _settings("hall-kiosk.service")
    assert s["Type"] == ["notify"] and s["Restart"] == ["always"] and s["WatchdogSec"] == ["30"]
    assert s["NotifyAccess"] == ["all"]  # the kiosk is xinit's grandchild
    for key in ("NoNewPrivileges", "PrivateTmp", "ProtectHome"):
        assert s[key] == ["yes"], key
    assert s["ProtectSystem"] == ["strict"] and s["DevicePolicy"] == ["closed"]
    # Serial ports (USB-serial, CDC-ACM, on-board) and the printer; never a blanket rw on every device.
    allowed = {v.split()[0] for v in s["DeviceAllow"]}
    assert {"char-ttyUSB", "char-ttyACM", "char-ttyS", "char-usb_device", "char-usbmisc"} <= allowed
    assert not any(v.startswith(("block-", "char-*")) for v in allowed)
    assert "-nocursor" in s["ExecStart"][0] and "-s 0" in s["ExecStart"][0] and "-dpms" in s["ExecStart"][0]


def test_the_timer_runs_the_backup_daily() -> None:
    t = _settings("hall-kiosk-backup.timer")
    assert t["OnCalendar"] == ["*-*-* 03:30:00"] and t["Persistent"] == ["true"]
    run = _settings("hall-kiosk-backup.service")["ExecStart"][0]
    assert (
        "kiosk --config /etc/hall-kiosk/kiosk.toml db backup --into /var/lib/hall-kiosk/backups --keep 14"
        in run
    )
