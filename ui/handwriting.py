"""The handwriting pad (手写) for Chinese fields: draw a character with a finger, then tap it among the candidates.

Candidates follow each stroke (drivers.handwriting: zinnia, ~15 ms, re-ranked by how common each character is,
from the pinyin index). A tap on a candidate types it (``on_pick``) and clears the pad for the next character.
"""

from __future__ import annotations

import logging
from typing import Any

from kivy.graphics import Color, Line
from kivy.properties import ListProperty, ObjectProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.widget import Widget

from ui import theme

log = logging.getLogger(__name__)
_recognizer: Any = None  # one per process: the model is 26 MB


def recognizer() -> Any:
    """The shared recognizer, opened on first use; None (logged once) when the library or model is missing."""
    global _recognizer
    if _recognizer is None:
        from drivers.handwriting import HandwritingError, Recognizer

        try:
            _recognizer = Recognizer()
        except HandwritingError as err:
            log.error("%s", err.message)
            _recognizer = False
    return _recognizer or None


class InkArea(Widget):
    """Where the finger draws; each stroke is kept (window points, y up as Kivy has them)."""

    strokes = ListProperty([])

    def on_touch_down(self, touch: Any) -> bool:
        if self.disabled or self.height <= 0 or not self.collide_point(*touch.pos):
            return super().on_touch_down(touch)
        touch.grab(self)
        with self.canvas:
            Color(*theme.TEXT)
            touch.ud["ink"] = Line(points=[*touch.pos], width=4)
        touch.ud["pts"] = [touch.pos]
        return True

    def on_touch_move(self, touch: Any) -> bool:
        if touch.grab_current is not self:
            return super().on_touch_move(touch)
        if self.collide_point(*touch.pos):
            touch.ud["pts"].append(touch.pos)
            touch.ud["ink"].points += [*touch.pos]
        return True

    def on_touch_up(self, touch: Any) -> bool:
        if touch.grab_current is not self:
            return super().on_touch_up(touch)
        touch.ungrab(self)
        pts = touch.ud.get("pts") or []
        if pts:
            self.strokes = [
                *self.strokes,
                [(x, self.top - y) for x, y in pts],
            ]  # y downwards for the recognizer
        return True

    def clear(self) -> None:
        self.canvas.clear()
        self.strokes = []


class HandwritingPad(BoxLayout):
    """The ink area, the candidate row and the rewrite key; ``on_pick(char)`` when a candidate is tapped."""

    candidates = ListProperty([])
    prior = ObjectProperty(None, allownone=True)  # char -> how common (Lexicon.character_counts)
    __events__ = ("on_pick",)

    def on_kv_post(self, _base: Any) -> None:
        self.ids.ink.bind(strokes=self._recognize)

    def _recognize(self, _w: Any, strokes: list) -> None:
        rec = recognizer()
        self.candidates = rec.recognize(strokes, n=8, prior=self.prior) if rec is not None and strokes else []

    def pick(self, char: str) -> None:
        self.dispatch("on_pick", char)
        self.clear()

    def on_pick(self, char: str) -> None:
        pass

    def clear(self) -> None:
        self.ids.ink.clear()
        self.candidates = []
