"""Reusable widgets: labels and buttons sized for fingers, keypads, the cabinet picture, a QR code, the warnings.

Layout and looks live in widgets.kv; this file holds only behaviour.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import qrcode
from kivy.animation import Animation
from kivy.core.image import Image as CoreImage
from kivy.core.text import Label as CoreLabel
from kivy.graphics import Color, Line, Rectangle
from kivy.properties import (
    BooleanProperty,
    ListProperty,
    NumericProperty,
    ObjectProperty,
    StringProperty,
)
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.button import Button
from kivy.uix.gridlayout import GridLayout
from kivy.uix.image import Image
from kivy.uix.label import Label
from kivy.uix.modalview import ModalView
from kivy.uix.scrollview import ScrollView
from kivy.uix.stacklayout import StackLayout
from kivy.uix.widget import Widget
from kivy.utils import escape_markup

from ui import theme
from ui.linebreak import break_lines, has_cjk


class ChineseBreaks:
    """Lines of Chinese text broken by the rules (ui.linebreak): no line starts with "，" or ends with "（", and a
    number keeps its unit. Each line handed to Kivy already fits, so Kivy's own char-wise breaking never runs."""

    def texture_update(self, *largs: Any) -> None:
        lab: Any = self
        width = lab.text_size[0]
        if width and not lab.markup and not lab.shorten and has_cjk(lab.text):
            core = lab._label
            pad = lab.padding  # Kivy 2.3: [left, top, right, bottom]
            room = width - (pad[0] + pad[2] if len(pad) == 4 else 2 * pad[0])
            if room > lab.font_size:  # not while a layout is still sizing it to nothing
                core.text = break_lines(lab.text, lambda s: core.get_extents(s)[0] <= room)
        super().texture_update(*largs)  # type: ignore[misc]


class KLabel(ChineseBreaks, Label):
    """A wrapping label whose height follows its text, so nothing is cut off."""


class KScrollView(ScrollView):
    """The kiosk's ScrollView: Kivy's, without the bar-colour bindings that pile up over months.

    Kivy 2.3's ``update_from_scroll`` binds ``bar_color`` on every scroll, resize and move, and its half-second
    fade unbinds one binding, so every relayout of a list (a language or larger-text toggle, rows rebuilt)
    left callbacks bound for ever. Unbinding first keeps at most one of each.
    """

    def update_from_scroll(self, *largs: Any) -> None:
        self.funbind("bar_color", self._change_bar_color)
        super().update_from_scroll(*largs)

    def _bind_inactive_bar_color(self, *largs: Any) -> None:
        self.funbind("bar_inactive_color", self._change_bar_color)
        super()._bind_inactive_bar_color(*largs)


class TitleLabel(KLabel):
    pass


class ErrorLabel(KLabel):
    pass


class HeaderNotice(ChineseBreaks, Label):
    """A notice drawn over part of the header (take your card): Chinese line breaking, sized by its parent."""


class CardLiftPicture(Widget):
    """The reader with a card lifted above it (drawn in widgets.kv): "lift the card and put it back"."""

    s = NumericProperty(0)  # the drawing's size
    by = NumericProperty(0)  # its bottom


class StepBar(Label):
    """Where a citizen is in a multi-step flow: "第1步 读卡 → 2 填写 → 3 核对 → 4 提交", the current step bold and
    underlined. ``step`` 0 hides it (zero height). One line, a fixed height: nothing below moves between steps."""

    step = NumericProperty(0)
    STEPS = ("steps.read_card", "steps.fill", "steps.check", "steps.submit")

    def text_for(self, app: object, step: int, _lang: str) -> str:
        if not step:
            return ""
        t = app.t  # type: ignore[attr-defined]
        parts = []
        for i, key in enumerate(self.STEPS, 1):
            name = escape_markup(t(key))
            label = t("steps.first", n=i, name=name) if i == 1 else f"{i} {name}"
            parts.append(f"[b][u]{label}[/u][/b]" if i == step else label)
        return "  →  ".join(parts)


class MessageSlot(ChineseBreaks, Label):
    """A message in space the layout reserves for it: ``lines`` lines high with or without text, so nothing
    below it moves when a message appears or goes (a keypad under a finger must never jump). A Label, not a
    KLabel: KLabel's rule binds the height to the text, and kv keeps both rules' bindings."""

    lines = NumericProperty(2)


class KButton(Button):
    """A primary action: dark blue, white text, at least 15 mm high."""


class SecondaryButton(KButton):
    pass


class SimButton(SecondaryButton):
    """The demo's hands on a simulated device ("Simulator: close the door"): yellow like the SIMULATED HARDWARE band."""


class ChoiceButton(KButton):
    """A button in a set of choices; ``selected`` draws it as chosen."""

    selected = BooleanProperty(False)
    value = StringProperty("")


class SimBand(Label):
    pass


class PadKey(KButton):
    key = StringProperty("")
    chinese = BooleanProperty(False)  # only the 中文/ABC key ("mode") uses it: which mode its keyboard is in

    def fit(self, wanted: float, width: float, height: float, text: str) -> float:
        """The font size for this key's label: ``wanted``, or smaller when that would not fit on one line inside
        the key (larger text made "Space" wrap to "Spac/e" and digits overflow: defect 7 of issue 12)."""
        from kivy.app import App

        pad = App.get_running_app().pad  # KButton's text_size leaves app.pad each side
        room_w, room_h = width - 2 * pad - 2, height / 1.5  # the CJK font's line box is ~1.45 of its size
        if not text or room_w <= 0 or room_h <= 0:
            return wanted
        w = CoreLabel(text=text, font_size=wanted, font_name=self.font_name, bold=self.bold).get_extents(
            text
        )[0]
        return max(1.0, min(wanted, room_h, wanted * room_w / w if w > room_w else wanted))


class KeyPad(GridLayout):
    """A numeric pad (3 columns) or a letter keyboard; each tap calls ``on_key`` with a digit, a letter, 'back' or 'clear'."""

    keys = ListProperty([])
    extra = StringProperty("")  # one extra key next to 0: '.', '-' or ''

    __events__ = ("on_key",)

    def on_key(self, key: str) -> None:
        pass

    def press(self, key: str) -> None:
        self.dispatch("on_key", key)

    def on_kv_post(self, _base: Any) -> None:
        self.build_keys()

    def on_extra(self, *_: Any) -> None:
        self.build_keys()

    def layout(self) -> list[str]:
        return []

    def build_keys(self) -> None:
        self.clear_widgets()
        for k in self.layout():
            key = PadKey(key=k)
            # The row's height, not KButton's 18 mm: a taller key overlapped the row below and ate the gap.
            key.size_hint_y = 1
            key.bind(on_release=lambda btn: self.press(btn.key))
            self.add_widget(key)


class NumPad(KeyPad):
    def layout(self) -> list[str]:
        return [*"123456789", self.extra or "clear", "0", "back"]


# The letter keyboard's rows as (key, width in key units). Plain: 4 rows of 10 equal keys (case numbers, codes).
PLAIN_ROWS: tuple[tuple[tuple[str, float], ...], ...] = (
    tuple((k, 1.0) for k in "1234567890"),
    tuple((k, 1.0) for k in "QWERTYUIOP"),
    (*((k, 1.0) for k in "ASDFGHJKL"), ("-", 1.0)),
    (*((k, 1.0) for k in "ZXCVBNM"), ("space", 1.0), ("back", 1.0), ("clear", 1.0)),
)
# With the Chinese input method: 11 units a row, the 中/ABC key bottom left as on phones, "'" for a syllable
# break (xi'an). Keys with a word on them get 1.5-2 units so "Delete" never wraps, even in large text;
# "clear" sits away from "back" so a slip does not empty the field.
IME_ROWS: tuple[tuple[tuple[str, float], ...], ...] = (
    (*((k, 1.0) for k in "1234567890"), ("-", 1.0)),
    (*((k, 1.0) for k in "QWERTYUIOP"), ("'", 1.0)),
    (*((k, 1.0) for k in "ASDFGHJKL"), ("clear", 2.0)),
    (("mode", 1.5), *((k, 1.0) for k in "ZXCVBNM"), ("space", 1.0), ("back", 1.5)),
)


class ModeKey(PadKey):
    """The 中文/ABC key: shows the mode the keyboard is in, drawn dark (selected) in Chinese mode."""


class LetterKeyboard(StackLayout):
    """Letters, digits, '-', space, back and clear; each tap calls ``on_key`` like a KeyPad.

    With ``ime`` (the form's text fields) it also has the 中文/ABC key. In Chinese mode (``chinese``) and with
    a ``bar`` (ui.pinyin.candidates.CandidateBar) the keys drive the bar as its module documents: letters and
    "'" become pinyin, back/clear edit the pending letters first, space takes the first candidate, a digit or '-'
    takes it and is then typed. Only what reaches the field itself is dispatched as ``on_key``.
    """

    ime = BooleanProperty(False)
    chinese = BooleanProperty(False)
    bar = ObjectProperty(None, allownone=True)

    __events__ = ("on_key",)

    def __init__(self, **kw: Any) -> None:
        self._keys: list[tuple[PadKey, float]] = []
        super().__init__(**kw)
        self.bind(width=self._size_keys, spacing=self._size_keys, padding=self._size_keys)

    def on_key(self, key: str) -> None:
        pass

    def on_kv_post(self, _base: Any) -> None:
        self.build_keys()

    def on_ime(self, *_: Any) -> None:
        self.build_keys()

    def on_chinese(self, _inst: Any, value: bool) -> None:
        if not value and self.bar is not None:
            self.bar.commit_raw()  # leaving Chinese mode: the pinyin typed so far goes in as letters
        for key, _w in self._keys:
            if isinstance(key, ModeKey):
                key.chinese = value

    def rows(self) -> tuple[tuple[tuple[str, float], ...], ...]:
        return IME_ROWS if self.ime else PLAIN_ROWS

    def layout(self) -> list[str]:
        return [k for row in self.rows() for k, _w in row]

    def build_keys(self) -> None:
        self.clear_widgets()
        self._keys = []
        for row in self.rows():
            for k, units in row:
                key = ModeKey(key=k, chinese=self.chinese) if k == "mode" else PadKey(key=k)
                key.size_hint_x = None
                key.bind(on_release=lambda btn: self.press(btn.key))
                self._keys.append((key, units))
                self.add_widget(key)
        self._size_keys()

    def _size_keys(self, *_: Any) -> None:
        rows = self.rows()
        per_row = max(sum(w for _k, w in row) for row in rows)
        sp = self.spacing[0] if isinstance(self.spacing, (list, tuple)) else self.spacing
        pad = self.padding
        inner = self.width - (pad[0] + pad[2] if len(pad) == 4 else 2 * pad[0])
        # A hair under the exact width, so rounding never pushes a row's last key onto the next line.
        unit = max(1.0, (inner - sp * (per_row - 1)) / per_row - 0.05)
        for key, units in self._keys:
            key.width = unit * units + sp * (units - 1)

    def press(self, key: str) -> None:
        if key == "mode":
            self.chinese = not self.chinese
            return
        bar = self.bar if (self.ime and self.chinese) else None
        if bar is not None:
            if len(key) == 1 and key.isalpha():
                bar.add_letter(key)
                return
            if key == "'" and bar.letters:
                bar.add_letter(key)
                return
            if (
                (key == "back" and bar.backspace())
                or (key == "clear" and bar.clear())
                or (key == "space" and bar.commit_first())
            ):
                return
            if key.isdigit() or key in ("-", "'"):
                bar.commit_first()  # "北京 3" is typed as bei jing 3: the word, then the digit
        self.dispatch("on_key", key)


@dataclass(frozen=True)
class Slot:
    """One compartment as drawn: label, size (S/M/L), state."""

    label: str
    size: str
    state: str = "free"


class CabinetView(Widget):
    """A front view of the cabinet: compartments in columns, the open one filled orange with its label.

    Column order and heights follow the config's order and sizes (S = 1, M = 1.5, L = 2 units),
    which is how the doors are laid out on the cabinets we ship for; the highlighted door is
    the thing the citizen must find, so it is the only one drawn in colour.
    """

    slots = ListProperty([])
    highlight = StringProperty("")
    highlight_open = BooleanProperty(True)  # the highlighted door is open (orange) or has been shut
    rows_per_column = NumericProperty(5)
    font_size = NumericProperty(20)

    UNITS: ClassVar[dict[str, float]] = {"S": 1.0, "M": 1.5, "L": 2.0}

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.bind(
            pos=self._redraw,
            size=self._redraw,
            slots=self._redraw,
            highlight=self._redraw,
            highlight_open=self._redraw,
            font_size=self._redraw,
        )

    def columns(self) -> list[list[Any]]:
        n = max(1, int(self.rows_per_column))
        return [list(self.slots[i : i + n]) for i in range(0, len(self.slots), n)]

    def rects(self) -> list[tuple[Any, float, float, float, float]]:
        """Each slot with where it is drawn: (slot, x, y, width, height)."""
        cols = self.columns()
        if not cols or self.width <= 0:
            return []
        gap = 6.0
        col_w = (self.width - gap * (len(cols) + 1)) / len(cols)
        out = []
        for ci, col in enumerate(cols):
            units = sum(self.UNITS.get(s.size, 1.0) for s in col)
            unit_h = (self.height - gap * (len(col) + 1)) / units
            x = self.x + gap + ci * (col_w + gap)
            top = self.top - gap
            for slot in col:
                h = unit_h * self.UNITS.get(slot.size, 1.0)
                out.append((slot, x, top - h, col_w, h))
                top -= h + gap
        return out

    def _redraw(self, *_: Any) -> None:
        # Labels are drawn as textures in the canvas (not child widgets), so a redraw can never leave one behind.
        self.canvas.clear()
        rects = self.rects()
        if not rects:
            return
        with self.canvas:
            Color(*theme.MUTED)
            Line(rectangle=(self.x, self.y, self.width, self.height), width=2)
            for slot, x, y, col_w, h in rects:
                is_hl = slot.label == self.highlight
                off = slot.state in ("faulty", "disabled")
                # Orange means "open, here": once shut, the door keeps its thick frame (still easy to find) but
                # is drawn as shut as the others.
                fill = (
                    theme.DOOR_OPEN
                    if is_hl and self.highlight_open
                    else theme.DOOR_OFF
                    if off
                    else theme.DOOR
                )
                Color(*fill)
                Rectangle(pos=(x, y), size=(col_w, h))
                Color(*theme.TEXT)
                Line(rectangle=(x, y, col_w, h), width=4 if is_hl else 1)
                text = CoreLabel(
                    text=slot.label, font_size=self.font_size * (1.4 if is_hl else 1.0), bold=is_hl
                )
                text.refresh()
                tex = text.texture
                Color(*((1, 1, 1, 1) if off else theme.TEXT))
                Rectangle(
                    texture=tex,
                    size=tex.size,
                    pos=(x + (col_w - tex.width) / 2, y + (h - tex.height) / 2),
                )


class QRImage(Image):
    """A QR code of ``data``, drawn crisp (nearest-neighbour) at any size."""

    data = StringProperty("")

    def on_data(self, _inst: Any, value: str) -> None:
        if not value:
            self.texture = None
            return
        img = qrcode.make(value, box_size=8, border=2).get_image().convert("RGB")
        buf = io.BytesIO()
        img.save(buf, format="png")
        buf.seek(0)
        tex = CoreImage(buf, ext="png").texture
        tex.mag_filter = "nearest"
        self.texture = tex


class BusySpinner(Widget):
    """An indefinite progress indicator (a turning arc): the screen is alive while the platform thinks."""

    angle = NumericProperty(0)
    active = BooleanProperty(False)

    def on_active(self, _inst: Any, value: bool) -> None:
        Animation.cancel_all(self)
        if value:
            self.angle = 0
            anim = Animation(angle=360, duration=1.2)
            anim.repeat = True
            anim.start(self)


class FieldBox(ButtonBehavior, BoxLayout):
    """One form field: its label, the value typed so far, and its error in place."""

    key = StringProperty("")
    label = StringProperty("")
    value = StringProperty("")
    error = StringProperty("")
    focused = BooleanProperty(False)
    required = BooleanProperty(False)


class InactivityWarning(ModalView):
    """\"Are you still there?\" with a countdown; any tap on it keeps the session."""

    seconds_left = NumericProperty(0)


class ListRow(ButtonBehavior, BoxLayout):
    """A tappable row of a list (a matter, a case, a parcel, a task)."""

    title = StringProperty("")
    detail = StringProperty("")
    ref = ObjectProperty(None, allownone=True)


def slots_from(compartments: Sequence[Any]) -> list[Slot]:
    """Slots from anything with label/size/state attributes (config rows or cabinet views)."""
    return [Slot(c.label, c.size, getattr(c, "state", "free")) for c in compartments]
