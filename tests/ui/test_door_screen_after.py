"""Defect 7 (issue 12): the door screen once the door is shut, in a real window with real taps.

The door map's orange means "open, here": read from the framebuffer, the door is orange while open and no longer
once it is shut (it keeps its thick frame, so it is still easy to find)."""

from __future__ import annotations

from kivy.graphics.opengl import GL_RGBA, GL_UNSIGNED_BYTE, glReadPixels

from tests.ui.flows import deposit_ready, slot_of
from tests.ui.harness import Driver
from ui import theme


def _pixel(k: Driver, x: float, y: float) -> tuple[float, float, float]:
    """The colour drawn at window point (x, y), 0..1, from the frame just drawn."""
    k.app.root.get_root_window().canvas.ask_update()
    k.frames(3)
    r, g, b, _a = glReadPixels(int(x), int(y), 1, 1, GL_RGBA, GL_UNSIGNED_BYTE)
    return r / 255, g / 255, b / 255


def _door_fill(k: Driver, label: str) -> tuple[float, float, float]:
    """The fill colour of a door on the map, sampled inside its frame and away from its label."""
    view = k.app.screen.ids.cabinet
    _slot, x, y, _w, _h = next(r for r in view.rects() if r[0].label == label)
    return _pixel(k, *view.to_window(x + 12, y + 12))


def _near(c: tuple[float, float, float], want: tuple[float, ...]) -> bool:
    return all(abs(a - b) < 0.03 for a, b in zip(c, want[:3], strict=True))


def _pick_up(k: Driver) -> str:
    code, label = deposit_ready(k)
    k.tap_id("btn_pickup")
    k.keys(k.app.screen.ids.numpad, code)
    k.tap_id("btn_open")
    k.wait_for(lambda: k.app.sm.current == "door", what="the door screen")
    return label


def test_a_shut_door_is_no_longer_orange_on_the_door_map(k: Driver) -> None:
    label = _pick_up(k)
    door = k.app.screen
    k.settle()
    k.wait_for(
        lambda: _near(_door_fill(k, label), theme.DOOR_OPEN), timeout=5, what="the open door in orange"
    )
    sim, b, ch = slot_of(k, label)
    sim.take_item(b, ch)
    sim.close_door(b, ch)
    k.wait_for(lambda: door.closed, what="the door to read closed")
    k.settle()
    # Drawn as shut, like the other doors (a door still orange times out here).
    k.wait_for(lambda: _near(_door_fill(k, label), theme.DOOR), timeout=5, what="the shut door drawn as shut")
    assert not _near(_door_fill(k, label), theme.DOOR_OPEN)


def test_door_did_not_open_then_worked_settles_its_task(k: Driver) -> None:
    """ "柜门没有打开？" raises a staff task; when the door then opens and the parcel is taken, the task is settled
    by the kiosk (staff are not sent to a door that works) and the help band goes."""
    label = _pick_up(k)
    door = k.app.screen
    k.tap_id("btn_not_open")
    assert door.help_shown
    task = k.wait_for(
        lambda: next(
            (t for t in k.rt.parts.cabinet.tasks() if t.kind == "reported_problem" and t.label == label), None
        ),
        what="the staff task",
    )
    assert task.flow_id == door.handle.flow_id
    sim, b, ch = slot_of(k, label)
    sim.take_item(b, ch)
    sim.close_door(b, ch)
    k.wait_for(lambda: door.closed, what="the door to read closed")
    assert door.result.outcome == "picked_up"
    k.wait_for(
        lambda: all(t.id != task.id for t in k.rt.parts.cabinet.tasks()), what="the task to be settled"
    )
    done = next(t for t in k.rt.parts.cabinet.tasks(open_only=False) if t.id == task.id)
    assert done.resolved_at is not None and done.resolved_by == "kiosk"
    assert not door.help_shown and door.ids.help.height == 0
