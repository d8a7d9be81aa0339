"""Storage checks: the data directory's marker, database integrity, schema revision, free disk, the audit chain."""

from __future__ import annotations

import errno
import os
import shutil
import uuid
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from hallkiosk.diag.runner import Ctx
from kiosk import audit
from kiosk.diag_model import Check
from kiosk.errors import DatabaseDamaged, DatabaseLost, DataNotInitialised, KioskError

DEVICE = "storage"
_PROBE_BYTES = 64 * 1024
_BROKEN_HINT = (
    "Keep the database as evidence (copy the data directory) and report it to the hall's security officer."
)


def run(ctx: Ctx) -> list[Check]:
    mark = marker(ctx)  # first: opening the database would create an empty file where a lost one was
    if mark.status == "FAULT" and mark.data.get("lost"):
        return [mark, disk(ctx), permissions(ctx)]
    try:
        ctx.db  # noqa: B018 - open it once here so every check below reports the same failure
    except KioskError as err:
        p = ctx.check("storage.integrity", "storage", "database", DEVICE)
        return [mark, disk(ctx), p.fault(f"cannot open the database: {err.message}", err.hint)]
    integ = integrity(ctx)
    if integ.data.get("damaged"):  # the schema and audit checks could only fail the same way
        return [mark, disk(ctx), permissions(ctx), integ]
    out = [mark, disk(ctx), permissions(ctx), integ, schema(ctx)]
    if ctx.opts.verify_audit:
        out.append(audit_chain(ctx))
    return out


def marker(ctx: Ctx) -> Check:
    """The data directory's marker names this database (kiosk.datadir): else the kiosk refuses to start."""
    from kiosk.datadir import check as check_marker

    p = ctx.check("storage.marker", "storage", "data directory marker", DEVICE)
    try:
        m = check_marker(ctx.cfg, ctx.app_db)  # standalone diag: its own connection, after the file checks
    except KioskError as err:
        # Not initialised, or lost: the checks that connect would only create an empty file.
        return p.fault(err.message, err.hint, lost=isinstance(err, (DataNotInitialised, DatabaseLost)))
    return p.ok(
        f"kiosk {m.kiosk_id}, database {m.database[:12]}, audit record {m.audit_seq} as marked",
        kiosk_id=m.kiosk_id,
        database=m.database[:12],
        audit_seq=m.audit_seq,
    )


def permissions(ctx: Ctx) -> Check:
    """The data directory and what is in it are the kiosk user's alone (kiosk.filemodes: 0700 / 0600)."""
    from kiosk.filemodes import open_to_others

    p = ctx.check("storage.permissions", "storage", "data directory permissions", DEVICE)
    root = ctx.cfg.data_dir
    if not root.is_dir():
        return p.ok(f"{root} does not exist yet (it is created 0700)", path=str(root))
    loose: list[str] = []
    try:
        for path in [
            root,
            *sorted(root.iterdir()),
            *sorted(q for d in root.iterdir() if d.is_dir() and not d.is_symlink() for q in d.iterdir()),
        ]:
            bits = open_to_others(path)
            if bits:
                loose.append(f"{path.relative_to(root.parent)} ({oct(path.stat().st_mode & 0o777)[2:]})")
    except OSError as err:
        return p.fault(f"cannot read {root}: {err.strerror}", "Check the data directory's owner and mode.")
    if not loose:
        return p.ok(f"{root} and its files are private to the kiosk's user", path=str(root))
    more = f" (+{len(loose) - 5} more)" if len(loose) > 5 else ""
    return p.degraded(
        f"readable or writable by other users: {', '.join(loose[:5])}{more}",
        f"It holds codes' hashes, sealed payloads and logs: chmod -R go-rwx {root}",
        path=str(root),
        loose=loose,
    )


def _fmt_bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TiB"


def disk(ctx: Ctx) -> Check:
    """Free space where the database and logs live, and a real write there (a full disk fails it)."""
    p = ctx.check("storage.disk", "storage", "free disk", DEVICE)
    path = ctx.cfg.data_dir
    hint = f"Free space on the file system holding {path} (old logs, backups) or enlarge it."
    try:
        usage = shutil.disk_usage(path)
    except OSError as err:
        return p.fault(
            f"cannot read the data directory {path}: {err.strerror}",
            "Create the data directory or fix kiosk.data_dir.",
            path=str(path),
        )
    data = {"path": str(path), "free_bytes": usage.free, "total_bytes": usage.total}
    free = f"{_fmt_bytes(usage.free)} free of {_fmt_bytes(usage.total)}"
    probe = path / f".diag-write-{uuid.uuid4().hex[:8]}"
    try:
        # A write proves more than statvfs: quotas and read-only remounts show up only here.
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, b"\0" * _PROBE_BYTES)
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError as err:
        full = err.errno in (errno.ENOSPC, errno.EDQUOT)
        finding = (
            f"disk full: {path} has {free}; a {_PROBE_BYTES // 1024} KiB test write failed: {err.strerror}"
            if full
            else f"cannot write in {path}: {err.strerror} ({free})"
        )
        return p.fault(
            finding,
            hint if full else "Check the data directory's owner, permissions and mount options.",
            **data,
            write_ok=False,
        )
    finally:
        Path(probe).unlink(missing_ok=True)
    ratio = usage.free / usage.total if usage.total else 0.0
    data["write_ok"] = True
    if usage.free < ctx.opts.disk_fault_bytes:
        return p.fault(
            f"disk nearly full: {free} in {path} (below {_fmt_bytes(ctx.opts.disk_fault_bytes)})",
            hint,
            **data,
        )
    if usage.free < ctx.opts.disk_degraded_bytes or ratio < ctx.opts.disk_degraded_ratio:
        return p.degraded(f"disk space low: {free} ({ratio:.0%}) in {path}", hint, **data)
    return p.ok(f"{free} ({ratio:.0%}) in {path}", **data)


def integrity(ctx: Ctx) -> Check:
    """SQLite's own integrity check; on PostgreSQL, that the server answers (its integrity is the server's job)."""
    p = ctx.check("storage.integrity", "storage", "database integrity", DEVICE)
    db = ctx.db
    try:
        with db.engine.connect() as conn:
            if db.is_sqlite:
                rows = [r[0] for r in conn.execute(text("PRAGMA integrity_check(20)"))]
                size = Path(db.engine.url.database or "").stat().st_size if db.engine.url.database else 0
                if rows != ["ok"]:
                    more = f" (+{len(rows) - 1} more)" if len(rows) > 1 else ""
                    return p.fault(
                        f"the database file is damaged: SQLite integrity check failed: {rows[0]}{more}",
                        DatabaseDamaged.hint,
                        backend="sqlite",
                        problems=rows,
                        damaged=True,
                    )
                return p.ok(
                    f"SQLite integrity check passed ({_fmt_bytes(size)})", backend="sqlite", size_bytes=size
                )
            version = conn.execute(text("SHOW server_version")).scalar_one()
            return p.ok(f"PostgreSQL {version} answers", backend="postgresql", server_version=str(version))
    except DatabaseDamaged as err:
        # PRAGMA integrity_check needs a readable header; a file without one is named, not a software fault.
        return p.fault(err.message, err.hint, backend="sqlite", damaged=True)
    except (SQLAlchemyError, OSError) as err:
        cause = getattr(err, "orig", None) or err
        return p.fault(
            f"the database cannot be read: {cause}",
            "Check storage.url, the database server and the data directory; see the kiosk log.",
        )


def schema(ctx: Ctx) -> Check:
    """The database is at the newest migration this kiosk version ships."""
    p = ctx.check("storage.schema", "storage", "schema revision", DEVICE)
    db = ctx.db
    head = db.head_revision()
    try:
        current = db.current_revision()
    except KioskError as err:
        return p.fault(f"cannot read the schema revision: {err.message}", err.hint, head=head)
    data = {"current": current, "head": head}
    if current == head:
        return p.ok(f"schema at the newest migration ({head})", **data)
    if current is None:
        return p.degraded(
            f"empty database: no migration applied (newest is {head})",
            "Run `kiosk db upgrade` (the kiosk also migrates when it starts).",
            **data,
        )
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(db._alembic())
    known = {r.revision for r in script.walk_revisions()}
    if current not in known:
        return p.fault(
            f"schema {current} is newer than this kiosk version knows (newest here: {head})",
            "Install the kiosk version that wrote this database, or restore a backup.",
            **data,
        )
    return p.degraded(
        f"schema at {current}, behind the newest migration {head}",
        "Run `kiosk db upgrade` (the kiosk also migrates when it starts).",
        **data,
    )


def audit_chain(ctx: Ctx) -> Check:
    """Walk the whole hash chain; a changed, removed or inserted record is a FAULT."""
    p = ctx.check("storage.audit", "storage", "audit chain", DEVICE)
    if ctx.schema_missing():
        return p.degraded(
            "no audit log yet: the database has no schema", "Run `kiosk db upgrade` or start the kiosk once."
        )
    try:
        with ctx.db.transaction() as s:
            res = audit.verify(s)
    except (KioskError, SQLAlchemyError) as err:
        return p.fault(
            f"cannot read the audit log: {getattr(err, 'message', err)}",
            "Check the database; run `kiosk audit verify` for details.",
        )
    if not res.ok:
        where = f"at record {res.broken_seq}" if res.broken_seq is not None else "at its head anchor"
        return p.fault(
            f"audit chain broken {where}: {res.reason}",
            _BROKEN_HINT,
            records=res.checked,
            broken_seq=res.broken_seq,
        )
    if not res.anchored:
        # A database from before the head anchor: the next audited action writes it. Not DEGRADED: someone
        # who could delete the anchor row could as well rewrite it, so its absence proves no more than that.
        return p.ok(
            f"{res.checked} audit records, chain intact (no head anchor yet: it is written with the"
            " next audited action)",
            records=res.checked,
        )
    return p.ok(f"{res.checked} audit records, chain intact", records=res.checked)
