"""Encryption at rest for the few things the kiosk must keep in clear for a while.

A queued application must carry the applicant's ID number to the platform, and
a PICKUP_READY notice carries the pickup code. Until the outbox delivers them
they are sealed with Fernet (AES-128-CBC + HMAC) under a key derived from the
kiosk secret, and the row is scrubbed once delivered.

A sealed token starts with the id of the key it was sealed with (``KEYID:token``, see ``kiosk.keyring``), so it
opens after a rotation as long as that key is active; a token from before key ids tries every active key.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from kiosk.errors import StorageError
from kiosk.keyring import key_id, keys_of


def _fernet(secret: bytes) -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"hall-kiosk outbox seal v1").derive(
        bytes(secret)
    )
    return Fernet(base64.urlsafe_b64encode(key))


def seal(secret: bytes, payload: dict[str, Any]) -> str:
    """Sealed under the current key, prefixed with its id."""
    token = _fernet(secret).encrypt(json.dumps(payload, ensure_ascii=False).encode("utf-8")).decode("ascii")
    return f"{key_id(secret)}:{token}"


def sealed_with(token: str) -> str | None:
    """The id of the key a token was sealed with (None: sealed before key ids)."""
    kid, sep, _rest = token.partition(":")
    return kid if sep else None


def unseal(secret: bytes, token: str) -> dict[str, Any]:
    keys = keys_of(secret)
    kid, sep, body = token.partition(":")
    if sep and kid not in keys:
        raise StorageError(
            f"a sealed outbox payload was sealed with key {kid}, which is not among this kiosk's "
            f"keys ({', '.join(keys)})",
            hint="Copy the hall's secret files (`kiosk secret show` names them) from the kiosk "
            "that rotated the key.",
        )
    for key in [keys[kid]] if sep else keys.values():
        try:
            return json.loads(_fernet(key).decrypt((body if sep else token).encode("ascii")))
        except InvalidToken:
            continue
    raise StorageError(
        "a sealed outbox payload cannot be opened with this kiosk's secret",
        hint="The secret key file was replaced; restore the original secret.key from backup.",
    )
