"""Where the card goes: the reader drawn with a card moving onto it, on every screen that waits for a card.

One drawing per kind of citizen reader the kiosk has: a flat pad for the resident ID card (GA 467 readers and
their simulator) and a slot for the social security card (PC/SC). The card steps between "above" and "on the
reader", only while the picture is on the window (a screen not shown costs nothing), and stands still where a
keypad is.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from kivy.app import App
from kivy.clock import Clock
from kivy.lang import Builder
from kivy.properties import BooleanProperty, NumericProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.widget import Widget

_KV = Path(__file__).with_suffix(".kv")
STEP_S = 0.6  # the card's step: slow enough to follow, few redraws
PLACE_OF_KIND = {"ga467": "pad", "sim": "pad", "pcsc": "slot"}


def card_places(readers: Iterable[Any]) -> list[str]:
    """The places a citizen's card can go at this kiosk ("pad", "slot"), each once, in the configured order."""
    out: list[str] = []
    for r in readers:
        place = PLACE_OF_KIND.get(r.kind)
        if r.role != "staff" and place and place not in out:
            out.append(place)
    return out or ["pad"]


class CardDrawing(Widget):
    """The reader and the card (drawn in card_where.kv)."""

    s = NumericProperty(0)  # the drawing's size
    by = NumericProperty(0)  # its bottom


class CardPlace(BoxLayout):
    """One reader drawn (kv) with the card at ``drop`` (0 above it, 1 on it), and what to do in words."""

    place = StringProperty("pad")
    drop = NumericProperty(0.5)  # half-way down: how a still picture shows it


class CardWherePicture(BoxLayout):
    """The card places side by side; fills the spare area it is given."""

    # False: the card drawn on its way down, still. A screen with a keypad keeps it still: each step is a whole
    # frame to draw, and a tap that lands during one waits for it (bench/bench_touch_frame.py).
    animate = BooleanProperty(True)

    def on_kv_post(self, _base: Any) -> None:
        app = App.get_running_app()
        for place in card_places(app.cfg.card_readers if app is not None else ()):
            self.add_widget(CardPlace(place=place))
        Clock.schedule_interval(self._step, STEP_S)

    def _step(self, _dt: float) -> None:
        if not self.animate or self.get_root_window() is None or self.opacity == 0:
            return
        for c in self.children:
            c.drop = 0.0 if c.drop == 1.0 else 1.0


if str(_KV) not in Builder.files:
    Builder.load_file(str(_KV))
