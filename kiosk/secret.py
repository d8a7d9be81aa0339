"""The kiosk secret: the key for ID hashes, code HMACs and sealed payloads.

32 random bytes in ``secret.key`` in the data directory, created on first start
with mode 0600. Losing it makes stored ID hashes and pickup codes unmatched, so
it belongs in the hall's backup.
"""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path

from kiosk.errors import ConfigError
from kiosk.filemodes import private_dir

ENV = "KIOSK_SECRET_FILE"


def load_or_create_secret(data_dir: Path, path: Path | None = None, *, create: bool = True) -> bytes:
    """The secret at ``path`` (default: KIOSK_SECRET_FILE, else <data_dir>/secret.key); made there if missing and
    ``create``."""
    path = path or Path(os.environ.get(ENV) or data_dir / "secret.key")
    if not create and not path.exists():
        raise ConfigError(f"{path}: no hall secret there")
    if path.exists():
        st = path.stat()
        if st.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise ConfigError(f"{path}: the kiosk secret is readable by other users; chmod 600 it")
        key = path.read_bytes()
        if len(key) < 32:
            raise ConfigError(f"{path}: the kiosk secret is {len(key)} bytes; it must be at least 32")
        return key
    key = secrets.token_bytes(32)
    write_key(path, key, exclusive=True)
    return key


def write_key(path: Path, data: bytes, *, exclusive: bool) -> None:
    """Write a key file with mode 0600 (its folder made private): the one writer of key files.

    ``exclusive``: create ``path`` and fail if it exists (two first starts must not make two secrets); otherwise
    replace it atomically (tmp + fsync + rename), so a crash never leaves a half-written key.
    """
    private_dir(path.parent)
    target = path if exclusive else path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    if not exclusive:
        os.replace(target, path)
