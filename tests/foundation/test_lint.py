"""The tree is ruff clean (rules in pyproject.toml)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_ruff_clean() -> None:
    exe = shutil.which("ruff") or str(Path(sys.executable).with_name("ruff"))
    r = subprocess.run(
        [exe, "check", "--output-format", "concise", "."],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stdout + r.stderr


def test_ruff_formatted() -> None:
    """Lines wrap at 110 columns by one rule (``ruff format``), not by each author's taste."""
    exe = shutil.which("ruff") or str(Path(sys.executable).with_name("ruff"))
    r = subprocess.run([exe, "format", "--check", "."], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, "run `ruff format .`:\n" + r.stdout + r.stderr
