"""Defect 7 (issue 12): at least 4 mm between neighbouring buttons (stacked or side by side), so a finger that
misses one does not press the next; measured in the real window on the citizen, staff and technician screens,
keypads included."""

from __future__ import annotations

from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.widget import Widget

from tests.ui.conftest import STAFF_BADGE, TECH_PIN
from tests.ui.flows import badge
from tests.ui.harness import Driver, walk
from ui.theme import GAP_MM

MM = 25.4


def _boxes(k: Driver) -> list[tuple[Widget, float, float, float, float]]:
    out = []
    for w in walk(k.app.root):
        if (
            isinstance(w, ButtonBehavior)
            and w.opacity > 0
            and w.height > 1
            and w.width > 1
            and not w.disabled
        ):
            x0, y0 = w.to_window(w.x, w.y)
            x1, y1 = w.to_window(w.right, w.top)
            out.append((w, x0, y0, x1, y1))
    return out


def _inside(a: Widget, b: Widget) -> bool:
    p = b.parent
    while p is not None and p is not p.parent:
        if p is a:
            return True
        p = p.parent
    return False


def _too_close(k: Driver, where: str) -> list[str]:
    k.settle()
    need = k.app.cfg.ui.screen_dpi * GAP_MM / MM - 0.5
    boxes = _boxes(k)
    bad = []
    for i, (a, ax0, ay0, ax1, ay1) in enumerate(boxes):
        for b, bx0, by0, bx1, by1 in boxes[i + 1 :]:
            if _inside(a, b) or _inside(b, a):
                continue  # a toggle inside a row is part of the row
            over_x = min(ax1, bx1) - max(ax0, bx0)
            over_y = min(ay1, by1) - max(ay0, by0)
            if over_x > 0 and over_y > 0:
                continue  # overlapping: one lies over the other (a dialog), not a neighbour
            if over_x > 0:
                gap = max(by0 - ay1, ay0 - by1)  # one above the other
            elif over_y > 0:
                gap = max(bx0 - ax1, ax0 - bx1)  # side by side
            else:
                continue
            if gap < need:
                ta, tb = (
                    getattr(a, "text", "") or getattr(a, "title", ""),
                    getattr(b, "text", "") or getattr(b, "title", ""),
                )
                bad.append(f"{where}: {ta[:20]!r} / {tb[:20]!r}: {gap / need * GAP_MM:.1f} mm")
    return bad


def test_neighbouring_buttons_are_at_least_4_mm_apart(k: Driver) -> None:
    bad = _too_close(k, "start")
    k.tap_id("btn_pickup")
    bad += _too_close(k, "pickup")
    k.app.start_again()
    k.tap_id("btn_matters")
    bad += _too_close(k, "identify")
    k.app.start_again()
    k.app.go("matters")
    k.wait_for(lambda: k.app.screen.ids.rows.children, what="the catalog")
    bad += _too_close(k, "matters")
    k.tap_id("search_box")
    bad += _too_close(k, "matters typing")
    k.app.start_again()
    badge(k, STAFF_BADGE)
    k.wait_for(lambda: k.app.sm.current == "staff", what="staff mode")
    bad += _too_close(k, "staff")
    k.app.reset_session()
    k.tap_id("btn_staff")
    bad += _too_close(k, "pin")
    k.keys(k.app.screen.ids.numpad, TECH_PIN)
    k.tap_id("btn_ok")
    assert k.app.sm.current == "tech"
    bad += _too_close(k, "tech")
    k.app.reset_session()
    assert not bad, f"{len(bad)} pairs of buttons closer than {GAP_MM} mm:\n" + "\n".join(bad[:40])
