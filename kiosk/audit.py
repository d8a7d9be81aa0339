"""The audit log: append-only, each record chained to the one before by SHA-256.

Changing, deleting or inserting a record breaks the chain at that record, and
:func:`verify` names it. Details are scrubbed of ID numbers before they are
hashed, so the chain never holds personal data.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from kiosk.privacy import scrub, scrub_value
from kiosk.storage.models import AuditRecord

GENESIS = "0" * 64


def canonical(
    seq: int, at: dt.datetime, actor: str, action: str, subject: str, detail: Mapping[str, Any], prev_hash: str
) -> bytes:
    """The exact bytes a record's hash covers: sorted-key compact JSON, UTC timestamp to the microsecond."""
    body = {
        "seq": seq,
        "at": at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "actor": actor,
        "action": action,
        "subject": subject,
        "detail": detail,
        "prev": prev_hash,
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def record_hash(r: AuditRecord) -> str:
    return hashlib.sha256(canonical(r.seq, r.at, r.actor, r.action, r.subject, r.detail, r.prev_hash)).hexdigest()


def append(session: Session, now: dt.datetime, actor: str, action: str, subject: str = "", **detail: Any) -> AuditRecord:
    """Add one record inside the caller's transaction (so it commits with the change it describes)."""
    if session.get_bind().dialect.name == "postgresql":
        # Kiosks sharing one database append one at a time.
        session.execute(text("SELECT pg_advisory_xact_lock(4242)"))
    last = session.execute(select(AuditRecord).order_by(AuditRecord.seq.desc()).limit(1)).scalar_one_or_none()
    seq = (last.seq + 1) if last else 1
    prev = last.hash if last else GENESIS
    # Round-trip through JSON so what is hashed is exactly what the database returns later.
    clean_detail = json.loads(json.dumps(scrub_value(detail), ensure_ascii=False, default=str))
    rec = AuditRecord(
        seq=seq,
        at=now,
        actor=scrub(actor),
        action=action,
        subject=scrub(subject),
        detail=clean_detail,
        prev_hash=prev,
        hash="",
    )
    rec.hash = record_hash(rec)
    session.add(rec)
    session.flush()
    return rec


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int
    broken_seq: int | None = None
    reason: str = ""


def verify(session: Session) -> VerifyResult:
    """Walk the chain from the first record; report the first record that does not hold."""
    prev = GENESIS
    expected_seq = 1
    n = 0
    for rec in _iter(session):
        n += 1
        if rec.seq != expected_seq:
            return VerifyResult(False, n, expected_seq, f"record {expected_seq} is missing (next is {rec.seq})")
        if rec.prev_hash != prev:
            return VerifyResult(False, n, rec.seq, f"record {rec.seq} does not link to record {rec.seq - 1}")
        if record_hash(rec) != rec.hash:
            return VerifyResult(False, n, rec.seq, f"record {rec.seq} was altered (its content does not match its hash)")
        prev = rec.hash
        expected_seq += 1
    return VerifyResult(True, n)


def _iter(session: Session) -> Iterator[AuditRecord]:
    yield from session.execute(select(AuditRecord).order_by(AuditRecord.seq).execution_options(yield_per=500)).scalars()


def tail(session: Session, n: int = 20) -> list[AuditRecord]:
    rows = session.execute(select(AuditRecord).order_by(AuditRecord.seq.desc()).limit(n)).scalars().all()
    return list(reversed(rows))


def count(session: Session) -> int:
    return session.execute(select(func.count()).select_from(AuditRecord)).scalar_one()
