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
            if h not in before:
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


def test_stderr_handler_follows_sys_stderr(monkeypatch) -> None:
    """A stream replaced and closed after set-up (a test capture, a detached daemon) must not break logging."""
    import io
    import threading

    from kiosk.logsetup import _StderrHandler

    first, second = io.StringIO(), io.StringIO()
    monkeypatch.setattr("sys.stderr", first)
    h = _StderrHandler()
    logger = logging.getLogger("kiosk.test.stderr")
    logger.addHandler(h)
    logger.propagate = False
    try:
        first.close()
        monkeypatch.setattr("sys.stderr", second)
        errors: list[BaseException] = []

        def log_from_a_thread() -> None:
            try:
                logger.warning("reader back")
            except BaseException as err:
                errors.append(err)

        t = threading.Thread(target=log_from_a_thread)
        t.start()
        t.join()
        assert errors == []
        assert "reader back" in second.getvalue()
    finally:
        logger.removeHandler(h)
        logger.propagate = True
