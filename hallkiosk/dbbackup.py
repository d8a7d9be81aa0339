"""A consistent copy of the kiosk's SQLite database, for the daily timer and for postinst before a migration.

``python -m hallkiosk.dbbackup --config /etc/hall-kiosk/kiosk.toml [--reason upgrade]`` writes
``<data_dir>/backups/kiosk-<UTC time>[-<reason>].db`` (mode 0600) with SQLite's online backup API, which is
consistent while the kiosk runs, and keeps the newest :data:`KEEP` of them. A PostgreSQL hall database is backed
up by the hall's own ``pg_dump`` (docs/install.md); this exits 0 saying so.

Stands in until a ``kiosk db backup`` command lands (issue 11); the units and postinst then call that instead.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sqlite3
import sys
from pathlib import Path

from kiosk.config import load_config
from kiosk.errors import KioskError

KEEP = 14


def backup_sqlite(db_path: Path, backup_dir: Path, *, reason: str = "", keep: int = KEEP) -> Path | None:
    """Copy ``db_path`` into ``backup_dir``; None when there is no database yet (a fresh install)."""
    if not db_path.exists():
        return None
    backup_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    dest = backup_dir / f"kiosk-{stamp}{'-' + reason if reason else ''}.db"
    tmp = dest.with_suffix(".part")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # never readable by others, whatever the umask
    os.close(fd)
    src = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        dst = sqlite3.connect(tmp)
        try:
            src.backup(dst)
        finally:
            dst.close()
    finally:
        src.close()
    tmp.rename(dest)
    for old in sorted(backup_dir.glob("kiosk-*.db"))[:-keep]:
        old.unlink()
    return dest


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m hallkiosk.dbbackup", description=__doc__.splitlines()[0])
    ap.add_argument("--config", required=True)
    ap.add_argument("--reason", default="", help="a word in the file name (postinst: upgrade)")
    args = ap.parse_args(argv)
    try:
        cfg = load_config(args.config)
    except KioskError as err:
        print(f"error: {err.message}", file=sys.stderr)
        return err.exit_code
    url = cfg.storage_url
    if not url.startswith("sqlite:///"):
        print("the database is not SQLite: back it up with pg_dump on the database server (docs/install.md)")
        return 0
    dest = backup_sqlite(Path(url.removeprefix("sqlite:///")), cfg.data_dir / "backups", reason=args.reason)
    print(f"backup: {dest}" if dest else "no database yet: nothing to back up")
    return 0


if __name__ == "__main__":
    sys.exit(main())
