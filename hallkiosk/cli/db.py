"""``kiosk db init|upgrade|current|backup|restore``: the database, the data directory's marker, backups."""

from __future__ import annotations

import argparse
import datetime as dt

from hallkiosk.cli.common import app_of, config_of
from hallkiosk.instance import InstanceLock


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("db", help="the database and the data directory's marker")
    s = p.add_subparsers(dest="db_cmd", required=True)
    i = s.add_parser(
        "init", help="begin this kiosk's data: migrate, audit, write the data directory's marker"
    )
    i.add_argument(
        "--force",
        action="store_true",
        help="replace a marker that names a missing or other database (that data is then forgotten)",
    )
    i.set_defaults(func=_db_init)
    s.add_parser("upgrade", help="apply pending migrations").set_defaults(func=_db_upgrade)
    s.add_parser("current", help="show the schema revision").set_defaults(func=_db_current)
    b = s.add_parser(
        "backup", help="copy the SQLite database (consistent while the kiosk runs) with a manifest"
    )
    where = b.add_mutually_exclusive_group(required=True)
    where.add_argument(
        "path", metavar="DIR", nargs="?", help="a new or empty directory for kiosk.db and manifest.json"
    )
    where.add_argument(
        "--into", metavar="PARENT", help="write PARENT/kiosk-<UTC time>[-LABEL] (the daily timer, postinst)"
    )
    b.add_argument(
        "--label", default="", help="a word ending the --into name (postinst: before-<old version>)"
    )
    b.add_argument(
        "--keep",
        type=int,
        metavar="N",
        help="with --into: then delete all but the newest N backups in PARENT",
    )
    b.set_defaults(func=_db_backup)
    r = s.add_parser("restore", help="verify a backup's audit chain against its manifest and install it")
    r.add_argument("path", metavar="DIR", help="a directory written by `kiosk db backup`")
    r.set_defaults(func=_db_restore)


def _db_init(args: argparse.Namespace) -> int:
    from kiosk.datadir import init

    cfg = config_of(args)
    lock = InstanceLock(cfg.data_dir)
    lock.acquire(wait_s=5)  # never while the kiosk runs on this data directory
    try:
        marker, written = init(cfg, dt.datetime.now(dt.UTC), force=args.force)
    finally:
        lock.release()
    if not written:
        print(
            f"ok: {cfg.data_dir} is already initialised for kiosk {marker.kiosk_id} "
            f"(database {marker.database[:12]}); nothing changed"
        )
        return 0
    print(
        f"initialised: kiosk {marker.kiosk_id}, database {marker.database[:12]}, audit head {marker.audit_seq}; "
        f"marker {cfg.data_dir / 'kiosk-data.json'}"
    )
    return 0


def _db_upgrade(args: argparse.Namespace) -> int:
    with app_of(args) as app:
        app.db  # noqa: B018 - building it checks the marker and applies the migrations
        print(f"database at {app.db.current_revision()} (head {app.db.head_revision()})")
    return 0


def _db_current(args: argparse.Namespace) -> int:
    from kiosk.datadir import sqlite_file
    from kiosk.storage.db import Database

    cfg = config_of(args)
    f = sqlite_file(cfg.storage_url)
    if f is not None and not f.exists():  # reading must not create an empty file where a lost one was
        print(f"current: (no database file {f})")
        return 1
    db = Database(cfg.storage_url, kiosk_id=cfg.kiosk.id)
    try:
        cur, head = db.current_revision(), db.head_revision()
    finally:
        db.dispose()
    print(f"current: {cur or '(empty database)'}\nhead:    {head}")
    return 0 if cur == head else 1


def _db_backup(args: argparse.Namespace) -> int:
    from pathlib import Path

    from kiosk.backup import BackupError, backup, dated_name, prune
    from kiosk.datadir import check

    if args.keep is not None and (args.into is None or args.keep < 1):
        raise BackupError("--keep N needs --into PARENT and N >= 1", hint="Nothing was written.")
    cfg = config_of(args)
    check(cfg)  # never back up a database that is not this kiosk's (or is lost)
    dest = (
        Path(args.path)
        if args.into is None
        else Path(args.into) / dated_name(dt.datetime.now(dt.UTC), args.label)
    )
    m = backup(cfg, dest)
    with app_of(args) as app:
        app.audit("technician", "db.backup", cfg.kiosk.id, audit_seq=m.audit_seq, size=m.size)
    print(
        f"backed up: kiosk {m.kiosk_id}, audit head {m.audit_seq}, schema {m.schema}, {m.size} bytes -> {dest}"
    )
    if args.keep is not None:
        for old in prune(Path(args.into), args.keep):
            print(f"deleted the older backup {old}")
    return 0


def _db_restore(args: argparse.Namespace) -> int:
    from pathlib import Path

    from kiosk.backup import restore

    cfg = config_of(args)
    lock = InstanceLock(cfg.data_dir)
    lock.acquire(wait_s=5)  # the kiosk must be stopped: its open database would be swapped under it
    try:
        m, marker, kept = restore(cfg, Path(args.path), dt.datetime.now(dt.UTC))
    finally:
        lock.release()
    print(
        f"restored: backup of {m.created_at} (audit head {m.audit_seq}, chain verified); marker rewritten "
        f"(audit head {marker.audit_seq})"
    )
    if kept is not None:
        print(f"kept the replaced database as {kept}")
    print(
        "at the next start every compartment's sensors are compared with the restored records; "
        "each mismatch becomes a staff task"
    )
    return 0
