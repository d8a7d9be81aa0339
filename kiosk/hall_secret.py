"""One hall secret for every kiosk on a database, checked at start-up against its fingerprint there; rotation.

Each kiosk making its own ``secret.key`` breaks a fleet on one PostgreSQL: another
kiosk opens none of its sealed payloads and a right pickup code typed at the next
kiosk counts as a wrong guess. The hall shares one secret file (``kiosk.secret_file``,
copied to every kiosk). The first kiosk to start on a database records the secret's
fingerprint (an HMAC of a fixed label, which reveals nothing of the key) in the
``kv`` table; every later start compares: another secret, or none where the
database already has one, is refused naming what to copy where.

Rotation (``kiosk secret rotate``): a new key becomes the secret file; the previous one moves beside it as
``<secret file>.<key id>`` and stays active (the record's ``older``) while any row uses it: ID and code hashes
cannot be re-made, they age out, so lookups try every active key (``kiosk.keyring``). Sealed payloads are
re-sealed under the new key at once. ``kiosk secret retire`` (rotate runs it too) drops an older key no row
uses any more, once no kiosk still runs on the previous key. Every kiosk then needs the same files: one that
lacks one refuses to start, naming the file to copy from which kiosk.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, or_, select

from kiosk.audit import append as audit_append
from kiosk.config import Config
from kiosk.errors import ConfigError
from kiosk.keyring import HallKeys, fingerprint, key_id
from kiosk.sealing import seal, sealed_with, unseal
from kiosk.secret import load_or_create_secret, write_key
from kiosk.storage.db import Database
from kiosk.storage.models import (
    KeyValue,
    KioskStatus,
    OutboxMessage,
    Parcel,
    ServiceRequest,
    StaffBadge,
    Submission,
)

FINGERPRINT_KEY = "hall.secret_fingerprint"
# The rows holding keyed hashes, and the hash columns that make a row still need its key.
HASHED = (
    (Parcel, (Parcel.owner_id_hash, Parcel.code_hmac)),
    (Submission, (Submission.applicant_id_hash,)),
    (ServiceRequest, (ServiceRequest.applicant_id_hash,)),
    (StaffBadge, (StaffBadge.uid_hash,)),
)

__all__ = [
    "FINGERPRINT_KEY",
    "Retirement",
    "Rotation",
    "SecretMismatch",
    "fingerprint",
    "open_hall_secret",
    "recorded",
    "retire",
    "rotate",
]


class SecretMismatch(ConfigError):
    """This kiosk's secret is not the hall's (the one the database's rows were made with)."""

    exit_code = 16


def recorded(db: Database) -> dict[str, Any] | None:
    with db.transaction() as s:
        row = s.get(KeyValue, FINGERPRINT_KEY)
        return json.loads(row.value) if row is not None else None


def older_file(path: Path, kid: str) -> Path:
    """Where a kiosk keeps an older, still active key beside its secret file."""
    return path.with_name(f"{path.name}.{kid}")


def open_hall_secret(cfg: Config, db: Database) -> HallKeys:
    """The hall's keys, checked against (or, on a database without one, recorded as) the database's fingerprints."""
    path = cfg.secret_path
    rec = recorded(db)
    copy_hint = (
        (
            f"Copy the hall's secret file from a kiosk already on this database (kiosk "
            f"{rec['kiosk_id']}: {rec['path']}) to {path} on this kiosk, owned by the kiosk's user, mode 0600; "
            "or set kiosk.secret_file to where it is."
        )
        if rec
        else ""
    )
    if rec is not None and not path.exists():
        # Never make a new one here: its hashes and seals would match nothing in this database.
        raise SecretMismatch(
            f"{path}: no hall secret, but this database's rows were made with secret "
            f"{rec['fingerprint'][:12]}",
            hint=copy_hint,
        )
    secret = load_or_create_secret(cfg.data_dir, path)
    fp = fingerprint(secret)
    if rec is None:
        with db.transaction() as s:
            if s.get(KeyValue, FINGERPRINT_KEY) is None:
                s.add(
                    KeyValue(
                        key=FINGERPRINT_KEY,
                        value=json.dumps(
                            {
                                "fingerprint": fp,
                                "kiosk_id": cfg.kiosk.id,
                                "path": str(path),
                                "first": fp,
                                "older": [],
                            }
                        ),
                    )
                )
        rec = recorded(db)
        assert rec is not None
        copy_hint = (
            f"Copy the hall's secret file from kiosk {rec['kiosk_id']} ({rec['path']}) to {path}, mode 0600."
        )
    if rec["fingerprint"] != fp:
        why = (
            f"the hall's key was rotated to {rec['fingerprint'][:12]} (this file holds the previous key {fp[:12]})"
            if fp in rec.get("older", [])
            else f"this database's rows were made with secret {rec['fingerprint'][:12]}"
        )
        raise SecretMismatch(f"{path}: secret {fp[:12]} is not the hall's: {why}", hint=copy_hint)
    older = []
    for ofp in rec.get("older", []):
        f = older_file(path, ofp[:12])
        if not f.exists():
            raise SecretMismatch(
                f"{f}: missing: the hall's older key {ofp[:12]} is still in use by rows of this database",
                hint=f"Copy {older_file(Path(rec['path']), ofp[:12]).name} from kiosk "
                f"{rec['kiosk_id']} ({Path(rec['path']).parent}) to {f}, mode 0600.",
            )
        key = load_or_create_secret(cfg.data_dir, f, create=False)
        if fingerprint(key) != ofp:
            raise SecretMismatch(
                f"{f}: holds key {key_id(key)}, not the hall's older key {ofp[:12]}", hint=copy_hint
            )
        older.append(key)
    keys = HallKeys(secret, older)
    db.use_key(keys.key_id)
    return keys


# --- rotation ---------------------------------------------------------------------
@dataclass(frozen=True)
class Retirement:
    retired: list[str]
    kept: dict[str, int]  # older key id -> rows still using it
    waiting_for: list[str]  # kiosks still running on the previous key: nothing is retired until they restart


@dataclass(frozen=True)
class Rotation:
    old: str
    new: str
    resealed: int
    retirement: Retirement


def rotate(cfg: Config, db: Database, keys: HallKeys, now: dt.datetime, *, actor: str) -> Rotation:
    """A new current key: the old one kept beside the file, sealed payloads re-sealed, unused keys retired."""
    path = cfg.secret_path
    new = HallKeys(
        secrets.token_bytes(32), [bytes(keys), *[k for i, k in keys.active.items() if i != keys.key_id]]
    )
    old_file = older_file(path, keys.key_id)
    write_key(
        old_file, bytes(keys), exclusive=False
    )  # before the file changes: the old key is never only in memory
    write_key(path, bytes(new), exclusive=False)
    try:
        with db.transaction() as s:
            row = s.get(KeyValue, FINGERPRINT_KEY, with_for_update=True)
            rec = json.loads(row.value) if row is not None else None
            if rec is None or rec["fingerprint"] != fingerprint(keys):
                raise SecretMismatch(
                    "the hall's key changed while rotating (another kiosk rotated it)",
                    hint="Run `kiosk secret show` and copy that kiosk's secret files here.",
                )
            resealed = 0
            for msg in s.execute(
                select(OutboxMessage).where(OutboxMessage.sensitive.is_(True)).with_for_update()
            ).scalars():
                token = msg.payload.get("sealed") if isinstance(msg.payload, dict) else None
                if token:
                    msg.payload = {**msg.payload, "sealed": seal(new, unseal(new, token))}
                    resealed += 1
            rec.update(
                fingerprint=fingerprint(new),
                kiosk_id=cfg.kiosk.id,
                path=str(path),
                rotated_at=now.isoformat(),
                older=[fingerprint(bytes(keys)), *rec.get("older", [])],
                first=rec.get("first", rec["fingerprint"]),
            )
            row.value = json.dumps(rec)
            audit_append(
                s, now, actor, "secret.rotate", f"key:{new.key_id}", previous=keys.key_id, resealed=resealed
            )
    except BaseException:
        write_key(
            path, bytes(keys), exclusive=False
        )  # the database still names the old key: so must the file
        raise
    db.use_key(new.key_id)
    return Rotation(
        old=keys.key_id, new=new.key_id, resealed=resealed, retirement=retire(cfg, db, new, now, actor=actor)
    )


def usage(s: Any, rec: dict[str, Any], kid: str) -> int:
    """Rows that still need key ``kid``: hashes made with it, payloads sealed with it."""
    first = kid == rec.get("first", rec["fingerprint"])[:12]  # rows from before key ids were made with it
    n = 0
    for model, cols in HASHED:
        mine = or_(model.key_id == kid, model.key_id.is_(None)) if first else model.key_id == kid
        n += s.execute(
            select(func.count()).select_from(model).where(mine, or_(*[c.is_not(None) for c in cols]))
        ).scalar_one()
    for (payload,) in s.execute(select(OutboxMessage.payload).where(OutboxMessage.sensitive.is_(True))):
        token = payload.get("sealed") if isinstance(payload, dict) else None
        if token and sealed_with(token) in ((kid, None) if first else (kid,)):
            n += 1
    return n


def retire(cfg: Config, db: Database, keys: HallKeys, now: dt.datetime, *, actor: str) -> Retirement:
    """Drop every older key no row uses (audited ``secret.retire``).

    Not while a kiosk that started before the last rotation is still running: it hashes and seals with the
    previous key until it restarts (and then refuses to start until its secret file is the new one)."""
    retired: list[str] = []
    kept: dict[str, int] = {}
    with db.transaction() as s:
        row = s.get(KeyValue, FINGERPRINT_KEY, with_for_update=True)
        if row is None:
            return Retirement(retired=[], kept={}, waiting_for=[])
        rec = json.loads(row.value)
        rotated = rec.get("rotated_at")
        stale = []
        if rotated:
            since = dt.datetime.fromisoformat(rotated)
            recent = now - dt.timedelta(minutes=10)
            stale = [
                k
                for k in s.execute(select(KioskStatus)).scalars()
                if k.kiosk_id != cfg.kiosk.id
                and _aware(k.started_at) < since
                and _aware(k.last_seen_at) > recent
            ]
        for ofp in list(rec.get("older", [])):
            kid = ofp[:12]
            n = usage(s, rec, kid)
            if n or stale:
                kept[kid] = n
                continue
            rec["older"].remove(ofp)
            retired.append(kid)
            audit_append(s, now, actor, "secret.retire", f"key:{kid}", current=keys.key_id)
        row.value = json.dumps(rec)
    for kid in retired:
        older_file(cfg.secret_path, kid).unlink(missing_ok=True)
        keys.active.pop(kid, None)
    return Retirement(retired=retired, kept=kept, waiting_for=[k.kiosk_id for k in stale])


def _aware(t: dt.datetime) -> dt.datetime:
    return t if t.tzinfo is not None else t.replace(tzinfo=dt.UTC)
