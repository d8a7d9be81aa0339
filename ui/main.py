"""Start the touch UI on a runtime it is handed: kiosk settings and font first, then the window.

The UI builds no backend: ``hallkiosk`` builds the runtime and passes it in (``hallkiosk.cli.run``); the runtime
starts its core after the first frame.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from ui import TECH_SHELL_EXIT

if TYPE_CHECKING:
    from hallkiosk.runtime import Runtime

__all__ = ["TECH_SHELL_EXIT", "build_app", "run"]

log = logging.getLogger(__name__)


def build_app(
    runtime: Runtime, *, windowed: bool = False, screenshot_dir: Path | None = None, **kw: object
) -> object:
    """Configure Kivy, register the CJK font and return a KioskApp on ``runtime`` (not yet running)."""
    from ui.bootstrap import configure, register_font

    font = configure(
        runtime.cfg.ui, windowed=windowed
    )  # ConfigError here, before any window, when no CJK font exists
    register_font(font)
    from ui.app import KioskApp
    from ui.shots import ScreenRecorder

    app = KioskApp(runtime, **kw)  # type: ignore[arg-type]
    if screenshot_dir is not None:
        app.recorder = ScreenRecorder(app, Path(screenshot_dir))
    return app


def run(runtime: Runtime, *, windowed: bool = False, screenshot_dir: Path | None = None) -> int:
    app = build_app(runtime, windowed=windowed, screenshot_dir=screenshot_dir)
    if screenshot_dir is not None:
        print(f"screenshots of each screen go to {Path(screenshot_dir).resolve()}", flush=True)
    app.run()  # type: ignore[attr-defined]
    return int(app.exit_code)  # type: ignore[attr-defined]
