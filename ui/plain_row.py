"""A list row in plain words (ui/plain.py) whose technical text appears only behind its own "details" toggle."""

from __future__ import annotations

from pathlib import Path

from kivy.lang import Builder
from kivy.properties import BooleanProperty, StringProperty

from ui.plain import Plain
from ui.widgets import ListRow

_KV = Path(__file__).with_suffix(".kv")


class PlainRow(ListRow):
    """title and detail (ListRow's) in plain words; ``technical`` shown only while ``show_technical``."""

    technical = StringProperty("")
    show_technical = BooleanProperty(False)

    @classmethod
    def of(cls, plain: Plain, **kw: object) -> PlainRow:
        return cls(title=plain.title, detail=plain.explain, technical=plain.technical, **kw)

    def toggle_technical(self) -> None:
        self.show_technical = not self.show_technical


# Loaded with the module: the staff and technician screens import it before building a row, and both use it.
if str(_KV) not in Builder.files:
    Builder.load_file(str(_KV))
