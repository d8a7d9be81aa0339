"""Lists relaid out for months leave no bound callbacks behind (issue 16, item 9)."""

from __future__ import annotations

from pathlib import Path

from kivy.uix.scrollview import ScrollView
from kivy.uix.widget import Widget

from tests.ui.harness import REPO, Driver, walk
from ui.widgets import KScrollView


def _bar_bindings(sv: ScrollView) -> int:
    return len(sv.get_property_observers("bar_color")) + len(sv.get_property_observers("bar_inactive_color"))


def _relayout(k: Driver, sv: ScrollView, times: int) -> None:
    # Faster than the bar's half-second fade, as a language toggle rebuilding every row is.
    for i in range(times):
        sv.width = 300 + i % 7
        sv.update_from_scroll()
    k.frames(2)


def test_relayout_leaves_one_bar_binding_where_kivys_own_piles_them_up(k: Driver) -> None:
    window = k.app.root.get_root_window()
    plain, ours = ScrollView(size_hint=(None, None)), KScrollView(size_hint=(None, None))
    for sv in (plain, ours):
        sv.add_widget(Widget(size_hint_y=None, height=2000))
        window.add_widget(sv)
    try:
        _relayout(k, plain, 200)
        _relayout(k, ours, 200)
        assert _bar_bindings(plain) > 100, "Kivy's ScrollView no longer leaks: KScrollView may be dropped"
        assert _bar_bindings(ours) <= 1
        _relayout(k, ours, 200)
        assert _bar_bindings(ours) <= 1
    finally:
        for sv in (plain, ours):
            window.remove_widget(sv)


def test_every_screen_list_stays_flat_across_text_size_toggles(k: Driver) -> None:
    for name in list(k.app._screen_classes):
        k.app.get_screen(name)
    lists = [w for s in k.app.sm.screens for w in walk(s) if isinstance(w, ScrollView)]
    assert lists and all(type(sv) is KScrollView for sv in lists), [type(sv).__name__ for sv in lists]
    for _ in range(20):
        k.app.toggle_large_text()
        for sv in lists:
            sv.update_from_scroll()
    k.frames(2)
    assert max(_bar_bindings(sv) for sv in lists) <= 1
    if k.app.large_text:
        k.app.toggle_large_text()


def test_no_plain_scrollview_in_the_ui() -> None:
    """Every list uses KScrollView: a bare ScrollView in a .kv or .py file would bring the leak back."""
    offenders = [
        str(p.relative_to(REPO))
        for p in Path(REPO / "ui").rglob("*.kv")
        if any(line.strip() == "ScrollView:" for line in p.read_text(encoding="utf-8").splitlines())
    ]
    offenders += [
        str(p.relative_to(REPO))
        for p in Path(REPO / "ui").rglob("*.py")
        if p.name != "widgets.py" and "ScrollView(" in p.read_text(encoding="utf-8")
    ]
    assert offenders == []
