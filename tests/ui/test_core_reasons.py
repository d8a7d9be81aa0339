"""The staff collect screen offers the core's take-back reasons, not a copy (issue 16, item 2)."""

from __future__ import annotations

from kiosk.cabinet.flows import COLLECT_REASONS
from ui.screens.staff_collect import TAKE_BACK_REASONS


def test_the_staff_screen_offers_the_cores_take_back_reasons() -> None:
    assert TAKE_BACK_REASONS is COLLECT_REASONS
