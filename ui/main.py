"""Start the touch UI: kiosk settings and font first, then the window, then the runtime on the built core."""

from __future__ import annotations

import logging
from pathlib import Path

from kiosk.config import Config
from ui import TECH_SHELL_EXIT

__all__ = ["TECH_SHELL_EXIT", "build_app", "run"]

log = logging.getLogger(__name__)


def build_app(cfg: Config, *, windowed: bool = False, screenshot_dir: Path | None = None, **kw: object) -> object:
    """Configure Kivy, register the CJK font and return a KioskApp (not yet running)."""
    from ui.bootstrap import configure, register_font

    font = configure(cfg.ui, windowed=windowed)  # ConfigError here, before any window, when no CJK font exists
    register_font(font)
    from hallkiosk.runtime import Runtime
    from ui.app import KioskApp
    from ui.shots import ScreenRecorder

    app = KioskApp(Runtime(cfg), **kw)  # type: ignore[arg-type]
    if screenshot_dir is not None:
        app.recorder = ScreenRecorder(app, Path(screenshot_dir))
    return app


def run(cfg: Config, *, windowed: bool = False, screenshot_dir: Path | None = None) -> int:
    app = build_app(cfg, windowed=windowed, screenshot_dir=screenshot_dir)
    if screenshot_dir is not None:
        print(f"screenshots of each screen go to {Path(screenshot_dir).resolve()}", flush=True)
    app.run()  # type: ignore[attr-defined]
    return int(app.exit_code)  # type: ignore[attr-defined]
