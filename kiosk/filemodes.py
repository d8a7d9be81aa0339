"""Private files and directories, whatever the umask: the one place that says 0600 and 0700.

The data directory holds keyed hashes, sealed payloads, pickup-code HMACs and logs; a
umask of 000 (a service unit without one, a technician's shell) must not make any of
it readable by other users. Modes are set with chmod after creating, so the umask
never enters into it. SQLite gives a database's -wal and -shm the mode of the
database file itself, so creating that file 0600 first covers all three.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

FILE_MODE = 0o600
DIR_MODE = 0o700


def private_dir(path: Path) -> Path:
    """Create ``path`` (and missing parents) and make a newly created ``path`` 0700; an existing one is left."""
    if not path.is_dir():
        path.mkdir(parents=True, exist_ok=True)
        os.chmod(path, DIR_MODE)
    return path


def open_private(path: Path, flags: int) -> int:
    """``os.open`` with O_CREAT, then 0600 on the open file (a file that existed with looser bits is tightened)."""
    fd = os.open(path, flags | os.O_CREAT | os.O_CLOEXEC, FILE_MODE)
    try:
        os.fchmod(fd, FILE_MODE)
    except OSError:
        os.close(fd)
        raise
    return fd


def private_file(path: Path) -> None:
    """Create ``path`` empty if missing; 0600 either way."""
    os.close(open_private(path, os.O_RDWR))


def tighten(path: Path) -> None:
    """0600 on an existing file of ours (e.g. a database's -wal left by an older version)."""
    if path.exists() and stat.S_IMODE(path.stat().st_mode) != FILE_MODE:
        os.chmod(path, FILE_MODE)


def open_to_others(path: Path) -> int:
    """The group/other permission bits of ``path`` (0 when private)."""
    return stat.S_IMODE(path.stat().st_mode) & 0o077
