"""``kiosk run [--windowed] [--screenshot-dir DIR]``: the touch UI on the configured (or simulated) devices."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from hallkiosk.cli.common import config_of
from kiosk.config import Config


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run", help="start the touch UI")
    p.add_argument(
        "--windowed", action="store_true", help="a window instead of fullscreen kiosk mode (development)"
    )
    p.add_argument(
        "--screenshot-dir",
        metavar="DIR",
        type=Path,
        help="save a screenshot at every screen change (and latest.png every 5 s) into DIR",
    )
    p.set_defaults(func=_run)


def build_touch_app(cfg: Config, **kw: Any) -> Any:
    """The touch UI's KioskApp on a runtime built here (not yet running): the one way to build the app, for
    ``kiosk run``, the UI tests and the benches. ``kw``: ui.main.build_app's (windowed, screenshot_dir, idle_clock)."""
    from hallkiosk.runtime import Runtime
    from ui.main import build_app

    return build_app(Runtime(cfg), **kw)


def _run(args: argparse.Namespace) -> int:
    cfg = config_of(args)
    from hallkiosk.instance import InstanceLock
    from hallkiosk.runtime import Runtime
    from kiosk.logsetup import log_to_dir
    from ui.main import run

    # A second kiosk (or a CLI command holding the cabinet) is refused before any window opens.
    lock = InstanceLock(cfg.data_dir)
    lock.acquire(wait_s=10)  # a technician's CLI command may be just finishing
    try:
        log_to_dir(cfg.data_dir / "logs")
        return run(Runtime(cfg), windowed=args.windowed, screenshot_dir=args.screenshot_dir)
    finally:
        lock.release()
