"""One real KioskApp in a real window for the whole UI test session, on the real core and the shipped simulators."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

# Before anything imports Kivy: no argv parsing, no ~/.kivy config, quiet console.
os.environ.setdefault("KIVY_NO_ARGS", "1")
os.environ.setdefault("KIVY_USE_DEFAULTCONFIG", "1")
os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")

from kiosk.config import Config
from tests.conftest import init_kiosk
from tests.ui.harness import ARTIFACTS, REPO, Driver, FakeIdle, overflowing

TECH_PIN = "135790"
STAFF_BADGE = "04A1B2C3D4"
# A badge with a staff id ([[staff]]): the one 帮办 files under (a bare badge may sign in, not file 帮办).
ASSIST_BADGE, ASSIST_STAFF_ID = "04A1B2C3E5", "LS-STAFF-0042"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Every test here drives (or sits beside) a real Kivy window: `-m "not ui"` leaves them all out.
    for item in items:
        if "tests/ui/" in str(item.fspath).replace("\\", "/"):
            item.add_marker(pytest.mark.ui)


def _config(tmp: Path) -> Config:
    text = (REPO / "kiosk" / "default.toml").read_text(encoding="utf-8")
    text = text.replace(
        'data_dir = "~/.local/share/hall-kiosk"',
        f'data_dir = "{tmp / "data"}"\ninactivity_warning_s = 10\ninactivity_countdown_s = 5',
    )
    text = re.sub(r"(?m)^staff_badges = .*$", f'staff_badges = ["{STAFF_BADGE}"]', text)
    # The voice speaks into timestamped WAV files (no sound card here): the voice bar shows, as on a kiosk.
    text += f'\n[voice]\noutput = "wav"\nwav_dir = "{tmp / "voice"}"\n'

    assert STAFF_BADGE in text
    text += f'\n[[staff]]\nbadge = "{ASSIST_BADGE}"\nid = "{ASSIST_STAFF_ID}"\n'
    p = tmp / "kiosk.toml"
    p.write_text(text, encoding="utf-8")
    return init_kiosk(p)


@pytest.fixture(scope="session")
def kiosk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Driver]:
    if not os.environ.get("DISPLAY"):
        if os.environ.get("CI"):
            pytest.fail("no DISPLAY: the UI tests run under xvfb-run (make test)")
        pytest.skip("no DISPLAY: run under xvfb-run, as make test does")
    os.environ["KIOSK_TECH_PIN"] = TECH_PIN
    os.environ.pop("KIOSK_STAFF_PIN", None)
    cfg = _config(tmp_path_factory.mktemp("kiosk"))
    from kivy.base import runTouchApp, stopTouchApp

    from hallkiosk.cli.run import build_touch_app

    idle = FakeIdle()
    app = build_touch_app(cfg, windowed=True, idle_clock=idle)
    app._run_prepare()  # build, add the root to the window, on_start (starts the runtime)
    runTouchApp(embedded=True)  # input providers and the event loop, which the test then steps frame by frame
    drv = Driver(app, idle)
    drv.wait_for(lambda: app.rt.ready, timeout=60, what="the core to start (after the first frame)")
    assert app.rt.start_error is None, app.rt.start_error
    drv.settle()
    drv.wait_for(lambda: app.rt.platform_status.reachable, what="the first heartbeat")
    if ARTIFACTS.exists():
        shutil.rmtree(ARTIFACTS)
    yield drv
    app.stop()
    stopTouchApp()


@pytest.fixture
def k(kiosk: Driver) -> Iterator[Driver]:
    """Each test starts on the start screen with a blank session, no card on the reader and no wrong PINs."""
    kiosk.rt.clear_pin_lockout()
    kiosk.rt.parts.cabinet.clear_lockout(
        actor="test:fixture"
    )  # wrong codes of earlier tests must not make this one wait
    kiosk.clear_reader()
    kiosk.go_start()
    kiosk.app.set_language("zh")
    yield kiosk
    kiosk.clear_reader()


def shot(d: Driver, name: str) -> Path:
    """Screenshot of the current screen in the current language, after checking no text overflows."""
    from ui.shots import grab

    d.settle()
    bad = overflowing(d.app.root, d.app.root.width)
    for w in d.app.root.get_root_window().children:
        if w is not d.app.root:
            bad += overflowing(w, d.app.root.width)
    assert not bad, f"text overflows on {name} ({d.app.lang}):\n" + "\n".join(bad)
    return grab(ARTIFACTS / f"{name}-{d.app.lang}.png")
