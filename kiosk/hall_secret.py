"""One hall secret for every kiosk on a database, checked at start-up against its fingerprint there.

Each kiosk making its own ``secret.key`` breaks a fleet on one PostgreSQL: another
kiosk opens none of its sealed payloads and a right pickup code typed at the next
kiosk counts as a wrong guess. The hall shares one secret file (``kiosk.secret_file``,
copied to every kiosk). The first kiosk to start on a database records the secret's
fingerprint (an HMAC of a fixed label, which reveals nothing of the key) in the
``kv`` table; every later start compares: another secret, or none where the
database already has one, is refused naming what to copy where.
"""

from __future__ import annotations

import hashlib
import hmac
import json

from kiosk.config import Config
from kiosk.errors import ConfigError
from kiosk.secret import load_or_create_secret
from kiosk.storage.db import Database
from kiosk.storage.models import KeyValue

FINGERPRINT_KEY = "hall.secret_fingerprint"


class SecretMismatch(ConfigError):
    """This kiosk's secret is not the hall's (the one the database's rows were made with)."""

    exit_code = 16


def fingerprint(secret: bytes) -> str:
    return hmac.new(secret, b"hall-kiosk secret fingerprint v1", hashlib.sha256).hexdigest()[:32]


def recorded(db: Database) -> dict[str, str] | None:
    with db.transaction() as s:
        row = s.get(KeyValue, FINGERPRINT_KEY)
        return json.loads(row.value) if row is not None else None


def open_hall_secret(cfg: Config, db: Database) -> bytes:
    """The hall secret, checked against (or, on a database without one, recorded as) the database's fingerprint."""
    path = cfg.secret_path
    rec = recorded(db)
    copy_hint = (f"Copy the hall's secret file from a kiosk already on this database (kiosk "
                 f"{rec['kiosk_id']}: {rec['path']}) to {path} on this kiosk, owned by the kiosk's user, mode 0600; "
                 "or set kiosk.secret_file to where it is.") if rec else ""
    if rec is not None and not path.exists():
        # Never make a new one here: its hashes and seals would match nothing in this database.
        raise SecretMismatch(f"{path}: no hall secret, but this database's rows were made with secret "
                             f"{rec['fingerprint'][:12]}", hint=copy_hint)
    secret = load_or_create_secret(cfg.data_dir, path)
    fp = fingerprint(secret)
    if rec is None:
        with db.transaction() as s:
            if s.get(KeyValue, FINGERPRINT_KEY) is None:
                s.add(KeyValue(key=FINGERPRINT_KEY,
                               value=json.dumps({"fingerprint": fp, "kiosk_id": cfg.kiosk.id, "path": str(path)})))
        rec = recorded(db)
        assert rec is not None
        copy_hint = (f"Copy the hall's secret file from kiosk {rec['kiosk_id']} ({rec['path']}) to {path}, "
                     "mode 0600.")
    if rec["fingerprint"] != fp:
        raise SecretMismatch(f"{path}: secret {fp[:12]} is not the hall's: this database's rows were made with "
                             f"secret {rec['fingerprint'][:12]}", hint=copy_hint)
    return secret
