"""Database, -wal/-shm, logs, lock file, marker, secret 0600 and directories 0700 whatever the umask."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO

# Runs with umask 000: every file the kiosk makes would be 0666 and every directory 0777 if it trusted the umask.
_SCRIPT = """
import os, sys, json, logging, stat
os.umask(0)
from pathlib import Path
from hallkiosk.cli import main
cfg = sys.argv[1]
assert main(["-c", cfg, "db", "init"]) == 0
from kiosk.config import load_config
from kiosk.logsetup import log_to_dir
from hallkiosk.wiring import App
c = load_config(cfg)
log_to_dir(c.data_dir / "logs")
logging.getLogger("kiosk").warning("a line in the log file")
app = App(c)
app.instance.acquire()
app.audit("staff:test", "test.action", "A01")  # the database is open: -wal and -shm exist now
app.secret
from drivers.printer import build_printer
build_printer(c.printer, c.data_dir).print_receipt(["回执 receipt"])  # the simulated printer's receipts/
modes = {str(p.relative_to(c.data_dir.parent)): oct(stat.S_IMODE(p.stat().st_mode))
         for p in [c.data_dir, *c.data_dir.rglob("*")]}
app.close()
print(json.dumps(modes))
"""


def test_everything_private_with_umask_000(tmp_path: Path) -> None:
    text_ = (REPO / "kiosk" / "default.toml").read_text(encoding="utf-8")
    text_ = text_.replace('data_dir = "~/.local/share/hall-kiosk"', f'data_dir = "{tmp_path / "data"}"')
    (tmp_path / "kiosk.toml").write_text(text_, encoding="utf-8")
    r = subprocess.run(
        [sys.executable, "-c", _SCRIPT, str(tmp_path / "kiosk.toml")],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "KIOSK_SECRET_FILE": ""},
    )
    assert r.returncode == 0, r.stderr
    modes = json.loads(r.stdout.strip().splitlines()[-1])
    for name in (
        "data/kiosk.db",
        "data/kiosk.db-wal",
        "data/kiosk.db-shm",
        "data/kiosk.lock",
        "data/kiosk-data.json",
        "data/secret.key",
        "data/logs/kiosk.log",
    ):
        assert modes.get(name) == "0o600", (name, modes)
    for name in ("data", "data/logs"):
        assert modes.get(name) == "0o700", (name, modes)
    loose = {k: v for k, v in modes.items() if int(v, 8) & 0o077}
    assert loose == {}


def test_diag_flags_a_data_dir_readable_by_others(tmp_path: Path) -> None:
    text_ = (REPO / "kiosk" / "default.toml").read_text(encoding="utf-8")
    text_ = text_.replace('data_dir = "~/.local/share/hall-kiosk"', f'data_dir = "{tmp_path / "data"}"')
    cfg = tmp_path / "kiosk.toml"
    cfg.write_text(text_, encoding="utf-8")

    def storage_permissions() -> dict:
        r = subprocess.run(
            [sys.executable, "-m", "hallkiosk.cli", "-c", str(cfg), "diag", "--json", "--only", "storage"],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=120,
        )
        return next(c for c in json.loads(r.stdout)["checks"] if c["id"] == "storage.permissions")

    assert (
        subprocess.run(
            [sys.executable, "-m", "hallkiosk.cli", "-c", str(cfg), "db", "init"],
            cwd=REPO,
            capture_output=True,
            timeout=120,
        ).returncode
        == 0
    )
    assert storage_permissions()["status"] == "OK"
    os.chmod(tmp_path / "data", 0o755)
    os.chmod(tmp_path / "data" / "kiosk-data.json", 0o644)
    check = storage_permissions()
    assert check["status"] == "DEGRADED"
    assert "data (755)" in check["finding"] and "kiosk-data.json (644)" in check["finding"]
    assert "chmod -R go-rwx" in check["hint"]
    assert (
        stat.S_IMODE((tmp_path / "data").stat().st_mode) == 0o755
    )  # diag reports; the directory is the hall's
    os.chmod(tmp_path / "data" / "kiosk.db", 0o644)
    subprocess.run(
        [sys.executable, "-m", "hallkiosk.cli", "-c", str(cfg), "audit", "verify"], cwd=REPO, timeout=120
    )
    assert (
        stat.S_IMODE((tmp_path / "data" / "kiosk.db").stat().st_mode) == 0o600
    )  # the kiosk's own files: tightened
