"""Logging set up once: one logger per module, ID numbers scrubbed from every record."""

from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path

from kiosk.privacy import ScrubbingFilter

_done = False


def setup_logging(level: str = "INFO", log_dir: Path | None = None) -> None:
    global _done
    if _done:
        return
    _done = True
    root = logging.getLogger()
    root.setLevel(level)
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    handlers: list[logging.Handler] = [logging.StreamHandler()]
    if log_dir is not None:
        try:
            log_dir.mkdir(parents=True, exist_ok=True)
            handlers.append(
                logging.handlers.RotatingFileHandler(log_dir / "kiosk.log", maxBytes=5_000_000, backupCount=5, encoding="utf-8")
            )
        except OSError as err:
            logging.getLogger(__name__).warning("cannot write logs to %s: %s", log_dir, err.strerror)
    for h in handlers:
        h.setFormatter(fmt)
        h.addFilter(ScrubbingFilter())
        root.addHandler(h)
    # zeep logs whole envelopes at DEBUG; they can carry ID numbers.
    logging.getLogger("zeep").setLevel(logging.WARNING)
