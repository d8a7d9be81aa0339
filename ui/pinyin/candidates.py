"""The candidate bar: the pinyin typed so far, the Chinese it may mean as big buttons, and paging.

Two rows, every button at least the 15 mm minimum (the kiosk's ``key`` size, 16 mm, when the app runs):

    ┌──────────────────────────────────────────────────────┬───────────────┐
    │ bei'jing                                             │ [ beijing ]   │  ← letters as typed (inserts them raw)
    ├────┬──────┬──────┬────┬────┬─────────────────────────┴──────────┬────┤
    │ ‹  │ 北京 │ 背景 │ 被 │ 北 │ …as many as fit the width…         │ ›  │
    └────┴──────┴──────┴────┴────┴────────────────────────────────────┴────┘

The bar is independent of the keyboard. The keyboard, in Chinese mode, calls (see docs in the module's
functions): ``add_letter`` on a letter key, ``backspace()`` on ⌫ (False → delete from the field itself),
``commit_first()`` on space (False → type a space), ``clear()`` on "clear", ``commit_raw()`` to leave
Chinese mode. Whatever is chosen goes to ``target.insert_text(text)``; ``on_commit(text)`` follows.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kivy.app import App
from kivy.clock import Clock
from kivy.lang import Builder
from kivy.metrics import Metrics
from kivy.properties import BooleanProperty, ListProperty, NumericProperty, ObjectProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.button import Button
from kivy.uix.label import Label

from ui import theme
from ui.pinyin.engine import PinyinEngine, normalise
from ui.pinyin.lexicon import Lexicon, load_in_background, seed_lexicon

# Looks only: the same colours and borders as the kiosk's SecondaryButton/PadKey (ui/widgets.kv), but no
# ``app.`` references, so the bar also works in a bare test window. Sizes are set from Python (see _sizes).
KV = """
#:import theme ui.theme

<CandidateButton>:
    background_normal: ''
    background_down: ''
    background_disabled_normal: ''
    background_disabled_down: ''
    background_color: theme.FOCUS if self.state == 'down' else (theme.PRIMARY if self.first else theme.SECONDARY)
    color: theme.PRIMARY_TEXT if self.first and self.state == 'normal' else theme.TEXT
    disabled_color: theme.MUTED
    halign: 'center'
    valign: 'middle'
    size_hint: None, 1
    canvas.after:
        Color:
            rgba: theme.PRIMARY
        Line:
            rectangle: self.x, self.y, self.width, self.height
            width: 2

<CandidateBar>:
    canvas.before:
        Color:
            rgba: theme.BG  # opaque: the bar usually sits over a form, and must not let it show through
        Rectangle:
            pos: self.pos
            size: self.size
        Color:
            rgba: theme.MUTED
        Line:
            points: self.x, self.top, self.right, self.top
            width: 1.5

<LettersLabel>:
    color: theme.TEXT
    halign: 'left'
    valign: 'middle'
    text_size: self.size
    shorten: True
    shorten_from: 'left'
"""
Builder.load_string(
    KV, filename="ui.pinyin.candidates.KV"
)  # a name to unload by; there is no .kv file to ship

WIDTH_PER_CHAR = 1.05  # a CJK glyph is about one em wide; a little air so the estimate never cuts a word
MAX_CANDIDATES = 120  # fetched per keystroke: 10+ pages; nobody pages further, they type another letter


def _catalogue_text(key: str) -> str:
    """A catalogue text in the running kiosk's language (Chinese in a bare window)."""
    app = App.get_running_app()
    if app is not None and hasattr(app, "t"):
        return str(app.t(key))
    from ui.i18n import Catalogue

    return Catalogue().t(key, "zh")


class CandidateButton(Button):
    """One candidate (or ‹ › or the raw letters). ``first`` marks the one space would commit."""

    first = BooleanProperty(False)


class LettersLabel(Label):
    pass


class CandidateBar(BoxLayout):
    """Pinyin buffer + candidate buttons for one ``target`` (anything with ``insert_text(str)``)."""

    letters = StringProperty("")  # normalised pinyin typed and not yet committed (a–z and ')
    target = ObjectProperty(None, allownone=True)
    engine = ObjectProperty(None)
    candidates = ListProperty([])  # every candidate for ``letters``, best first
    page_start = NumericProperty(0)  # index in ``candidates`` of the first button shown
    preparing_text = StringProperty(
        ""
    )  # shown while only the seed set is loaded: the catalogue's "ime.preparing"
    hint_text = StringProperty("")  # shown, muted, while nothing is typed: the catalogue's "ime.hint"
    # Sizes in px; follow the running KioskApp (incl. the large-text toggle) or theme.Sizes at the screen DPI.
    key_height = NumericProperty(60)
    font_size = NumericProperty(30)
    small_font = NumericProperty(20)
    pad = NumericProperty(10)
    min_target = NumericProperty(57)

    __events__ = ("on_commit",)

    def __init__(self, engine: PinyinEngine | None = None, **kw: Any) -> None:
        kw.setdefault("orientation", "vertical")
        kw.setdefault("size_hint_y", None)
        kw.setdefault("preparing_text", _catalogue_text("ime.preparing"))
        kw.setdefault("hint_text", _catalogue_text("ime.hint"))
        super().__init__(**kw)
        self.engine = engine or PinyinEngine(seed_lexicon())
        self._pages: list[int] = []  # starts of the pages before this one, for ‹
        self._pool: list[
            CandidateButton
        ] = []  # reused buttons: building widgets per keystroke is the slow part
        self._sizes()
        self.top_row = BoxLayout(size_hint_y=None)
        self.letters_label = LettersLabel()
        self.raw_button = CandidateButton()
        self.raw_button.bind(on_release=lambda *_: self.commit_raw())
        self.top_row.add_widget(self.letters_label)
        self.top_row.add_widget(self.raw_button)
        self.bottom_row = BoxLayout(size_hint_y=None)
        self.prev_button = CandidateButton(text="‹")
        self.next_button = CandidateButton(text="›")
        self.prev_button.bind(on_release=lambda *_: self.prev_page())
        self.next_button.bind(on_release=lambda *_: self.next_page())
        self.cand_box = BoxLayout()
        for w in (self.prev_button, self.cand_box, self.next_button):
            self.bottom_row.add_widget(w)
        self.add_widget(self.top_row)
        self.add_widget(self.bottom_row)
        self.bind(
            key_height=self._restyle,
            font_size=self._restyle,
            small_font=self._restyle,
            pad=self._restyle,
            min_target=self._restyle,
        )
        self.cand_box.bind(width=lambda *_: self._show_page())
        self._restyle()
        self._refresh()

    # --- sizes ---------------------------------------------------------------------------------------------
    def _sizes(self) -> None:
        app = App.get_running_app()
        if app is not None and hasattr(app, "key") and hasattr(app, "min_target_px"):
            # A bound method: Kivy keeps it weakly, so a bar thrown away with its screen does not live on in the app.
            app.bind(
                key=self._follow_app,
                fs_title=self._follow_app,
                fs_body=self._follow_app,
                pad=self._follow_app,
            )
            self._follow_app()
        else:
            s = theme.Sizes(Metrics.dpi)
            self.key_height, self.font_size, self.small_font, self.pad = s.key, s.fs_title, s.fs_body, s.pad
            self.min_target = s.mm(theme.MIN_TARGET_MM)

    def _follow_app(self, *_: Any) -> None:
        app = App.get_running_app()
        if app is not None:
            self.key_height, self.font_size, self.small_font, self.pad = (
                app.key,
                app.fs_title,
                app.fs_body,
                app.pad,
            )
            self.min_target = app.min_target_px()

    def _restyle(self, *_: Any) -> None:
        self.spacing = self.pad / 2
        self.height = 2 * self.key_height + self.spacing
        for row in (self.top_row, self.bottom_row):
            row.height = self.key_height
            row.spacing = self.pad / 2
        self.cand_box.spacing = self.pad / 2
        self.letters_label.font_size = self.small_font
        self.letters_label.padding = (self.pad, 0)
        for b in (self.prev_button, self.next_button):
            b.font_size, b.width = self.font_size, max(self.min_target, self.key_height)
        self.raw_button.font_size = self.small_font
        self._show_page()

    def _width_of(self, text: str) -> float:
        return max(
            self.key_height, self.min_target, len(text) * self.font_size * WIDTH_PER_CHAR + 2 * self.pad
        )

    # --- what the keyboard calls -------------------------------------------------------------------------
    def add_letter(self, ch: str) -> None:
        """A letter key (any case) or an apostrophe (syllable break: xi'an); anything else is ignored."""
        ch = normalise(ch)
        if ch == "'" and (not self.letters or self.letters.endswith("'")):
            return  # a break before any letter, or a double one, means nothing
        self.letters += ch

    def backspace(self) -> bool:
        """Remove the last typed letter. False when there was none: the keyboard deletes from the field instead."""
        if not self.letters:
            return False
        self.letters = self.letters[:-1]
        return True

    def commit_first(self) -> bool:
        """Space: take the first candidate (or the raw letters if none). False when nothing was pending."""
        if not self.letters:
            return False
        if self.candidates:
            self.choose(self.candidates[0])
        else:
            self.commit_raw()
        return True

    def commit_raw(self) -> bool:
        """Insert the letters exactly as typed (apostrophes dropped): for a name in pinyin, or a code."""
        if not self.letters:
            return False
        text = self.letters.replace("'", "")
        self.letters = ""
        self._insert(text)
        return True

    def clear(self) -> bool:
        """Drop the pending letters. False when there were none: the keyboard clears the field instead."""
        if not self.letters:
            return False
        self.letters = ""
        return True

    def choose(self, text: str) -> None:
        """A candidate was tapped: insert it; the letters it did not use stay, and candidates follow for them."""
        try:
            rest = self.engine.commit(text, self.letters)
        except ValueError:  # a stale button (the letters changed under it): insert, start afresh
            rest = ""
        self.letters = rest
        self._insert(text)

    def next_page(self) -> None:
        end = self.page_start + len(self._shown())
        if end < len(self.candidates):
            self._pages.append(int(self.page_start))
            self.page_start = end
            self._show_page()

    def prev_page(self) -> None:
        if self._pages:
            self.page_start = self._pages.pop()
            self._show_page()

    # --- the index -----------------------------------------------------------------------------------------
    def load_lexicon(self, cache_dir: Path | None) -> None:
        """Load (or, the first time, build) the full index off the UI thread; the bar uses the seed set meanwhile."""

        def ready(lex: Lexicon) -> None:
            Clock.schedule_once(lambda _dt: self.set_lexicon(lex), 0)  # back on the UI thread

        load_in_background(cache_dir, ready)

    def set_lexicon(self, lexicon: Lexicon) -> None:
        self.engine.set_lexicon(lexicon)
        self._refresh()

    # --- internals -----------------------------------------------------------------------------------------
    def on_letters(self, *_: Any) -> None:
        self._refresh()

    def on_commit(self, text: str) -> None:
        pass

    def on_hint_text(self, *_: Any) -> None:
        self.on_preparing_text()

    def on_preparing_text(self, *_: Any) -> None:
        if hasattr(self, "cand_box"):  # not while __init__ is still building the rows
            self._refresh()

    def _insert(self, text: str) -> None:
        if self.target is not None:
            self.target.insert_text(text)
        self.dispatch("on_commit", text)

    def _refresh(self) -> None:
        self.candidates = self.engine.candidates(self.letters, MAX_CANDIDATES) if self.letters else []
        shown = self.engine.segment(self.letters) if self.letters else ""
        if self.letters and not self.engine.ready:
            shown = f"{shown}   {self.preparing_text}"
        self.letters_label.text = shown or self.hint_text
        self.letters_label.color = theme.TEXT if shown else theme.MUTED
        raw = self.letters.replace("'", "")
        self.raw_button.text = raw
        self.raw_button.disabled = not raw
        self.raw_button.opacity = 1 if raw else 0  # an empty box reads as a broken key
        self.raw_button.width = self._width_of("") if not raw else max(self.min_target, self._raw_width(raw))
        self._pages, self.page_start = [], 0
        self._show_page()

    def _raw_width(self, raw: str) -> float:
        return len(raw) * self.small_font * 0.62 + 2 * self.pad  # Latin letters are ~0.6 em

    def _shown(self) -> list[str]:
        """The candidates that fit the box from ``page_start`` (at least one, so a very long word still shows)."""
        room = self.cand_box.width
        out: list[str] = []
        used = 0.0
        for text in self.candidates[int(self.page_start) :]:
            w = self._width_of(text) + (self.cand_box.spacing if out else 0)
            if out and used + w > room:
                break
            out.append(text)
            used += w
        return out

    def _show_page(self, *_: Any) -> None:
        if not hasattr(self, "cand_box"):
            return
        shown = self._shown()
        while len(self._pool) < len(shown):
            b = CandidateButton()
            b.bind(on_release=lambda btn: self.choose(btn.text))
            self._pool.append(b)
        self.cand_box.clear_widgets()
        for i, text in enumerate(shown):
            b = self._pool[i]
            b.text, b.font_size, b.width = text, self.font_size, self._width_of(text)
            b.first = i == 0 and self.page_start == 0
            b.state = "normal"
            self.cand_box.add_widget(b)
        self.prev_button.disabled = not self._pages
        self.next_button.disabled = self.page_start + len(shown) >= len(self.candidates)
        for b in (self.prev_button, self.next_button):
            b.opacity = 1 if self.candidates else 0  # no arrows around an empty row
