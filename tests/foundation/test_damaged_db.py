"""A damaged SQLite file (bad header, truncated, damaged pages): every command says so in one line, with the way out."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from hallkiosk.wiring import App
from kiosk.audit import append
from kiosk.errors import DatabaseDamaged
from tests.conftest import REPO, init_kiosk

PAGE = 4096


def _bad_header(b: bytes) -> bytes:
    return b"NOT A DATABASE!!" + b[16:]


def _truncated(b: bytes) -> bytes:
    return b[: len(b) // 3]


def _damaged_pages(b: bytes) -> bytes:
    # Whole pages of noise from the second page on: the schema's b-tree and the first tables' pages.
    return b[:PAGE] + bytes((i * 151 + 7) % 256 for i in range(4 * PAGE)) + b[5 * PAGE :]


DAMAGE: dict[str, Callable[[bytes], bytes]] = {
    "bad header": _bad_header,
    "truncated": _truncated,
    "damaged pages": _damaged_pages,
}


@pytest.fixture(scope="module")
def good(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, bytes]:
    """A kiosk with 300 audit records; its database's bytes, checkpointed into the main file."""
    tmp = tmp_path_factory.mktemp("good")
    text_ = (REPO / "kiosk" / "default.toml").read_text(encoding="utf-8")
    text_ = text_.replace('data_dir = "~/.local/share/hall-kiosk"', f'data_dir = "{tmp / "data"}"')
    (tmp / "kiosk.toml").write_text(text_, encoding="utf-8")
    cfg = init_kiosk(tmp / "kiosk.toml")
    app = App(cfg)
    with app.db.transaction() as s:
        for i in range(300):
            append(s, dt.datetime.now(dt.UTC), "staff:test", "test.action", f"A{i:03d}", n=i, pad="x" * 200)
    app.close()  # the last connection's close checkpoints the WAL into kiosk.db
    assert not (tmp / "data" / "kiosk.db-wal").exists()
    return tmp, (tmp / "data" / "kiosk.db").read_bytes()


def _damaged_kiosk(good: tuple[Path, bytes], tmp_path: Path, damage: str) -> Path:
    src, data = good
    shutil.copytree(src / "data", tmp_path / "data")
    (tmp_path / "data" / "kiosk.db").write_bytes(DAMAGE[damage](data))
    cfg = tmp_path / "kiosk.toml"
    cfg.write_text(
        (src / "kiosk.toml").read_text(encoding="utf-8").replace(str(src), str(tmp_path)), encoding="utf-8"
    )
    return cfg


def _kiosk(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hallkiosk.cli", "--config", str(config), *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_every_command_names_the_damage(good: tuple[Path, bytes], tmp_path: Path, damage: str) -> None:
    config = _damaged_kiosk(good, tmp_path, damage)
    for cmd in (
        ["audit", "verify"],
        ["audit", "tail"],
        ["cabinet", "status"],
        ["outbox", "list"],
        ["db", "upgrade"],
        ["db", "current"],
        ["db", "init"],
    ):
        r = _kiosk(config, *cmd)
        assert r.returncode == DatabaseDamaged.exit_code == 14, (cmd, r.stdout, r.stderr)
        assert "Traceback" not in r.stderr, (cmd, r.stderr)
        err = [ln for ln in r.stderr.splitlines() if ln.startswith(("error:", "hint:"))]
        assert len(err) == 2 and "kiosk.db is damaged: " in err[0], (cmd, r.stderr)
        assert "restore the last backup" in err[1] and "kiosk db restore" in err[1]
    # Nothing was re-created or "repaired" over the evidence.
    assert (tmp_path / "data" / "kiosk.db").read_bytes() == DAMAGE[damage](good[1])


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_diag_integrity_check_names_it(good: tuple[Path, bytes], tmp_path: Path, damage: str) -> None:
    config = _damaged_kiosk(good, tmp_path, damage)
    r = _kiosk(config, "diag", "--json", "--only", "storage")
    assert "Traceback" not in r.stderr, r.stderr
    rep = json.loads(r.stdout)
    checks = {c["id"]: c for c in rep["checks"]}
    assert r.returncode == 2 and "storage.error" not in checks  # a storage finding, not a software fault
    integ = checks["storage.integrity"]
    assert integ["status"] == "FAULT" and "damaged" in integ["finding"] and integ["data"]["damaged"] is True
    assert "kiosk db restore" in integ["hint"]


def test_the_kiosk_runtime_does_not_start_on_it(good: tuple[Path, bytes], tmp_path: Path) -> None:
    from hallkiosk.runtime import Runtime
    from kiosk.config import load_config

    rt = Runtime(load_config(_damaged_kiosk(good, tmp_path, "bad header")))
    rt.start()
    try:
        assert rt.wait_ready(60)
        assert isinstance(rt.start_error, DatabaseDamaged), rt.start_error
    finally:
        rt.stop()
