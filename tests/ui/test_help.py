"""呼叫帮助 / Get help: the button on every citizen screen raises a staff task and shows who answers.

Real window, real taps, the real SOAP platform simulator (RequestAssistance) and the kiosk's real database; the
task is checked where staff see it: the staff screen and `kiosk cabinet tasks`.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys

from kiosk.clock import StaffedHours, local
from kiosk.help import TASK_HELP_REQUEST
from tests.ui.conftest import shot
from tests.ui.harness import REPO, Driver

CITIZEN_SCREENS = ("start", "identify", "matters", "pickup", "dropoff", "cases", "rate")


def _help_tasks(k: Driver) -> list:
    return [t for t in k.rt.staff.tasks() if t.kind == TASK_HELP_REQUEST]


def _header(k: Driver) -> object:
    return k.app.root.ids


def _always_staffed(k: Driver) -> None:
    k.rt.parts.help.hours = StaffedHours(dt.time(0, 0), dt.time(23, 59))


def _never_staffed(k: Driver) -> None:
    now = local(k.rt.app.clock)
    # staffed for one minute two hours from now (or earlier on a late evening): "now" is after hours
    start = (now + dt.timedelta(hours=2)).time().replace(second=0, microsecond=0)
    if start < now.time():
        start = dt.time(0, 0) if now.time() > dt.time(0, 1) else dt.time(23, 0)
    k.rt.parts.help.hours = StaffedHours(
        start, (dt.datetime.combine(now.date(), start) + dt.timedelta(minutes=1)).time()
    )
    assert k.rt.parts.help.phase() == "night"


def test_the_button_is_on_every_citizen_screen_and_never_on_staff_screens(k: Driver) -> None:
    btn = _header(k).help_btn
    for name in CITIZEN_SCREENS:
        k.app.go(name)
        k.frames(3)
        assert btn.opacity == 1 and not btn.disabled and btn.width >= k.app.min_target_px(), name
        assert btn.text == "呼叫帮助"
    k.app.enter_staff("staff", "04A1B2C3D4")
    k.frames(3)
    assert btn.opacity == 0 and btn.disabled and btn.width == 0


def test_help_raises_one_task_shows_the_answer_and_goes_back(k: Driver) -> None:
    _always_staffed(k)
    before = {t.id for t in _help_tasks(k)}
    k.tap_id("btn_pickup", "start")
    k.wait_for(lambda: k.app.sm.current == "pickup", what="the pickup screen")
    k.keys(k.app.screen.ids.numpad, "12")
    typed = k.app.screen.ids.code_display.text
    k.tap(_header(k).help_btn)
    scr = k.wait_for(
        lambda: k.app.sm.current == "help" and k.app.screen.state == "answered" and k.app.screen,
        what="the platform's answer",
    )
    new = [t for t in _help_tasks(k) if t.id not in before]
    assert len(new) == 1
    task = new[0]
    assert task.detail == f"kiosk {k.app.cfg.kiosk.id}, screen pickup, topic PICKUP"
    assert scr.outcome.answer.reached and scr.outcome.task_id == task.id
    status = scr.ids.status.text
    assert (
        f"求助编号 {task.id}" in status
        and k.t(scr.outcome.answer.text_key, hotline="x").split("x")[0] in status
    )
    assert "12345" in scr.ids.city.text and k.app.cfg.help.hotline in scr.ids.hall_line.text
    shot(k, "help")
    k.app.set_language("en")
    k.frames(3)
    assert "request no." in scr.ids.status.text and "12345" in scr.ids.city.text
    shot(k, "help")
    k.app.set_language("zh")
    # An anxious second tap: the same request, reminded, no second task.
    k.tap(_header(k).help_btn)
    k.wait_for(lambda: scr.state == "answered" and scr.outcome.repeated, what="the repeated answer")
    assert len([t for t in _help_tasks(k) if t.id not in before]) == 1
    assert "已再次提醒" in scr.ids.status.text
    # Back where they were, with what they had typed.
    k.tap_id("btn_back")
    assert k.app.sm.current == "pickup"
    assert typed and k.app.screen.ids.code_display.text == typed
    # Staff see it on their screen at once, and on the command line.
    k.app.enter_staff("staff", "04A1B2C3D4")
    k.wait_for(
        lambda: any(r.title == "市民在自助机上求助" for r in k.app.screen.ids.tasks.children),
        what="the help task on the staff screen",
    )
    out = subprocess.run(
        [sys.executable, "-m", "hallkiosk.cli", "--config", k.app.cfg.source, "cabinet", "tasks"],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert f"#{task.id} " in out.stdout and "help_request" in out.stdout and "screen pickup" in out.stdout


def test_at_night_it_says_what_happens_next(k: Driver) -> None:
    _never_staffed(k)
    k.tap(_header(k).help_btn)
    scr = k.wait_for(
        lambda: k.app.sm.current == "help" and k.app.screen.state == "answered" and k.app.screen,
        what="the answer",
    )
    assert scr.outcome.phase == "night"
    assert "大厅里没有工作人员" in scr.ids.status.text and "12345" in scr.ids.status.text
    shot(k, "help_night")


def test_platform_down_shows_the_hall_hotline_and_the_request_stands(k: Driver) -> None:
    _always_staffed(k)
    before = {t.id for t in _help_tasks(k)}
    faults = k.rt.app.platform.sim.faults
    faults.http500(times=None, operation="RequestAssistance")
    try:
        k.app.go("identify")
        k.tap(_header(k).help_btn)
        scr = k.wait_for(
            lambda: k.app.sm.current == "help" and k.app.screen.state == "answered" and k.app.screen,
            timeout=30,
            what="the fallback answer",
        )
    finally:
        faults.clear()
    assert not scr.outcome.answer.reached
    assert k.app.cfg.help.hotline in scr.ids.status.text and "暂时无法联系省平台" in scr.ids.status.text
    assert [t.detail for t in _help_tasks(k) if t.id not in before] == [
        f"kiosk {k.app.cfg.kiosk.id}, screen identify, topic OTHER"
    ]
