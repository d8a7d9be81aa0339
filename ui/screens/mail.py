"""政务快递: where a posted result goes. Province / city / district are picked from the bundled division data
(kiosk/data/divisions.json via :mod:`kiosk.mail`), street and detail typed (pinyin keyboard) or written (手写 pad,
:mod:`ui.handwriting`, as on the form), recipient and phone
prefilled from the card and the form; checked locally by the platform's rules, each error at its part.

Reached from the form when the delivery mode is MAIL (a matter's or a bundle's); "continue" goes on to the review.
The address lives in the session's form (``_mail``) only: it goes into the sealed outbox payload and nowhere else.
"""

from __future__ import annotations

from typing import Any

from kivy.properties import BooleanProperty, ObjectProperty, StringProperty

from kiosk.errors import ValidationError
from kiosk.identity import mask_name
from ui.handwriting import HandwritingPad  # noqa: F401 - registers the pad mail.kv uses
from ui.pinyin.candidates import CandidateBar
from ui.pinyin.engine import PinyinEngine
from ui.screens import KioskScreen
from ui.widgets import ChoiceButton, FieldBox

MAIL = "_mail"  # the session form's key for the address being entered
PICKED = ("province", "city", "district")
TYPED = {"recipient": "keyboard", "phone": "numpad", "street": "keyboard", "detail": "keyboard"}
ORDER = ("recipient", "phone", "province", "city", "district", "street", "detail")
LIMITS = {"recipient": 40, "phone": 11, "street": 40, "detail": 120}
WRITTEN = (
    "street",
    "detail",
)  # the parts 手写 is offered for (issue 13: "street and detail by handwriting or pinyin")


def character_prior(app: Any) -> Any:
    """How common each character is (ranks the pad's candidates), once the pinyin index is ready; else None."""
    lex = app.pinyin_lexicon
    return lex.character_counts() if getattr(lex, "ready", False) else None


class MailScreen(KioskScreen):
    screen_name = "mail"
    focus = StringProperty("")  # the part being entered
    input_kind = StringProperty("")  # keyboard / handwriting / numpad / choice / ""
    handwriting = BooleanProperty(
        False
    )  # the citizen chose 手写 for street and detail (kept for this address)
    hw_prior = ObjectProperty(None, allownone=True)

    def on_kv_post(self, _base: Any) -> None:
        app = self.app
        self.bar = CandidateBar(PinyinEngine(app.pinyin_lexicon), target=self)
        kb = self.ids.keyboard
        kb.bar = self.bar
        kb.bind(chinese=self._sync_bar)
        self.bind(input_kind=self._sync_bar)
        app.bind(lang=self._relabel, pinyin_lexicon=self._on_lexicon)
        self._boxes: dict[str, FieldBox] = {}

    def _on_lexicon(self, _app: Any, lexicon: Any) -> None:
        self.bar.set_lexicon(lexicon)
        self.hw_prior = None  # recomputed from the full index when the pad is next shown

    def toggle_handwriting(self) -> None:
        """手写 <-> keyboard for street and detail."""
        if self.focus not in WRITTEN:
            return
        self.bar.commit_raw()
        self.handwriting = self.input_kind != "handwriting"
        if self.handwriting and self.hw_prior is None:
            self.hw_prior = character_prior(self.app)
        self.ids.handwriting.clear()
        self.input_kind = "handwriting" if self.handwriting else TYPED[self.focus]

    def address(self) -> dict[str, str]:
        return self.app.session.form.setdefault(MAIL, {})  # type: ignore[return-value]

    def refresh(self) -> None:
        from kiosk.mail import prefilled

        a = self.address()
        if not a:
            ident = self.app.session.identity
            phone = self.app.session.form.get("phone") or self.app.known_phone()
            a.update(prefilled(ident.name if ident is not None else None, phone))
        box = self.ids.parts
        box.clear_widgets()
        self._boxes = {}
        for part in ORDER:
            fb = FieldBox(key=part, required=part not in ("street",))
            fb.bind(on_release=lambda w: self.set_focus(w.key))
            self._boxes[part] = fb
            box.add_widget(fb)
        self._relabel()
        self.ids.keyboard.chinese = self.app.lang == "zh"
        err = self.app.session.form.pop("_mail_error", None)  # a platform refusal naming a part: shown there
        first = next(
            (p for p in ORDER if p in PICKED and not a.get(p)), "detail" if not a.get("detail") else ""
        )
        self.set_focus(err[0] if err else (first or "recipient"))
        if err:
            self._boxes[err[0]].error = err[1]

    def _relabel(self, *_: Any) -> None:
        if not self._boxes:
            return  # not shown since the session began: nothing to relabel (and nothing may enter the session)
        a = self.app.session.form.get(
            MAIL, {}
        )  # a read: a language change must not put an address in the session
        for part, fb in self._boxes.items():
            fb.label = self.app.t(f"mail.{part}")
            fb.value = self._display(part, a.get(part, ""))
        if self.focus in PICKED:
            self._build_choices(self.focus)

    def _display(self, part: str, value: str) -> str:
        # The card holder's name is shown masked, as everywhere on screen; what is typed over it shows as typed.
        if part == "recipient" and value and value == getattr(self.app.session.identity, "name", None):
            return mask_name(value)
        return value

    def set_focus(self, part: str) -> None:
        self.bar.commit_raw()
        self.ids.handwriting.clear()  # ink meant for the part left behind
        self.focus = part
        for p, fb in self._boxes.items():
            fb.focused = p == part
        if part in PICKED:
            self.input_kind = "choice"
            self._build_choices(part)
        else:
            self.input_kind = "handwriting" if self.handwriting and part in WRITTEN else TYPED.get(part, "")
        fb = self._boxes.get(part)
        if fb is not None:
            self.ids.scroll.scroll_to(fb, padding=10, animate=False)

    def _options(self, part: str) -> list[str]:
        from kiosk.mail import cities, districts, provinces

        a = self.address()
        if part == "province":
            return [d.name for d in provinces()]
        if part == "city":
            return [d.name for d in cities(a.get("province", ""))]
        return [d.name for d in districts(a.get("province", ""), a.get("city", ""))]

    def _build_choices(self, part: str) -> None:
        box = self.ids.choices
        box.clear_widgets()
        current = self.address().get(part, "")
        for name in self._options(part):
            b = ChoiceButton(text=name, value=name, selected=name == current)
            b.bind(on_release=lambda w: self.pick(w.value))
            box.add_widget(b)
        self.ids.choice_scroll.scroll_y = 1

    def pick(self, name: str) -> None:
        part = self.focus
        a = self.address()
        if a.get(part) != name:
            a[part] = name
            # A new province empties the city and district below it; a new city the district.
            for below in PICKED[PICKED.index(part) + 1 :]:
                a.pop(below, None)
        self._relabel()
        self._boxes[part].error = ""
        nxt = PICKED[PICKED.index(part) + 1] if part != "district" else "street"
        self.set_focus(nxt)

    def _sync_bar(self, *_: Any) -> None:
        area, bar, kb = self.ids.input_area, self.bar, self.ids.keyboard
        show = self.input_kind == "keyboard" and kb.chinese
        if show and bar.parent is None:
            area.add_widget(bar, index=area.children.index(kb) + 1)
        elif not show and bar.parent is not None:
            bar.commit_raw()
            area.remove_widget(bar)

    def insert_text(self, text: str) -> None:
        part = self.focus
        if part in LIMITS:
            a = self.address()
            a[part] = (a.get(part, "") + text)[: LIMITS[part]]
            self._show(part)

    def on_key(self, key: str) -> None:
        part = self.focus
        if part not in LIMITS:
            return
        a = self.address()
        value = a.get(part, "")
        if key == "back":
            value = value[:-1]
        elif key == "clear":
            value = ""
        elif key == "space":
            value += " "
        elif len(value) < LIMITS[part]:
            value += key
        a[part] = value
        self._show(part)

    def _show(self, part: str) -> None:
        fb = self._boxes[part]
        fb.value = self._display(part, self.address().get(part, ""))
        fb.error = ""

    def next_part(self) -> None:
        i = ORDER.index(self.focus) if self.focus in ORDER else -1
        if i + 1 < len(ORDER):
            self.set_focus(ORDER[i + 1])
        else:
            self.done()

    def done(self) -> None:
        """Check the address by the platform's rules; the first bad part is focused with its error."""
        from kiosk.mail import validate_address

        self.bar.commit_raw()
        for fb in self._boxes.values():
            fb.error = ""
        try:
            validate_address(dict(self.address()))
        except ValidationError as err:
            part = err.field.removeprefix("mailAddress.")
            if part in self._boxes:
                self.set_focus(part)
                self._boxes[part].error = self.app.error_text(err)
            else:
                self.error = self.app.error_text(err)
            return
        self.app.go("review")

    def on_pre_leave(self, *_: Any) -> None:
        self.bar.commit_raw()

    def wipe(self) -> None:
        super().wipe()
        self.bar.clear()
        self.ids.handwriting.clear()  # the person's ink is their data too
        self.handwriting = False
        self.ids.parts.clear_widgets()
        self.ids.choices.clear_widgets()
        self._boxes = {}
        self.focus = self.input_kind = ""
