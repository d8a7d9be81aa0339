"""``run_cli(cfg, *args)``: the ``kiosk`` command line as a technician runs it, in this process or its own."""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class CliResult:
    code: int
    out: str
    err: str


def run_cli(
    cfg: str | Path | None,
    *args: str,
    own_process: bool = False,
    env: dict[str, str] | None = None,
    timeout_s: float = 60,
) -> CliResult:
    """``kiosk [--config cfg] args...``: its exit code and what it printed.

    In this process by default (fast; monkeypatched environment applies). ``own_process=True`` runs
    ``python -m hallkiosk.cli`` as a separate process: for what only a real process shows (a traceback on stderr,
    exit codes from start-up, locks held by another process)."""
    argv = (["--config", str(cfg)] if cfg is not None else []) + list(args)
    if own_process:
        r = subprocess.run(
            [sys.executable, "-m", "hallkiosk.cli", *argv],
            capture_output=True,
            text=True,
            timeout=timeout_s,
            cwd=REPO,
            env={**os.environ, **(env or {})},
        )
        return CliResult(r.returncode, r.stdout, r.stderr)
    from hallkiosk.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return CliResult(code, out.getvalue(), err.getvalue())
