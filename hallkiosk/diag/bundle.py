"""``kiosk support-bundle``: one tar.gz a technician can send: config without secrets, diag JSON, logs, audit, versions.

Everything written passes :data:`kiosk.privacy.SUPPORT`: known secrets (the platform password,
the kiosk secret, PINs, staff badge UIDs, a database password) are replaced
outright, ID numbers and phone numbers are masked wherever they appear, and so
is a number a line calls a pickup code. Audit records are read with the audit
log's own defensive reader, so a damaged record is listed as unreadable instead
of stopping the bundle.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import json
import os
import shutil
import subprocess
import tarfile
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from kiosk import audit
from kiosk import outbox as ob
from kiosk.diag_model import Report
from kiosk.errors import KioskError
from kiosk.privacy import SUPPORT, URL_PASSWORD, Redactor, url_passwords
from kiosk.secret import ENV as SECRET_ENV
from kiosk.storage.models import Compartment, DeviceEvent, OutboxMessage, StaffTask

if TYPE_CHECKING:
    from hallkiosk.wiring import App

LOG_LINES = 2000
AUDIT_RECORDS = 500


def _json(red: Redactor, v: Any, **kw: Any) -> str:
    """``v`` as JSON with every string in it (keys too) redacted, leaving its structure and numbers intact."""
    return json.dumps(red.value(json.loads(json.dumps(v, default=str))), ensure_ascii=False, **kw)


def known_secrets(app: App) -> list[str]:
    """Every secret value this kiosk knows of, in the forms it might appear in text."""
    cfg = app.cfg
    out: list[str] = list(cfg.kiosk.staff_badges)
    try:
        pw = cfg.platform_password()
    except KioskError:
        pw = None
    if pw:
        out.append(pw)
    for env in (cfg.kiosk.technician_pin_env, cfg.kiosk.staff_pin_env):
        if os.environ.get(env):
            out.append(os.environ[env])
    m = URL_PASSWORD.search(cfg.storage.url)
    if m:
        out.append(m.group("pw"))
    key_path = Path(os.environ.get(SECRET_ENV) or cfg.data_dir / "secret.key")
    try:
        key = key_path.read_bytes()
        out += [
            key.hex(),
            key.hex().upper(),
            base64.b64encode(key).decode(),
            base64.urlsafe_b64encode(key).decode(),
        ]
        out.append(key.decode("latin-1"))
    except OSError:
        pass
    return out


def redacted_config(app: App, red: Redactor) -> dict[str, Any]:
    """The effective configuration with secrets removed (badges masked, a database URL's password dropped)."""
    data = app.cfg.model_dump(mode="json")
    data["kiosk"]["staff_badges"] = [f"[redacted badge ending {b[-2:]}]" for b in app.cfg.kiosk.staff_badges]
    data["storage"]["url"] = url_passwords(data["storage"]["url"])
    data["_source"] = app.cfg.source
    return red.value(data)


# Under systemd the kiosk logs to the journal, not to kiosk.log (kiosk/logsetup.py): the bundle takes the units'
# lines of the current boot from journalctl instead.
JOURNAL_UNITS = ("hall-kiosk.service", "hall-kiosk-console.service", "hall-kiosk-backup.service")


def journal_lines(n: int) -> str | None:
    """The newest ``n`` journal lines of the kiosk's units this boot; None without journalctl or any line."""
    exe = shutil.which("journalctl")
    if exe is None:
        return None
    cmd = [exe, "--no-pager", "-b", "-o", "short-iso", "-n", str(n), *(f"--unit={u}" for u in JOURNAL_UNITS)]
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, errors="replace", timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    lines = [
        line for line in r.stdout.splitlines(keepends=True) if not line.startswith("-- ")
    ]  # "-- No entries --"
    return "".join(lines) if r.returncode == 0 and lines else None


def _tail(path: Path, n: int) -> list[str]:
    with path.open("r", encoding="utf-8", errors="replace") as f:
        return list(deque(f, maxlen=n))


def log_files(app: App, extra: Iterable[Path] = ()) -> list[Path]:
    """The kiosk's log files: ``logs/kiosk.log*`` in the data directory, plus any given."""
    d = app.cfg.data_dir / "logs"
    found = sorted(d.glob("kiosk.log*")) if d.is_dir() else []
    return [*found, *(Path(p) for p in extra if Path(p).is_file())]


def _audit_rows(s: Session, n: int) -> list[dict[str, Any]]:
    """The newest audit records through the audit log's own defensive reader: a damaged record is listed, marked
    unreadable with what cannot be read, and never its raw content (it may hold personal data)."""
    out: list[dict[str, Any]] = []
    for e in audit.tail(s, n):
        row: dict[str, Any] = {
            "seq": e.seq,
            "at": e.at.isoformat() if e.at else None,
            "actor": e.actor,
            "action": e.action,
            "subject": e.subject,
            "detail": None if e.error else e.detail,
            "hash": e.hash,
        }
        if e.error:
            row["unreadable"] = e.error
        out.append(row)
    return out


def _rows(app: App, red: Redactor, audit_records: int) -> dict[str, list[dict[str, Any]]]:
    """Recent audit records, device events, outbox rows (never payloads), staff tasks and compartments.

    Each table is read in its own transaction, so one that cannot be read (a damaged row, a missing table) is
    reported in its place and costs support none of the others."""

    def audit_verify(s: Session) -> list[dict[str, Any]]:
        res = audit.verify(s)
        return [{"ok": res.ok, "checked": res.checked, "broken_seq": res.broken_seq, "reason": res.reason}]

    def device_events(s: Session) -> list[dict[str, Any]]:
        evs = s.execute(select(DeviceEvent).order_by(DeviceEvent.id.desc()).limit(500)).scalars().all()
        return [
            {"at": e.at.isoformat(), "device": e.device, "state": e.state, "detail": e.detail}
            for e in reversed(evs)
        ]

    def outbox_rows(s: Session) -> list[dict[str, Any]]:
        msgs = s.execute(select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(500)).scalars().all()
        return [ob.describe(m) for m in reversed(msgs)]

    def staff_tasks(s: Session) -> list[dict[str, Any]]:
        tasks = s.execute(select(StaffTask).order_by(StaffTask.id.desc()).limit(200)).scalars().all()
        return [
            {
                "id": t.id,
                "kind": t.kind,
                "detail": t.detail,
                "created_at": t.created_at.isoformat(),
                "resolved_at": t.resolved_at.isoformat() if t.resolved_at else None,
            }
            for t in reversed(tasks)
        ]

    def compartments(s: Session) -> list[dict[str, Any]]:
        comps = s.execute(select(Compartment).order_by(Compartment.label)).scalars().all()
        return [
            {
                "label": c.label,
                "cabinet": c.cabinet_id,
                "size": c.size,
                "board": c.board,
                "channel": c.channel,
                "state": c.state,
                "fault_reason": c.fault_reason,
            }
            for c in comps
        ]

    readers: dict[str, Callable[[Session], list[dict[str, Any]]]] = {
        "audit": lambda s: _audit_rows(s, audit_records),
        "audit_verify": audit_verify,
        "device_events": device_events,
        "outbox": outbox_rows,
        "staff_tasks": staff_tasks,
        "compartments": compartments,
    }
    out: dict[str, list[dict[str, Any]]] = {}
    for name, read in readers.items():
        try:
            with app.db.transaction() as s:
                out[name] = read(s)
        except (KioskError, SQLAlchemyError, ValueError, TypeError) as err:
            # A value the ORM cannot decode (a non-JSON detail, a bad timestamp) raises from the driver or the
            # column type, not as a database error. The message names the problem, never the row's content.
            out[name] = [
                {"error": f"cannot read {name}: {type(err).__name__}: {getattr(err, 'message', err)}"}
            ]
    return out


@dataclass(frozen=True)
class BundleSummary:
    path: Path
    members: tuple[str, ...]
    status: str  # the diag report's overall status


def write_support_bundle(
    app: App,
    out: str | os.PathLike[str],
    *,
    report: Report | None = None,
    log_lines: int = LOG_LINES,
    audit_records: int = AUDIT_RECORDS,
    extra_logs: Iterable[Path] = (),
) -> BundleSummary:
    """Write the bundle to ``out`` (mode 0600); runs the diagnostics unless ``report`` is given."""
    from hallkiosk.diag.runner import run_checks
    from hallkiosk.diag.system import versions

    red = SUPPORT.with_secrets(known_secrets(app))
    report = report or run_checks(app)
    stamp = app.clock.now().strftime("%Y%m%dT%H%M%SZ")
    root = f"support-{app.cfg.kiosk.id}-{stamp}"
    members: dict[str, str] = {
        "versions.json": _json(red, versions(), indent=2),
        "config.json": _json(red, redacted_config(app, red), indent=2),
        "diag.json": _json(red, report.to_dict(), indent=2),
    }
    try:
        tables = _rows(app, red, audit_records)
    except (KioskError, SQLAlchemyError) as err:
        tables = {"error": [{"message": f"cannot read the database: {getattr(err, 'message', err)}"}]}
    for name, rows in tables.items():
        members[f"db/{name}.jsonl"] = "".join(_json(red, r) + "\n" for r in rows)
    platform = app.__dict__.get("platform")
    if platform is not None and hasattr(platform, "history"):
        hist = [
            {
                "operation": h.operation,
                "started_at": h.started_at.isoformat(),
                "duration_ms": h.duration_ms,
                "outcome": h.outcome,
                "request_xml": h.request_xml,
                "reply_xml": h.reply_xml,
            }
            for h in platform.history()
        ]
        members["platform_history.jsonl"] = "".join(_json(red, h) + "\n" for h in hist)
    for path in log_files(app, extra_logs):
        members[f"logs/{path.name}"] = red("".join(_tail(path, log_lines)))
    journal = journal_lines(log_lines)
    if journal is not None:
        members["logs/journal.txt"] = red(journal)
    members["README.txt"] = red(
        f"Hall Kiosk support bundle for kiosk {app.cfg.kiosk.id}, made {app.clock.now().isoformat()}.\n"
        f"Diagnostics: {report.status} {report.counts()}. Secrets were removed and ID and phone numbers masked.\n"
        "versions.json, config.json (effective configuration), diag.json (docs/diag-json.md), db/*.jsonl, logs/.\n"
    )
    dest = Path(out)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as tar:
        mtime = dt.datetime.now(dt.UTC).timestamp()
        for name, text in members.items():
            data = text.encode("utf-8")  # every member was redacted when it was made
            info = tarfile.TarInfo(f"{root}/{name}")
            info.size = len(data)
            info.mtime = mtime
            info.mode = 0o600
            tar.addfile(info, io.BytesIO(data))
    return BundleSummary(path=dest, members=tuple(members), status=report.status)
