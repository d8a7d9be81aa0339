"""A full disk under the data directory: a real, small tmpfs (needs root to mount; fails under CI without it)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from hallkiosk.diag import Options, run_checks
from kiosk.secret import load_or_create_secret

from .conftest import Rig, check, migrate

MiB = 1024 * 1024


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 4 MiB tmpfs mounted for this test only."""
    mnt = tmp_path / "disk"
    mnt.mkdir()
    r = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m,mode=0700", "tmpfs", str(mnt)], capture_output=True, text=True
    )
    if r.returncode != 0:
        why = f"cannot mount a tmpfs for the full-disk test (needs root / CAP_SYS_ADMIN): {r.stderr.strip()}"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(why)
        pytest.skip(why)
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def _fill(path: Path) -> None:
    """Write until the file system refuses (unbuffered, so no write is left pending at close)."""
    fd = os.open(path / "filler.bin", os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        for size in (65536, 4096, 1):
            try:
                while True:
                    os.write(fd, b"\0" * size)
            except OSError:
                continue
    finally:
        os.close(fd)


def test_full_disk(rig: Rig, small_disk: Path) -> None:
    data = small_disk / "data"
    rig.write_config(data_dir=data)
    migrate(rig.config)
    load_or_create_secret(data)
    app = rig.app()
    lenient = Options(disk_fault_bytes=256 * 1024, disk_degraded_bytes=512 * 1024, disk_degraded_ratio=0.0)
    try:
        before = run_checks(app, "storage", lenient).get("storage.disk")
    finally:
        app.close()
    assert before.status == "OK", before.finding
    _fill(small_disk)
    code, rep = rig.diag("--only", "storage")
    disk = check(rep, "storage.disk")
    assert code == 2 and disk["status"] == "FAULT"
    assert disk["finding"].startswith(
        f"disk full: {data} has 0 B free of 4.0 MiB; a 64 KiB test write failed"
    ), disk
    assert disk["data"]["write_ok"] is False
    assert "Free space" in disk["hint"]


def test_small_disk_is_nearly_full_by_default_thresholds(rig: Rig, small_disk: Path) -> None:
    data = small_disk / "data"
    rig.write_config(data_dir=data)
    migrate(rig.config)
    code, rep = rig.diag("--only", "storage")
    disk = check(rep, "storage.disk")
    assert code == 2 and disk["finding"].startswith("disk nearly full:") and disk["data"]["write_ok"] is True
