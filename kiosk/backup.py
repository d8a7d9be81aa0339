"""Backups of a kiosk's SQLite database, and restoring one that proves itself whole.

``kiosk db backup DIR`` uses SQLite's online backup API: one read transaction
copies every page, so the copy is consistent while the kiosk keeps running (WAL:
writers are not blocked). ``DIR`` then holds ``kiosk.db`` and ``manifest.json``:
the kiosk id, the database identity and audit head read *from the copy*, its
schema revision, size and SHA-256.

``kiosk db restore DIR`` (the kiosk stopped) refuses a backup whose file does not
match its manifest, whose audit chain is broken, or whose newest audit record is
not the manifest's head (records cut off or added). It keeps the database it
replaces beside it (``kiosk.db.replaced-<time>``), audits ``db.restore`` in the
restored database, rewrites the data directory's marker, and asks the next start
to compare every compartment's sensors with the restored records
(:mod:`kiosk.cabinet.sensor_check`).

PostgreSQL is backed up with ``pg_dump`` (see the README); this module refuses it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import re
import shutil
import sqlite3
from dataclasses import asdict, dataclass
from pathlib import Path

from kiosk import audit
from kiosk.cabinet import sensor_check
from kiosk.config import Config
from kiosk.datadir import Marker, sqlite_file, stamp
from kiosk.errors import StorageError
from kiosk.filemodes import DIR_MODE, open_private, private_dir
from kiosk.storage.db import Database, is_damage

DB_NAME = "kiosk.db"
MANIFEST_NAME = "manifest.json"
FORMAT = 1
PG_HINT = (
    "Back up the hall's PostgreSQL with `pg_dump --format=custom --file=hall-YYYYMMDD.dump DBNAME` and "
    "restore it with `pg_restore --clean --if-exists --dbname=DBNAME FILE` (every kiosk stopped)."
)


@dataclass(frozen=True)
class Manifest:
    format: int
    kiosk_id: str
    database: str  # hash of the first audit record (as in the data directory's marker)
    audit_seq: int
    audit_hash: str
    schema: str
    created_at: str
    size: int
    sha256: str


class BackupError(StorageError):
    """A backup cannot be made, or is not whole and is not restored."""

    hint = "Take a new backup from a working kiosk, or use another backup; nothing was changed."
    exit_code = 15


def _file_of(cfg: Config) -> Path:
    f = sqlite_file(cfg.storage_url)
    if f is None:
        raise StorageError(
            "kiosk db backup/restore copy a SQLite database; this kiosk uses PostgreSQL", hint=PG_HINT
        )
    return f


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _head_of(path: Path) -> tuple[str, int, str, str]:
    """(first audit hash, head seq, head hash, schema revision) read straight from a database file."""
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        first = con.execute("SELECT hash FROM audit_log ORDER BY seq LIMIT 1").fetchone()
        head = con.execute("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1").fetchone()
        schema = con.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.Error as err:
        kind = "damaged" if is_damage(err) else "unreadable"
        raise BackupError(f"{path} is {kind}: {err}") from None
    finally:
        con.close()
    if first is None or head is None:
        raise BackupError(f"{path} holds no audit record")
    return first[0], int(head[0]), head[1], schema[0] if schema else ""


def backup(cfg: Config, dest: Path) -> Manifest:
    """Copy the live database into ``dest`` (a new or empty directory) with its manifest."""
    src = _file_of(cfg)
    if not src.exists():
        raise BackupError(f"there is no database at {src} to back up")
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise BackupError(
            f"{dest} exists and is not an empty directory",
            hint="Name a new directory for each backup (e.g. with the date); nothing was written.",
        )
    private_dir(dest)
    os.chmod(dest, DIR_MODE)  # an empty directory named for it is the backup's: private too
    target = dest / DB_NAME
    tmp = dest / (DB_NAME + ".part")
    os.close(open_private(tmp, os.O_WRONLY | os.O_TRUNC))
    source = sqlite3.connect(src, timeout=30)
    copy = sqlite3.connect(tmp)
    try:
        # pages=-1: every page in one step, i.e. under one read transaction: a consistent snapshot.
        source.backup(copy, pages=-1)
        copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
    except sqlite3.Error as err:
        tmp.unlink(missing_ok=True)
        raise BackupError(f"cannot copy {src}: {err}") from None
    finally:
        copy.close()
        source.close()
    with open(tmp, "rb+") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, target)
    first, seq, digest, schema = _head_of(target)
    manifest = Manifest(
        format=FORMAT,
        kiosk_id=cfg.kiosk.id,
        database=first,
        audit_seq=seq,
        audit_hash=digest,
        schema=schema,
        created_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        size=target.stat().st_size,
        sha256=_sha256(target),
    )
    _write_json(dest / MANIFEST_NAME, asdict(manifest))
    return manifest


def dated_name(now: dt.datetime, label: str = "") -> str:
    """``kiosk-20261205T033000Z[-label]``: sorts by time; the label is reduced to a safe file-name word."""
    word = re.sub(r"[^A-Za-z0-9.+_-]", "_", label)
    return f"kiosk-{now.strftime('%Y%m%dT%H%M%SZ')}{'-' + word if word else ''}"


def prune(parent: Path, keep: int) -> list[Path]:
    """Delete all but the newest ``keep`` backups in ``parent`` (oldest by name, i.e. by dated_name's time).

    Only directories named ``kiosk-*`` that hold a manifest are backups; anything else in ``parent`` (a copy a
    technician put there, a half-written ``.part``) is left alone."""
    ours = sorted(d for d in parent.glob("kiosk-*") if d.is_dir() and (d / MANIFEST_NAME).is_file())
    old = ours[:-keep] if keep > 0 else ours
    for d in old:
        shutil.rmtree(d)
    return old


def _write_json(path: Path, data: dict[str, object]) -> None:
    tmp = path.with_name(path.name + ".part")
    fd = open_private(tmp, os.O_WRONLY | os.O_TRUNC)
    try:
        os.write(fd, (json.dumps(data, indent=2) + "\n").encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


def read_manifest(src: Path) -> Manifest:
    path = src / MANIFEST_NAME
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        manifest = Manifest(**{k: raw[k] for k in Manifest.__dataclass_fields__})
    except FileNotFoundError:
        raise BackupError(f"{src} is not a kiosk backup: no {MANIFEST_NAME}") from None
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise BackupError(f"{path} is unreadable ({type(err).__name__})") from None
    if manifest.format != FORMAT:
        raise BackupError(f"{path}: backup format {manifest.format}, this kiosk reads format {FORMAT}")
    return manifest


def verify(db_file: Path, manifest: Manifest) -> int:
    """The file is the manifest's, its audit chain is intact and ends at the manifest's head. Returns records."""
    if db_file.stat().st_size != manifest.size or _sha256(db_file) != manifest.sha256:
        raise BackupError(
            f"{db_file} does not match its manifest (size or SHA-256 differ): altered or incomplete"
        )
    first, seq, digest, _ = _head_of(db_file)
    if (first, seq, digest) != (manifest.database, manifest.audit_seq, manifest.audit_hash):
        raise BackupError(
            f"{db_file}: its audit head (record {seq}) is not the manifest's (record "
            f"{manifest.audit_seq}): records were removed or added"
        )
    db = Database(f"sqlite:///{db_file}")
    try:
        with db.transaction() as s:
            res = audit.verify(s)
    finally:
        db.dispose()
    if not res.ok:
        where = f"at record {res.broken_seq}" if res.broken_seq is not None else "at its head anchor"
        raise BackupError(f"{db_file}: audit chain broken {where}: {res.reason}")
    return res.checked


def restore(
    cfg: Config, src: Path, now: dt.datetime, *, actor: str = "technician"
) -> tuple[Manifest, Marker, Path | None]:
    """Install the backup in ``src`` as this kiosk's database. The caller holds the kiosk's instance lock.

    Returns the manifest, the new marker, and where the replaced database was kept (None if there was none)."""
    live = _file_of(cfg)
    manifest = read_manifest(src)
    if manifest.kiosk_id != cfg.kiosk.id:
        raise BackupError(
            f"{src} is a backup of kiosk {manifest.kiosk_id}, this is kiosk {cfg.kiosk.id}",
            hint="Restore this kiosk's own backup; its cabinet and codes are another kiosk's.",
        )
    private_dir(live.parent)
    staged = live.with_name(live.name + ".restoring")
    staged.unlink(missing_ok=True)
    fd = open_private(staged, os.O_WRONLY | os.O_EXCL)
    try:
        with (src / DB_NAME).open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                os.write(fd, block)
        os.fsync(fd)
    except OSError as err:
        staged.unlink(missing_ok=True)
        raise BackupError(f"cannot copy {src / DB_NAME}: {err.strerror}") from None
    finally:
        os.close(fd)
    try:
        checked = verify(staged, manifest)  # the very bytes that will be installed
    except BaseException:
        staged.unlink(missing_ok=True)
        raise
    for side in ("-wal", "-shm"):  # the verification's own, and never the old database's into the new one
        Path(str(staged) + side).unlink(missing_ok=True)
    kept: Path | None = None
    if live.exists():
        kept = live.with_name(f"{live.name}.replaced-{now.astimezone(dt.UTC):%Y%m%dT%H%M%SZ}")
        os.replace(live, kept)
    for side in ("-wal", "-shm"):
        old = Path(str(live) + side)
        if old.exists():
            if kept is not None:
                os.replace(old, Path(str(kept) + side))
            else:
                old.unlink()
    os.replace(staged, live)
    with contextlib.suppress(OSError):
        dfd = os.open(live.parent, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    db = Database(cfg.storage_url, kiosk_id=cfg.kiosk.id)
    try:
        db.upgrade()  # a backup from an older release is brought to this one's schema
        with db.transaction() as s:
            audit.append(
                s,
                now,
                actor,
                "db.restore",
                cfg.kiosk.id,
                backup_audit_seq=manifest.audit_seq,
                backup_created_at=manifest.created_at,
                records=checked,
                replaced=kept.name if kept else "",
            )
            sensor_check.request(s, now.isoformat(timespec="seconds"), manifest.audit_seq)
        marker = stamp(cfg, db, "restore")
    finally:
        db.dispose()
    return manifest, marker, kept
