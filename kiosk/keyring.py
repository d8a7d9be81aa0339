"""The hall secret's keys: one current key for everything new, older keys kept while rows still use them.

A key's id is derived from the key (the first 12 hex digits of its fingerprint, an HMAC of a fixed label that
reveals nothing of the key), so nothing has to be stored to name it. A sealed payload carries the id of the key
it was sealed with (``kiosk.sealing``); a row holding a keyed hash (an ID number, a pickup code, a badge)
records it in ``key_id`` (stamped at insert, see :func:`install`; NULL: made before key ids, with the hall's
first key). Lookups of a hash try every active key (:func:`each_hash`): hashes cannot be re-made under a new
key, they age out with their rows. ``kiosk secret rotate`` (``kiosk.hall_secret``) adds a key, re-seals the
sealed payloads and retires a key once no row uses it.

:class:`HallKeys` *is* the current key's bytes, so every function that keys a hash or a seal with ``secret``
makes new ones with the current key and needs no change; only lookups and unsealing ask for the others.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

KEY_ID = "key_id"  # the key of the current key's id in every session's ``info`` (set by the hall secret)


def fingerprint(key: bytes) -> str:
    return hmac.new(bytes(key), b"hall-kiosk secret fingerprint v1", hashlib.sha256).hexdigest()[:32]


def key_id(key: bytes) -> str:
    return fingerprint(key)[:12]


class HallKeys(bytes):
    """The current key (as bytes) with every active key by id, current first."""

    active: dict[str, bytes]

    def __new__(cls, current: bytes, older: Iterable[bytes] = ()) -> HallKeys:
        self = super().__new__(cls, bytes(current))
        self.active = {key_id(current): bytes(current)}
        for k in older:
            self.active.setdefault(key_id(k), bytes(k))
        return self

    @property
    def key_id(self) -> str:
        return key_id(self)


def keys_of(secret: bytes) -> Mapping[str, bytes]:
    """Every active key by id (a plain ``bytes`` secret: just itself)."""
    return secret.active if isinstance(secret, HallKeys) else {key_id(secret): bytes(secret)}


def each_hash(secret: bytes, fn: Callable[[bytes, Any], str], value: Any) -> list[str]:
    """``fn(key, value)`` under every active key: what a stored hash of ``value`` may be (current key first)."""
    return [fn(k, value) for k in keys_of(secret).values()]


def install(sessions: sessionmaker[Session]) -> None:
    """Stamp the current key's id on every new row that has a ``key_id`` column and none set."""

    @event.listens_for(sessions, "before_flush")
    def _stamp(session: Session, _ctx: Any, _instances: Any) -> None:
        kid = session.info.get(KEY_ID)
        if kid is None:
            return
        for obj in session.new:
            if hasattr(type(obj), KEY_ID) and getattr(obj, KEY_ID) is None:
                setattr(obj, KEY_ID, kid)
