"""``kiosk --version``: the installed distribution's version, from its metadata."""

import importlib.metadata
import subprocess
import sys

import kiosk


def test_version_flag_prints_the_installed_version() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "hallkiosk.cli", "--version"], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    meta = importlib.metadata.version("hall-kiosk")
    assert out.stdout.strip() == f"kiosk (Hall Kiosk) {meta}"
    assert meta == kiosk.__version__  # setup.cfg takes it from kiosk.__version__: one fact
