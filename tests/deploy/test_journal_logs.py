"""Logs go to the journal under systemd (JOURNAL_STREAM names stderr) and to capped rotating files otherwise.

journald itself is not running here: the test hands the child a file as stderr and sets JOURNAL_STREAM to that
file's device:inode, which is exactly how systemd tells a service its stderr is the journal."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO

CHILD = """
import logging, sys
from pathlib import Path
from kiosk.logsetup import setup_logging, log_to_dir
setup_logging("WARNING")
print(log_to_dir(Path(sys.argv[1])), flush=True)
logging.getLogger("kiosk.demo").info("door A01 opened")
logging.getLogger("kiosk.demo").warning("printer out of paper")
"""


def _child(tmp_path: Path, journal: bool) -> tuple[str, str]:
    err = tmp_path / "stderr"
    with err.open("wb") as f:
        st = os.fstat(f.fileno())
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        env["JOURNAL_STREAM"] = f"{st.st_dev}:{st.st_ino}" if journal else f"{st.st_dev}:{st.st_ino + 1}"
        out = subprocess.run(
            [sys.executable, "-c", CHILD, str(tmp_path / "logs")],
            stderr=f,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
            timeout=60,
            check=True,
        ).stdout
    return out.strip(), err.read_text()


def test_under_systemd_the_journal_gets_priorities_and_no_file_is_written(tmp_path: Path) -> None:
    ret, err = _child(tmp_path, journal=True)
    assert ret == "None" and not (tmp_path / "logs").exists()
    assert "<6>kiosk.demo: door A01 opened" in err.splitlines()
    assert "<4>kiosk.demo: printer out of paper" in err.splitlines()


def test_elsewhere_rotating_files_with_a_cap(tmp_path: Path) -> None:
    """A JOURNAL_STREAM inherited for another stream (a shell started from a service) does not count."""
    from kiosk.logsetup import LOG_FILE_BYTES, LOG_FILES

    ret, err = _child(tmp_path, journal=False)
    assert ret == str(tmp_path / "logs" / "kiosk.log")
    text = (tmp_path / "logs" / "kiosk.log").read_text()
    assert "INFO kiosk.demo: door A01 opened" in text and "<6>" not in err
    assert LOG_FILE_BYTES * (LOG_FILES + 1) <= 32_000_000
