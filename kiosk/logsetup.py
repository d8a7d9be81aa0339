"""Logging set up once: one logger per module, ID numbers scrubbed from every record."""

from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path

from kiosk.privacy import ScrubbingFilter

_FORMAT = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
_done = False


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
    _attach(logging.StreamHandler())
    # zeep logs whole envelopes at DEBUG; they can carry ID numbers.
    logging.getLogger("zeep").setLevel(logging.WARNING)


def log_to_dir(log_dir: Path, level: str = "INFO") -> Path | None:
    """Also keep rotating logs in ``log_dir/kiosk.log`` (what the support bundle collects); None if not writable."""
    path = log_dir / "kiosk.log"
    try:
        log_dir.mkdir(parents=True, exist_ok=True)
        handler = logging.handlers.RotatingFileHandler(path, maxBytes=5_000_000, backupCount=5, encoding="utf-8")
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
