"""Logging set up once: one logger per module, ID numbers scrubbed from every record.

Under systemd (hall-kiosk.service) stderr is the journal: records go there with their syslog priority, and
journald rotates and caps them. Elsewhere ``log_to_dir`` keeps rotating files with a size cap."""

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
LOG_FILE_BYTES = 5_000_000  # per file; LOG_FILES of them: at most 30 MB of logs in the data directory
LOG_FILES = 5
# sd-daemon(3) priority prefixes journald reads from a stream: the kiosk's WARNING shows as a warning there.
_PRIORITY = {logging.DEBUG: 7, logging.INFO: 6, logging.WARNING: 4, logging.ERROR: 3, logging.CRITICAL: 2}


class _JournalFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        prio = _PRIORITY.get(record.levelno, 6)
        # journald stamps each line itself; a multi-line record (a traceback) keeps its priority on every line.
        return "\n".join(f"<{prio}>{line}" for line in super().format(record).splitlines())


def journal_stream() -> bool:
    """True when stderr is the journal: systemd sets JOURNAL_STREAM to that stream's device:inode."""
    try:
        dev, ino = (int(x) for x in os.environ.get("JOURNAL_STREAM", "").split(":"))
        st = os.fstat(sys.stderr.fileno())
    except (ValueError, OSError, AttributeError):
        return False
    return (st.st_dev, st.st_ino) == (dev, ino)


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
        return os.fdopen(
            open_private(Path(self.baseFilename), os.O_WRONLY | os.O_APPEND),
            self.mode,
            encoding=self.encoding,
            errors=self.errors,
        )


def log_to_dir(log_dir: Path, level: str = "INFO") -> Path | None:
    """Also keep rotating logs in ``log_dir/kiosk.log`` (what the support bundle collects); None if not writable.

    Under systemd the journal is the log instead (``journalctl -u hall-kiosk``): stderr carries ``level`` with
    priorities, and no file is written (None)."""
    root = logging.getLogger()
    if journal_stream():
        for h in root.handlers:
            if isinstance(h, _StderrHandler):
                h.setFormatter(_JournalFormatter("%(name)s: %(message)s"))
                h.setLevel(level)
        if root.level > logging.getLevelName(level):
            root.setLevel(level)
        return None
    path = log_dir / "kiosk.log"
    try:
        private_dir(log_dir)
        handler = _PrivateRotatingFileHandler(
            path, maxBytes=LOG_FILE_BYTES, backupCount=LOG_FILES, encoding="utf-8"
        )
    except OSError as err:
        logging.getLogger(__name__).warning("cannot write logs to %s: %s", log_dir, err.strerror)
        return None
    handler.setLevel(level)
    if root.level > logging.getLevelName(level):
        root.setLevel(level)
        for h in root.handlers:  # stderr keeps the level the command line asked for
            if h.level == logging.NOTSET:
                h.setLevel(logging.WARNING)
    _attach(handler)
    return path
