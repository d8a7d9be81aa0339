"""Log files: written where the support bundle looks, ID numbers masked whatever a caller passes."""

from __future__ import annotations

import logging
from pathlib import Path

from kiosk.logsetup import log_to_dir


def test_log_file_masks_id_numbers(tmp_path: Path) -> None:
    root = logging.getLogger()
    before = list(root.handlers)
    try:
        path = log_to_dir(tmp_path / "logs")
        assert path == tmp_path / "logs" / "kiosk.log"
        logging.getLogger("kiosk.test").info("card read for %s at %s", "11010519491231002X", "reader 0")
        logging.getLogger("kiosk.test").warning("raw 110105194912310021 inside text")
        for h in root.handlers:
            h.flush()
        text = path.read_text(encoding="utf-8")
        assert "11010519491231002X" not in text and "110105194912310021" not in text
        assert "110105********002X" in text and "110105********0021" in text
    finally:
        for h in root.handlers[:]:
            if h not in before:
                root.removeHandler(h)
                h.close()


def test_unwritable_log_dir_is_reported_not_fatal(tmp_path: Path, caplog) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert log_to_dir(blocker / "logs") is None
    assert "cannot write logs" in caplog.text
