"""One owner of a kiosk's hardware and open cabinet flows at a time.

The running kiosk and a technician's CLI command must never both drive the lock
bus: the second one's start-up reconciliation would see a door it cannot read
and turn the first one's open flow into a staff task. Whoever opens the buses or
the readers first holds ``<data_dir>/kiosk.lock`` (an advisory ``flock``: the
kernel releases it when the process dies, even by SIGKILL or a power cut, so a
stale lock cannot block the next start).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import os
import sys
import threading
import time
from pathlib import Path

from kiosk.errors import KioskBusy, StorageError
from kiosk.filemodes import open_private, private_dir

LOCK_NAME = "kiosk.lock"
# One descriptor per lock file per process, shared by every App in it (flock is per open file: a
# second descriptor in the same process would refuse this very process). path -> [fd, users]
_HELD: dict[Path, list[int]] = {}
_GUARD = threading.Lock()


def _forget_in_child() -> None:
    # A forked child must not think it owns the kiosk, nor keep the lock alive after its parent exits.
    for fd, _ in _HELD.values():
        with contextlib.suppress(OSError):
            os.close(fd)
    _HELD.clear()


os.register_at_fork(after_in_child=_forget_in_child)


class InstanceLock:
    """The data directory's owner lock; ``acquire`` raises :class:`KioskBusy` naming the holder."""

    def __init__(self, data_dir: Path) -> None:
        self.path = (data_dir / LOCK_NAME).resolve()
        self.held = False

    def acquire(self, wait_s: float = 0) -> None:
        """Take the lock; with ``wait_s``, keep trying that long (a CLI command may be finishing)."""
        deadline = time.monotonic() + wait_s
        while True:
            try:
                return self._acquire()
            except KioskBusy:
                if time.monotonic() >= deadline:
                    raise
                time.sleep(0.2)

    def _acquire(self) -> None:
        with _GUARD:
            if self.held:
                return
            if self.path in _HELD:
                _HELD[self.path][1] += 1
            else:
                _HELD[self.path] = [self._lock_file(), 1]
            self.held = True

    def release(self) -> None:
        with _GUARD:
            if not self.held:
                return
            self.held = False
            entry = _HELD.get(self.path)
            if entry is None:  # forgotten in a forked child
                return
            entry[1] -= 1
            if entry[1] == 0:
                del _HELD[self.path]
                os.close(entry[0])  # closing the descriptor drops the flock

    def _lock_file(self) -> int:
        try:
            private_dir(self.path.parent)
            fd = open_private(self.path, os.O_RDWR)
        except OSError as err:
            raise StorageError(
                f"cannot create the kiosk's lock file {self.path}: {err.strerror}",
                hint="The data directory must be writable by the kiosk's user.",
            ) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise self._busy() from None
        # Only the subcommand: later arguments can be a pickup code or an ID number.
        info = {
            "pid": os.getpid(),
            "since": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "command": (
                "kiosk " + next((a for a in sys.argv[1:] if a.isascii() and a.isalpha()), "")
            ).strip(),
        }
        with contextlib.suppress(OSError):  # who holds it is a courtesy (a full disk must not cost the lock)
            os.ftruncate(fd, 0)
            os.pwrite(fd, json.dumps(info).encode(), 0)
        return fd

    def holder(self) -> dict[str, object]:
        """What the holder wrote about itself (empty when unreadable)."""
        try:
            data = json.loads(self.path.read_text(encoding="utf-8") or "{}")
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def _busy(self) -> KioskBusy:
        h = self.holder()
        who = f"process {h.get('pid', '?')} ({h.get('command') or 'kiosk'}, since {h.get('since', '?')} UTC)"
        return KioskBusy(
            f"the cabinet and card readers of this kiosk are in use by {who}",
            hint="Use the staff or technician screen of the running kiosk, or stop the kiosk service first; "
            "two programs driving one lock bus would spoil each other's door openings.",
        )
