"""Logging set up once: one logger per module, ID numbers scrubbed from every record."""

from __future__ import annotations

import logging
import logging.handlers
import os
import sys
from pathlib import Path

from kiosk.filemodes import open_private, private_dir
from kiosk.privacy import ScrubbingFilter

_FORMAT = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
_done = False


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is at the time of each record, never to a stream captured once.

    A handler bound at set-up to a stream that is later replaced and closed (a test runner's capture, a
    daemon detaching) would raise in whichever thread logs next, killing a card reader's watcher.
    """

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property  # type: ignore[override]
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value: object) -> None:
        pass


def _attach(handler: logging.Handler) -> None:
    handler.setFormatter(_FORMAT)
    handler.addFilter(ScrubbingFilter())
    logging.getLogger().addHandler(handler)


def setup_logging(level: str = "INFO") -> None:
    """Log to stderr at ``level``; idempotent."""
    global _done
    if _done:
        return
    _done = True
    logging.getLogger().setLevel(level)
    _attach(_StderrHandler())
    # zeep logs whole envelopes at DEBUG; they can carry ID numbers.
    logging.getLogger("zeep").setLevel(logging.WARNING)


class _PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """Every log file, the rotated ones' successors too, 0600 whatever the umask (logs name cases and compartments)."""

    def _open(self):  # type: ignore[no-untyped-def]
        return os.fdopen(open_private(Path(self.baseFilename), os.O_WRONLY | os.O_APPEND), self.mode,
                         encoding=self.encoding, errors=self.errors)


def log_to_dir(log_dir: Path, level: str = "INFO") -> Path | None:
    """Also keep rotating logs in ``log_dir/kiosk.log`` (what the support bundle collects); None if not writable."""
    path = log_dir / "kiosk.log"
    try:
        private_dir(log_dir)
        handler = _PrivateRotatingFileHandler(path, maxBytes=5_000_000, backupCount=5, encoding="utf-8")
    except OSError as err:
        logging.getLogger(__name__).warning("cannot write logs to %s: %s", log_dir, err.strerror)
        return None
    handler.setLevel(level)
    root = logging.getLogger()
    if root.level > logging.getLevelName(level):
        root.setLevel(level)
        for h in root.handlers:  # stderr keeps the level the command line asked for
            if h.level == logging.NOTSET:
                h.setLevel(logging.WARNING)
    _attach(handler)
    return path
