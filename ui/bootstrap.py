"""Kiosk settings that must be in place before Kivy creates its window, and the CJK font.

Call :func:`configure` before anything imports ``kivy.core.window`` (importing
``ui.app`` does): fullscreen, no cursor, Escape does not exit, no screensaver,
fixed size. ``windowed`` is for development and the tests.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from drivers.printer.fonts import find_cjk_font
from kiosk.config import UiConfig

log = logging.getLogger(__name__)
FONT_NAME = "KioskCJK"

_configured = False


def configure(ui: UiConfig, *, windowed: bool = False) -> Path:
    """Apply the kiosk's Kivy settings and return the CJK font file (ConfigError when there is none)."""
    global _configured
    # Find the font first: a missing font must stop start-up before a window flashes on the screen.
    font = find_cjk_font(ui.font)
    if _configured:
        return font
    _configured = True
    # Kivy parses sys.argv and writes ~/.kivy/config.ini unless told not to; the kiosk owns both.
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    os.environ.setdefault("KIVY_NO_FILELOG", "1")
    os.environ.setdefault("KIVY_LOG_MODE", "MIXED")
    from kivy.config import Config

    fullscreen = ui.fullscreen and not windowed
    Config.set("graphics", "fullscreen", "auto" if fullscreen else "0")
    Config.set("graphics", "borderless", "1" if fullscreen else "0")
    Config.set("graphics", "width", str(ui.width))
    Config.set("graphics", "height", str(ui.height))
    Config.set("graphics", "resizable", "0")
    Config.set("graphics", "show_cursor", "0" if fullscreen else "1")  # a touch screen needs no pointer
    Config.set("graphics", "allow_screensaver", "0")  # a kiosk that blanks looks broken
    Config.set("graphics", "multisamples", "0")  # Mesa under Xvfb is faster and identical without MSAA
    Config.set("kivy", "exit_on_escape", "0")  # a USB keyboard left plugged in must not close the kiosk
    Config.set("kivy", "keyboard_mode", "system")  # our own on-screen keypads; never Kivy's floating keyboard
    # A mouse click is a touch; right-click must not leave multitouch red dots on the screen.
    Config.set("input", "mouse", "mouse,disable_multitouch")
    log.info("kivy configured: %s, %dx%d", "fullscreen" if fullscreen else "windowed", ui.width, ui.height)
    return font


def register_font(font: Path) -> None:
    """Make the CJK font Kivy's default, so every Label can show Chinese without naming a font."""
    from kivy.core.text import DEFAULT_FONT, LabelBase

    LabelBase.register(FONT_NAME, str(font))
    LabelBase.register(DEFAULT_FONT, str(font))
