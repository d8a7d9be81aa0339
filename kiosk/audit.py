"""The audit log: append-only, each record chained to the one before by SHA-256.

Changing, deleting or inserting a record breaks the chain at that record, and
:func:`verify` names it. Details are scrubbed of ID numbers before they are
hashed, so the chain never holds personal data.

A chain alone cannot show that its newest records were removed (what is left
is still a valid chain), so every append also writes a *head anchor* (the last
seq and hash) into the ``kv`` table in the same transaction, and verify checks
the chain reaches it.

What this does not stop: someone with write access to the database can delete
the newest records *and* rewrite the anchor to the new last record (or forge a
whole new chain from the first altered record on). Nothing stored in the same
database can prove otherwise; the defence against that is a copy outside it,
e.g. the head seq and hash carried by the platform heartbeat or an off-box log
that verify could compare against. The anchor raises the bar from "DELETE one
row" to "understand and rewrite the anchor too", and catches accidents.

Reading is defensive: verify, tail and append never let one unreadable stored
record (a non-JSON detail, a timestamp that is not one, bytes that are not
UTF-8) raise. Such a record is reported as altered by verify and shown as
unreadable by tail, and append only ever reads the last seq and hash, so a
corrupt newest record cannot stop the next door from opening.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, LargeBinary, Select, Text, cast, func, select, text
from sqlalchemy.orm import Session

from kiosk.privacy import scrub, scrub_value
from kiosk.storage.models import AuditRecord, KeyValue

GENESIS = "0" * 64
HEAD_KEY = "audit.head"  # kv row holding {"seq": N, "hash": "..."} of the newest record


def canonical(
    seq: int,
    at: dt.datetime,
    actor: str,
    action: str,
    subject: str,
    detail: Mapping[str, Any],
    prev_hash: str,
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
    return hashlib.sha256(
        canonical(r.seq, r.at, r.actor, r.action, r.subject, r.detail, r.prev_hash)
    ).hexdigest()


def append(
    session: Session, now: dt.datetime, actor: str, action: str, subject: str = "", **detail: Any
) -> AuditRecord:
    """Add one record inside the caller's transaction (so it commits with the change it describes)."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        # Kiosks sharing one database append one at a time.
        session.execute(text("SELECT pg_advisory_xact_lock(4242)"))
    # Only seq and hash, read raw: decoding the whole previous row would let one corrupt record
    # (say a detail that is not JSON) fail every later append, and with it every door opening.
    q = select(AuditRecord.seq, _raw(AuditRecord.hash, dialect)).order_by(AuditRecord.seq.desc()).limit(1)
    if dialect == "sqlite":
        # SQLite keeps a non-number written into seq as text, sorted after every integer.
        q = q.where(func.typeof(AuditRecord.seq) == "integer")
    last = session.execute(q).first()
    seq = int(last[0]) + 1 if last else 1
    # A mangled hash still chains to something; verify names the mangled record either way.
    prev = _text(last[1], errors="replace") if last else GENESIS
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
    _write_head(session, seq, rec.hash)
    session.flush()
    return rec


def _write_head(session: Session, seq: int, digest: str) -> None:
    """Move the head anchor; never reads the old value, so a mangled anchor cannot block an append."""
    value = json.dumps({"seq": seq, "hash": digest})
    row = session.get(KeyValue, HEAD_KEY)
    if row is None:
        session.add(KeyValue(key=HEAD_KEY, value=value))
    else:
        row.value = value


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One stored record as read back; ``error`` says why it cannot be read (the fields are then best effort)."""

    seq: int | None
    at: dt.datetime | None
    actor: str
    action: str
    subject: str
    detail: Any
    prev_hash: str
    hash: str
    error: str = ""
    computed_hash: str = ""  # what the content hashes to ("" when it cannot be read)


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int
    broken_seq: int | None = None
    reason: str = ""
    anchored: bool = True  # False: no head anchor yet, so removal of the newest records would not show


def verify(
    session: Session, progress: Callable[[int], None] | None = None, every: int = 5000
) -> VerifyResult:
    """Walk the chain from the first record, then check it reaches the head anchor; report the first break.

    ``progress(records_checked)`` is called every ``every`` records (the console's background job)."""
    prev = GENESIS
    expected_seq = 1
    n = 0
    for rec in _iter(session):
        n += 1
        if progress is not None and n % every == 0:
            progress(n)
        if rec.seq is None:
            return VerifyResult(
                ok=False,
                checked=n,
                broken_seq=expected_seq,
                reason=f"a record after record {expected_seq - 1} was altered: its seq is not a number",
            )
        if rec.seq != expected_seq:
            return VerifyResult(
                ok=False,
                checked=n,
                broken_seq=expected_seq,
                reason=f"record {expected_seq} is missing (next is {rec.seq})",
            )
        if rec.error:
            return VerifyResult(
                ok=False,
                checked=n,
                broken_seq=rec.seq,
                reason=f"record {rec.seq} was altered: it cannot be read ({rec.error})",
            )
        if rec.prev_hash != prev:
            return VerifyResult(
                ok=False,
                checked=n,
                broken_seq=rec.seq,
                reason=f"record {rec.seq} does not link to record {rec.seq - 1}",
            )
        if rec.computed_hash != rec.hash:
            return VerifyResult(
                ok=False,
                checked=n,
                broken_seq=rec.seq,
                reason=f"record {rec.seq} was altered (its content does not match its hash)",
            )
        prev = rec.hash
        expected_seq += 1
    return _check_head(session, n, last_seq=expected_seq - 1, last_hash=prev)


def _check_head(session: Session, n: int, last_seq: int, last_hash: str) -> VerifyResult:
    row = session.execute(select(KeyValue.value).where(KeyValue.key == HEAD_KEY)).scalar_one_or_none()
    if row is None:
        # A database from before the anchor existed; the next append writes it. An attacker could also
        # have deleted it, but one who can do that can as well rewrite it (see the module docstring).
        return VerifyResult(ok=True, checked=n, anchored=n == 0)
    try:
        head = json.loads(row)
        head_seq, head_hash = int(head["seq"]), str(head["hash"])
    except (ValueError, TypeError, KeyError):
        return VerifyResult(
            ok=False,
            checked=n,
            broken_seq=None,
            reason=f"the head anchor (kv {HEAD_KEY}) was altered: it cannot be read",
        )
    if head_seq > last_seq:
        missing = f"record {head_seq}" if head_seq == last_seq + 1 else f"records {last_seq + 1}..{head_seq}"
        return VerifyResult(
            ok=False,
            checked=n,
            broken_seq=last_seq + 1,
            reason=f"{missing} missing at the end (the head anchor says the log reached record {head_seq})",
        )
    if head_seq < last_seq:
        extra = f"record {last_seq}" if last_seq == head_seq + 1 else f"records {head_seq + 1}..{last_seq}"
        return VerifyResult(
            ok=False,
            checked=n,
            broken_seq=head_seq + 1,
            reason=f"{extra} inserted at the end (the head anchor says the log ends at record {head_seq})",
        )
    if head_hash != last_hash:
        return VerifyResult(
            ok=False,
            checked=n,
            broken_seq=last_seq,
            reason=f"record {last_seq} was replaced (its hash does not match the head anchor)",
        )
    return VerifyResult(ok=True, checked=n)


def _raw(col: Any, dialect: str) -> ColumnElement[Any]:
    """A column read without the driver or SQLAlchemy decoding it, so a bad value is ours to report."""
    if dialect == "postgresql":
        if col is AuditRecord.at:
            # psycopg parses timestamptz itself and fails on 'infinity' before any code here could catch it.
            return func.to_char(func.timezone("UTC", col), 'YYYY-MM-DD"T"HH24:MI:SS.US')
        if col is AuditRecord.detail:
            return cast(col, Text)  # psycopg would parse json itself
        return col  # PostgreSQL text is valid UTF-8 by construction
    # SQLite stores any value in any column; Python's sqlite3 raises on text that is not UTF-8.
    return cast(col, LargeBinary)


_COLUMNS = (
    AuditRecord.at,
    AuditRecord.actor,
    AuditRecord.action,
    AuditRecord.subject,
    AuditRecord.detail,
    AuditRecord.prev_hash,
    AuditRecord.hash,
)


def _raw_select(session: Session) -> Select[Any]:
    dialect = session.get_bind().dialect.name
    return select(AuditRecord.seq, *(_raw(c, dialect) for c in _COLUMNS))


def _text(v: Any, errors: str = "strict") -> str:
    if v is None:
        raise TypeError("NULL")
    return bytes(v).decode("utf-8", errors) if isinstance(v, bytes | memoryview) else str(v)


def _decode(row: Sequence[Any]) -> AuditEntry:
    """Decode one raw row: the plain path for a sound record, else :func:`_decode_careful`, which names the field."""
    try:
        seq, at_raw, actor, action, subject, detail_s, prev_hash, digest = (
            v.decode() if v.__class__ is bytes else v for v in row
        )
        if seq.__class__ is not int or actor.__class__ is not str:
            raise TypeError(seq)
        at = dt.datetime.fromisoformat(at_raw)
        at = at.replace(tzinfo=dt.UTC) if at.tzinfo is None else at.astimezone(dt.UTC)
        detail = json.loads(detail_s)
        computed = hashlib.sha256(canonical(seq, at, actor, action, subject, detail, prev_hash)).hexdigest()
    except Exception:  # anything odd about this record: the careful path says what, field by field
        return _decode_careful(row)
    return AuditEntry(
        seq=seq,
        at=at,
        actor=actor,
        action=action,
        subject=subject,
        detail=detail,
        prev_hash=prev_hash,
        hash=digest,
        error="",
        computed_hash=computed,
    )


def _decode_careful(row: Sequence[Any]) -> AuditEntry:
    """Decode one raw row field by field; what fails is named (never its content: it may be personal data)."""
    problems: list[str] = []

    def field(name: str, v: Any) -> str:
        try:
            return _text(v)
        except (TypeError, UnicodeDecodeError):  # NOT NULL columns, so in practice not UTF-8
            problems.append(f"{name} is not UTF-8 text")
            return "" if v is None else _text(v, errors="replace")

    seq_raw = row[0]
    seq = seq_raw if isinstance(seq_raw, int) and not isinstance(seq_raw, bool) else None
    if seq is None:
        problems.append("seq is not a number")
    actor, action, subject, detail_s, prev_hash, digest = (
        field(name, v)
        for name, v in zip(
            ("actor", "action", "subject", "detail", "prev_hash", "hash"), row[2:], strict=True
        )
    )
    at: dt.datetime | None = None
    try:
        at = dt.datetime.fromisoformat(_text(row[1]))
        at = at.replace(tzinfo=dt.UTC) if at.tzinfo is None else at.astimezone(dt.UTC)
    except (TypeError, ValueError):  # NULL (PostgreSQL 'infinity' reads so), not UTF-8, not ISO 8601
        problems.insert(0, "at is not a timestamp")
    detail: Any = None
    try:
        detail = json.loads(detail_s)
    except (ValueError, RecursionError):
        problems.append("detail is not JSON")
    computed = ""
    if not problems and seq is not None and at is not None:
        try:
            computed = hashlib.sha256(
                canonical(seq, at, actor, action, subject, detail, prev_hash)
            ).hexdigest()
        except (ValueError, TypeError, RecursionError):  # e.g. a lone surrogate escaped in the JSON
            problems.append("its content cannot be hashed (not valid Unicode)")
    return AuditEntry(
        seq=seq,
        at=at,
        actor=actor,
        action=action,
        subject=subject,
        detail=detail,
        prev_hash=prev_hash,
        hash=digest,
        error="; ".join(problems),
        computed_hash=computed,
    )


def _iter(session: Session) -> Iterator[AuditEntry]:
    # Core rows from the session's connection, streamed in batches: the ORM's per-row result handling would cost
    # about as much as the hashing itself over a million records (bench/bench_audit.py).
    q = _raw_select(session).order_by(AuditRecord.seq)
    result = session.connection().execute(
        q, execution_options={"stream_results": True, "max_row_buffer": 2000}
    )
    for rows in result.partitions(2000):
        for row in rows:
            yield _decode(row)


def tail(session: Session, n: int = 20) -> list[AuditEntry]:
    """The newest ``n`` records, oldest first; an unreadable one comes back with ``error`` set."""
    rows = session.execute(_raw_select(session).order_by(AuditRecord.seq.desc()).limit(n)).all()
    return [_decode(r) for r in reversed(rows)]


def search(
    session: Session,
    *,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    action: str = "",
    actor: str = "",
    subject: str = "",
    subject_is: str = "",
    before_seq: int | None = None,
    limit: int = 100,
) -> list[AuditEntry]:
    """Records newest first: ``action`` is a prefix (``cabinet.`` finds every cabinet event), ``actor`` exact,
    ``subject`` a substring, ``subject_is`` exact; ``before_seq`` pages back. Unreadable records come back
    with ``error`` set."""
    q = _raw_select(session)
    if since is not None:
        q = q.where(AuditRecord.at >= since)
    if until is not None:
        q = q.where(AuditRecord.at < until)
    if action:
        q = q.where(AuditRecord.action.startswith(action, autoescape=True))
    if actor:
        q = q.where(AuditRecord.actor == actor)
    if subject:
        q = q.where(AuditRecord.subject.contains(subject, autoescape=True))
    if subject_is:
        q = q.where(AuditRecord.subject == subject_is)
    if before_seq is not None:
        q = q.where(AuditRecord.seq < before_seq)
    rows = session.execute(q.order_by(AuditRecord.seq.desc()).limit(max(1, min(limit, 1000)))).all()
    return [_decode(r) for r in rows]


def count(session: Session) -> int:
    return session.execute(select(func.count()).select_from(AuditRecord)).scalar_one()
