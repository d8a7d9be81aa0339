"""The data directory's marker: which database this kiosk's data lives in, so it never silently forgets.

A deleted or emptied SQLite file would otherwise be re-created empty at the next
start: a compartment with a parcel inside would show as free and its code would be
dead. ``kiosk db init`` (explicit, audited) writes ``kiosk-data.json`` into the data
directory: the kiosk id, the database's identity (the hash of its first audit
record, which no other database shares) and the audit head at that moment. Every
start compares it with the database before anything is migrated or written:

=====================================  ==========================  =========
what is found                          error                       exit code
=====================================  ==========================  =========
no marker                              DataNotInitialised          11
SQLite file missing or 0 bytes,        DatabaseLost                12
no schema, or no audit record
another kiosk id, another first        DatabaseMismatch            13
record, or the marker's audit head
not in the database (a stale copy)
=====================================  ==========================  =========

Only ``kiosk db init`` begins again (``--force`` when a marker already names
another database); ``kiosk db restore`` writes the marker of what it restored.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from kiosk.audit import append as audit_append
from kiosk.config import Config
from kiosk.errors import DatabaseLost, DatabaseMismatch, DataNotInitialised, StorageError
from kiosk.filemodes import open_private, private_dir
from kiosk.storage.db import Database, check_writable_dir
from kiosk.storage.models import AuditRecord

MARKER_NAME = "kiosk-data.json"


@dataclass(frozen=True)
class Marker:
    kiosk_id: str
    database: str  # SHA-256 of the database's first audit record
    audit_seq: int  # the audit head when the marker was written
    audit_hash: str
    written_at: str
    reason: str  # init | restore


def marker_path(data_dir: Path) -> Path:
    return data_dir / MARKER_NAME


def read_marker(data_dir: Path) -> Marker | None:
    path = marker_path(data_dir)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        return Marker(**{k: raw[k] for k in Marker.__dataclass_fields__})
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise DatabaseMismatch(f"data directory marker {path} is unreadable ({type(err).__name__})") from None


def write_marker(data_dir: Path, marker: Marker) -> None:
    """Atomically (a power cut leaves the old marker or the new one), 0600."""
    path = marker_path(data_dir)
    tmp = path.with_name(path.name + ".tmp")
    fd = open_private(tmp, os.O_WRONLY | os.O_TRUNC)
    try:
        os.write(fd, (json.dumps(asdict(marker), indent=2) + "\n").encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    with contextlib.suppress(OSError):  # the rename itself must survive a power cut
        dfd = os.open(data_dir, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL (None for PostgreSQL or an in-memory database)."""
    if not url.startswith("sqlite") or "///" not in url:
        return None
    path = url.split("///", 1)[1]
    return Path(path) if path and path != ":memory:" else None


def _identity(db: Database) -> tuple[str, int, str] | None:
    """(first record's hash, head seq, head hash), or None when the audit log is empty."""
    with db.transaction() as s:
        first = s.execute(select(AuditRecord.hash).order_by(AuditRecord.seq).limit(1)).scalar()
        head = s.execute(
            select(AuditRecord.seq, AuditRecord.hash).order_by(AuditRecord.seq.desc()).limit(1)
        ).first()
    if first is None or head is None:
        return None
    return first, head[0], head[1]


def _where(cfg: Config) -> str:
    f = sqlite_file(cfg.storage_url)
    return str(f) if f else "the PostgreSQL database " + cfg.storage_url.rsplit("/", 1)[-1]


def _compare(cfg: Config, db: Database, marker: Marker) -> None:
    what = _where(cfg)
    if marker.kiosk_id != cfg.kiosk.id:
        raise DatabaseMismatch(
            f"data directory {cfg.data_dir} was initialised for kiosk {marker.kiosk_id}, "
            f"but the config says kiosk.id = {cfg.kiosk.id}"
        )
    try:
        if db.current_revision() is None:
            raise DatabaseLost(
                f"{what} is empty (no schema), but this kiosk's marker says it held "
                f"audit records up to {marker.audit_seq}"
            )
        ident = _identity(db)
        if ident is None:
            raise DatabaseLost(
                f"{what} holds no audit record, but this kiosk's marker says it held "
                f"records up to {marker.audit_seq}"
            )
        first, head_seq, _ = ident
        if first != marker.database:
            raise DatabaseMismatch(
                f"{what} is not the database this data directory was initialised with "
                f"(its first audit record differs from the marker's {marker.database[:12]})"
            )
        with db.transaction() as s:
            at_mark = s.execute(select(AuditRecord.hash).where(AuditRecord.seq == marker.audit_seq)).scalar()
    except SQLAlchemyError as err:
        raise StorageError(
            f"{what} cannot be read: {type(err.orig if hasattr(err, 'orig') else err).__name__}",
            hint="Restore the database from the last backup (`kiosk db restore PATH`).",
        ) from None
    if at_mark != marker.audit_hash:
        why = (
            f"it ends at audit record {head_seq}, before the marker's {marker.audit_seq} (a stale copy?)"
            if head_seq < marker.audit_seq
            else f"its audit record {marker.audit_seq} differs from the marker's"
        )
        raise DatabaseMismatch(f"{what} is not the one this data directory's marker was written for: {why}")


def open_database(cfg: Config) -> Database:
    """The kiosk's database, after checking it against the marker, migrated to this release's head."""
    check_writable_dir(cfg.data_dir)
    marker = read_marker(cfg.data_dir)
    if marker is None:
        raise DataNotInitialised(
            f"data directory {cfg.data_dir} has no {MARKER_NAME}: "
            "this kiosk's database was never initialised here"
        )
    f = sqlite_file(cfg.storage_url)
    if f is not None and (not f.exists() or f.stat().st_size == 0):
        state = "missing" if not f.exists() else "empty (0 bytes)"
        raise DatabaseLost(
            f"the database {f} is {state}, but this kiosk's marker says it held audit "
            f"records up to {marker.audit_seq}"
        )
    db = Database(cfg.storage_url, busy_timeout_ms=cfg.storage.busy_timeout_ms, kiosk_id=cfg.kiosk.id)
    try:
        _compare(cfg, db, marker)
        db.upgrade()
    except BaseException:
        db.dispose()
        raise
    return db


def check(cfg: Config, db: Database | None = None) -> Marker:
    """Only the comparison (diagnostics): raises like :func:`open_database`, migrates nothing.

    ``db``: the caller's open database. The heartbeat runs this every minute, and a new engine each time
    means a new SQLite connection and page cache to allocate and free (see bench/bench_soak.py)."""
    marker = read_marker(cfg.data_dir)
    if marker is None:
        raise DataNotInitialised(f"data directory {cfg.data_dir} has no {MARKER_NAME}")
    f = sqlite_file(cfg.storage_url)
    if f is not None and (not f.exists() or f.stat().st_size == 0):
        raise DatabaseLost(f"the database {f} is {'missing' if not f.exists() else 'empty (0 bytes)'}")
    if db is not None:
        _compare(cfg, db, marker)
        return marker
    own = Database(cfg.storage_url, busy_timeout_ms=cfg.storage.busy_timeout_ms, kiosk_id=cfg.kiosk.id)
    try:
        _compare(cfg, own, marker)
    finally:
        own.dispose()
    return marker


def stamp(cfg: Config, db: Database, reason: str) -> Marker:
    """Write the marker for the database as it is now (after init or restore)."""
    ident = _identity(db)
    if ident is None:
        raise StorageError(f"{_where(cfg)} holds no audit record to mark")
    marker = Marker(
        kiosk_id=cfg.kiosk.id,
        database=ident[0],
        audit_seq=ident[1],
        audit_hash=ident[2],
        written_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        reason=reason,
    )
    private_dir(cfg.data_dir)
    write_marker(cfg.data_dir, marker)
    return marker


def init(
    cfg: Config, now: dt.datetime, *, actor: str = "technician", force: bool = False
) -> tuple[Marker, bool]:
    """``kiosk db init``: (the marker, whether it was written now). Audited.

    With a marker that matches its database, nothing changes. With one that names a missing or other
    database, only ``force`` replaces it (the database as it is now becomes this kiosk's)."""
    old = read_marker(cfg.data_dir)
    if old is not None:
        try:
            check(cfg)
            return old, False
        except (DatabaseLost, DatabaseMismatch) as err:
            if not force:
                raise type(err)(
                    f"{err.message}; `kiosk db init` replaces this marker only with --force"
                ) from None
    db = Database(cfg.storage_url, busy_timeout_ms=cfg.storage.busy_timeout_ms, kiosk_id=cfg.kiosk.id)
    try:
        db.upgrade()
        with db.transaction() as s:
            audit_append(
                s,
                now,
                actor,
                "db.init",
                cfg.kiosk.id,
                kiosk_id=cfg.kiosk.id,
                forced=force,
                replaced_database=old.database[:16] if old else "",
            )
        return stamp(cfg, db, "init"), True
    finally:
        db.dispose()
