"""Encryption at rest for the few things the kiosk must keep in clear for a while.

A queued application must carry the applicant's ID number to the platform, and
a PICKUP_READY notice carries the pickup code. Until the outbox delivers them
they are sealed with Fernet (AES-128-CBC + HMAC) under a key derived from the
kiosk secret, and the row is scrubbed once delivered.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from kiosk.errors import StorageError


def _fernet(secret: bytes) -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"hall-kiosk outbox seal v1").derive(secret)
    return Fernet(base64.urlsafe_b64encode(key))


def seal(secret: bytes, payload: dict[str, Any]) -> str:
    return _fernet(secret).encrypt(json.dumps(payload, ensure_ascii=False).encode("utf-8")).decode("ascii")


def unseal(secret: bytes, token: str) -> dict[str, Any]:
    try:
        return json.loads(_fernet(secret).decrypt(token.encode("ascii")))
    except InvalidToken as err:
        raise StorageError(
            "a sealed outbox payload cannot be opened with this kiosk's secret",
            hint="The secret key file was replaced; restore the original secret.key from backup.",
        ) from err
