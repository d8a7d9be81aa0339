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
_window_scale = 1.0  # the window's size over the configured one (a window scaled down to fit the display)
SCREEN_MARGIN_PX = 80  # left for the desktop's panels and the window's title bar when fitting a window


def window_scale() -> float:
    """How much the window was scaled to fit the display (1.0: as configured); sizes in mm scale with it."""
    return _window_scale


def fit_scale(size: tuple[int, int], screen: tuple[int, int], margin: int = SCREEN_MARGIN_PX) -> float:
    """The factor (at most 1) that fits a window of ``size`` on ``screen``, keeping its aspect."""
    w, h = size
    sw, sh = screen
    return max(0.1, min(1.0, sw / w, (sh - margin) / h))


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
    width, height = ui.width, ui.height
    screen = x_screen_size() if fullscreen else None
    if screen is not None:
        # The kiosk session has no window manager, and SDL's fullscreen asks the window manager
        # (_NET_WM_STATE_FULLSCREEN): without one the window stays at its configured size, centred. A borderless
        # window placed at 0,0 with the screen's size is fullscreen with or without a window manager.
        width, height = screen
        Config.set("graphics", "fullscreen", "0")
        Config.set("graphics", "position", "custom")
        Config.set("graphics", "left", "0")
        Config.set("graphics", "top", "0")
    else:
        Config.set("graphics", "fullscreen", "auto" if fullscreen else "0")
        if not fullscreen and not windowed:
            # A kiosk config run in a window on a smaller display (`make run` on a laptop): the 1080x1920 window
            # would be clipped. Scale it to fit, keeping the aspect; window_scale() scales every size with it.
            global _window_scale
            shown = x_screen_size()
            _window_scale = fit_scale((width, height), shown) if shown is not None else 1.0
            width, height = round(width * _window_scale), round(height * _window_scale)
    Config.set("graphics", "borderless", "1" if fullscreen else "0")
    Config.set("graphics", "width", str(width))
    Config.set("graphics", "height", str(height))
    Config.set("graphics", "resizable", "0")
    Config.set("graphics", "show_cursor", "0" if fullscreen else "1")  # a touch screen needs no pointer
    Config.set("graphics", "allow_screensaver", "0")  # a kiosk that blanks looks broken
    Config.set("graphics", "multisamples", "0")  # Mesa under Xvfb is faster and identical without MSAA
    Config.set("kivy", "exit_on_escape", "0")  # a USB keyboard left plugged in must not close the kiosk
    Config.set("kivy", "keyboard_mode", "system")  # our own on-screen keypads; never Kivy's floating keyboard
    # A mouse click is a touch; right-click must not leave multitouch red dots on the screen.
    Config.set("input", "mouse", "mouse,disable_multitouch")
    log.info("kivy configured: %s, %dx%d", "fullscreen" if fullscreen else "windowed", width, height)
    return font


def x_screen_size() -> tuple[int, int] | None:
    """The X screen's size in pixels (libX11 through ctypes), or None without X (Wayland, framebuffer, no libX11)."""
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("X11")
    if not name or not os.environ.get("DISPLAY"):
        return None
    try:
        x11 = ctypes.CDLL(name)
    except OSError:
        return None
    x11.XOpenDisplay.restype = ctypes.c_void_p
    x11.XOpenDisplay.argtypes = [ctypes.c_char_p]
    x11.XDefaultScreen.argtypes = [ctypes.c_void_p]
    x11.XDisplayWidth.argtypes = x11.XDisplayHeight.argtypes = [ctypes.c_void_p, ctypes.c_int]
    x11.XCloseDisplay.argtypes = [ctypes.c_void_p]
    dpy = x11.XOpenDisplay(None)
    if not dpy:
        return None
    try:
        screen = x11.XDefaultScreen(dpy)
        return int(x11.XDisplayWidth(dpy, screen)), int(x11.XDisplayHeight(dpy, screen))
    finally:
        x11.XCloseDisplay(dpy)


def register_font(font: Path) -> None:
    """Make the CJK font Kivy's default, so every Label can show Chinese without naming a font."""
    from kivy.core.text import DEFAULT_FONT, LabelBase

    LabelBase.register(FONT_NAME, str(font))
    LabelBase.register(DEFAULT_FONT, str(font))
