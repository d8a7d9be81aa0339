"""The application form, generated from the matter's FieldSpecs; keypads sized for fingers; errors in place."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from kivy.clock import Clock
from kivy.properties import BooleanProperty, NumericProperty, ObjectProperty, StringProperty

from kiosk import privacy
from kiosk.errors import ValidationError
from kiosk.platform_models import Bundle, FieldSpec, Matter
from ui.handwriting import HandwritingPad  # noqa: F401 - registers the pad form.kv uses
from ui.pinyin.candidates import CandidateBar
from ui.pinyin.engine import PinyinEngine
from ui.screens import KioskScreen
from ui.widgets import ChoiceButton, FieldBox

DELIVERY = "delivery_mode"
PHONE_KEY = "phone"  # the applicant's phone (the one field the wire's <applicant> takes from the form)
# How the wire names what the form calls DELIVERY (SubmitApplication's deliveryMode element; the core's own key).
_DELIVERY_NAMES = frozenset({"deliverymode", "delivery_mode"})
# Of the wire's <applicant>, only the phone comes from the form (kiosk.identity.applicant_of);
# the ID type, number and name come from the card, so no form field can fix them.
_APPLICANT_FROM_FORM = {"phone": "phone"}


def form_key_for(name: str, keys: Sequence[str]) -> str | None:
    """The form field a platform error names, or None when it names none of them (show it for the whole form).

    The platform may name a field by its key (``purpose``), by its place in the request (``field[purpose]``,
    ``field.purpose``, ``applicant.phone``) or by its element (``deliveryMode``)."""
    n = name.strip()
    if n in keys:
        return n  # a bundle member's field, <matterCode>.<key>, or a plain key
    m = re.fullmatch(r"(?:(fields?|applicant)[.\[/])?([A-Za-z0-9_]+)\]?", n)
    if m is None:
        return None
    where, leaf = m.groups()
    if where == "applicant":
        key = _APPLICANT_FROM_FORM.get(leaf)
        return key if key in keys else None
    if leaf.lower() in _DELIVERY_NAMES and DELIVERY in keys:
        return DELIVERY
    if leaf in keys:
        return leaf
    snake = re.sub(
        r"(?<!^)(?=[A-Z])", "_", leaf
    ).lower()  # the wire is camelCase, the catalogue's keys may not be
    return snake if snake in keys else None


# A pattern simple enough to say in words: one digit from a range ("[1-5]": 份数 1–5), or a fixed number of digits.
_DIGIT_RANGE = re.compile(r"\[([0-9])-([0-9])\]")
_DIGITS = re.compile(r"(?:\[0-9\]|\\d)\{([0-9]+)\}")


def allowed_text(t: Any, spec: FieldSpec) -> str | None:
    """What a field's pattern allows, in words ("请输入 1–5 之间的数字。"); None when the pattern says more than
    these simple forms (the generic "format is not right" text is all that can be said then)."""
    p = spec.pattern or ""
    if m := _DIGIT_RANGE.fullmatch(p):
        return t("error.field_range", lo=m.group(1), hi=m.group(2))
    if m := _DIGITS.fullmatch(p):
        return t("error.field_digits", n=m.group(1))
    return None


def takes_decimals(spec: FieldSpec) -> bool:
    """Whether a NUMBER field can hold a decimal point: not when its pattern has none (a count such as 份数)."""
    return spec.type == "NUMBER" and (spec.pattern is None or "." in spec.pattern)


def bundle_specs(form: Any) -> list[FieldSpec]:
    """A bundle form's fields, each member's own labelled with the member's name (the keys stay as they are)."""
    out: list[FieldSpec] = []
    for section in form.sections:
        m = section.matter
        for f in section.fields:
            if m is None:
                out.append(f)
            else:
                out.append(
                    replace(
                        f,
                        label=f"{m.name}：{f.label}",
                        label_en=f"{m.name_en or m.name}: {f.label_en or f.label}",
                    )
                )
    return out


def without_id_numbers(text: str) -> str:
    """A platform message shown on screen never carries a full ID number, whatever the platform put in it."""
    return privacy.SCREEN(text)


class FormScreen(KioskScreen):
    screen_name = "form"
    matter = ObjectProperty(None, allownone=True)
    # A 一件事 bundle's form (kiosk.bundles.BundleForm) instead of a matter: shared fields once, then each
    # member's own, keyed <matterCode>.<key> as SubmitBundle and its INVALID_FIELD name them.
    bundle = ObjectProperty(None, allownone=True)
    focus_index = NumericProperty(-1)
    input_kind = StringProperty("")  # numpad / keyboard / handwriting / choice / ""
    handwriting = BooleanProperty(False)  # the citizen chose 手写 for text fields (kept for this form)
    hw_prior = ObjectProperty(
        None, allownone=True
    )  # how common each character is: ranks the pad's candidates
    matter_title = StringProperty("")

    def on_kv_post(self, _base: Any) -> None:
        # The pinyin candidate bar for TEXT fields: shown above the letter keyboard while it is in Chinese mode.
        app = self.app
        self.bar = CandidateBar(PinyinEngine(app.pinyin_lexicon), target=self)
        kb = self.ids.keyboard
        kb.bar = self.bar
        kb.chinese = app.lang == "zh"
        kb.bind(chinese=self._sync_bar)
        self.bind(input_kind=self._sync_bar)
        app.bind(lang=self._on_lang, pinyin_lexicon=self._on_lexicon)
        self._on_lang()

    def _on_lang(self, *_: Any) -> None:
        """Chinese input by default in the Chinese UI, letters in the English one."""
        self.bar.preparing_text = self.app.t("ime.preparing")
        self.bar.hint_text = self.app.t("ime.hint")
        self.ids.keyboard.chinese = self.app.lang == "zh"
        self._relabel()

    def subject(self) -> Matter | Bundle | None:
        """What the form files: the matter, or the bundle."""
        return self.bundle.bundle if self.bundle is not None else self.matter

    def _title(self) -> str:
        s = self.subject()
        return "" if s is None else (s.name_en if self.app.lang == "en" and s.name_en else s.name)

    def _relabel(self) -> None:
        """A language change while the form is up: the title, labels, shown values and choices follow it."""
        boxes, specs = self.boxes(), self.specs()
        if self.subject() is None or not boxes or len(boxes) != len(specs):
            return  # not built yet (refresh labels it in the current language)
        self.matter_title = self._title()
        form = self.app.session.form
        for spec, fb in zip(specs, boxes, strict=True):
            fb.label = self._label(spec)
            fb.value = self._display(spec, form.get(spec.key, ""))
        spec = self.current_spec()
        if spec is not None and spec.type == "CHOICE":
            self._build_choices(spec)

    def _on_lexicon(self, _app: Any, lexicon: Any) -> None:
        self.bar.set_lexicon(lexicon)
        self.hw_prior = None  # recomputed from the full index when the pad is next shown

    def toggle_handwriting(self) -> None:
        """手写 <-> keyboard for the text fields of this form."""
        self.bar.commit_raw()
        self.handwriting = self.input_kind != "handwriting"
        if self.handwriting and self.hw_prior is None and getattr(self.app.pinyin_lexicon, "ready", False):
            self.hw_prior = self.app.pinyin_lexicon.character_counts()
        self.ids.handwriting.clear()
        self.input_kind = "handwriting" if self.handwriting else "keyboard"

    def _sync_bar(self, *_: Any) -> None:
        area, bar, kb = self.ids.input_area, self.bar, self.ids.keyboard
        show = self.input_kind == "keyboard" and kb.chinese
        if show and bar.parent is None:
            area.add_widget(
                bar, index=area.children.index(kb) + 1
            )  # children run bottom-up: just above the keys
            Clock.schedule_once(lambda _dt: self._scroll_to_focused(), 0)  # the field list just got shorter
        elif not show and bar.parent is not None:
            bar.commit_raw()
            area.remove_widget(bar)

    def _scroll_to_focused(self) -> None:
        boxes, scroll = self.boxes(), self.ids.scroll
        if self.ids.fields.height <= scroll.height:
            scroll.scroll_y = 1  # everything fits: top-aligned (scroll_to would misplace a short list)
        elif 0 <= self.focus_index < len(boxes):
            scroll.scroll_to(boxes[self.focus_index], padding=10, animate=False)

    def insert_text(self, text: str) -> None:
        """What the candidate bar commits goes at the end of the focused field (as much as its length allows)."""
        spec = self.current_spec()
        if spec is None:
            return
        value = self.app.session.form.get(spec.key, "")
        if spec.max_length is not None:
            text = text[: max(0, spec.max_length - len(value))]
        if text:
            self._set(spec, value + text)

    def specs(self) -> list[FieldSpec]:
        subject = self.subject()
        if subject is None:
            return []
        out = bundle_specs(self.bundle) if self.bundle is not None else list(self.matter.fields)
        # The delivery mode is chosen like any other CHOICE field, after the matter's own fields.
        out.append(
            FieldSpec(
                DELIVERY,
                "领取方式",
                "CHOICE",
                True,
                label_en="How to receive the result",
                choices=tuple(subject.delivery_modes),
            )
        )
        return out

    def refresh(self) -> None:
        m = self.subject()
        box = self.ids.fields
        box.clear_widgets()
        if m is None:
            return
        self.matter_title = self._title()
        form = self.app.session.form
        if form.get("_matter") != m.code:
            form.clear()
            form["_matter"] = m.code
            if len(m.delivery_modes) == 1:
                form[DELIVERY] = m.delivery_modes[0]
            for spec in self.specs():  # what this person already told the kiosk is not asked again
                if spec.key == PHONE_KEY and self.app.known_phone():
                    form[spec.key] = self.app.known_phone()
        for i, spec in enumerate(self.specs()):
            fb = FieldBox(
                key=spec.key,
                label=self._label(spec),
                required=spec.required,
                value=self._display(spec, form.get(spec.key, "")),
            )
            fb.bind(on_release=lambda _w, i=i: self.focus(i))
            box.add_widget(fb)
        errors = form.get("_errors_for")
        self.focus((self._index_of(errors) if errors else None) or 0)

    def _label(self, spec: FieldSpec) -> str:
        return spec.label_en if self.app.lang == "en" and spec.label_en else spec.label

    def _display(self, spec: FieldSpec, value: str) -> str:
        if spec.key == DELIVERY and value:
            return self.app.t(f"delivery.{value}")
        return (
            self.app.catalogue.strings[self.app.lang].get(f"choice.{value}", value)
            if spec.type == "CHOICE"
            else value
        )

    def _index_of(self, name: str) -> int | None:
        """The index of the field a (core or platform) field name means; None when it means none of them."""
        keys = [s.key for s in self.specs()]
        key = form_key_for(name, keys)
        return keys.index(key) if key is not None else None

    def boxes(self) -> list[FieldBox]:
        return list(reversed(self.ids.fields.children))

    def focus(self, index: int) -> None:
        specs = self.specs()
        if not specs:
            return
        self.bar.commit_raw()  # pinyin not yet turned into characters stays in the field it was typed for
        self.focus_index = index
        for i, fb in enumerate(self.boxes()):
            fb.focused = i == index
        spec = specs[index]
        if spec.type == "CHOICE":
            self.input_kind = "choice"
            self._build_choices(spec)
        elif spec.type == "TEXT" and not (spec.pattern and spec.pattern.startswith("[0-9]")):
            self.input_kind = "handwriting" if self.handwriting else "keyboard"
        else:
            self.input_kind = "numpad"
            self.ids.numpad.extra = "." if takes_decimals(spec) else ""
        self._scroll_to_focused()
        Clock.schedule_once(lambda _dt: self._scroll_to_focused(), 0)  # again once the new layout is done

    def _build_choices(self, spec: FieldSpec) -> None:
        box = self.ids.choices
        box.clear_widgets()
        current = self.app.session.form.get(spec.key, "")
        for c in spec.choices:
            btn = ChoiceButton(text=self._display(spec, c), value=c, selected=c == current)
            btn.bind(on_release=lambda b: self.choose(b.value))
            box.add_widget(btn)

    def current_spec(self) -> FieldSpec | None:
        specs = self.specs()
        return specs[self.focus_index] if 0 <= self.focus_index < len(specs) else None

    def choose(self, value: str) -> None:
        spec = self.current_spec()
        if spec is None:
            return
        self._set(spec, value)
        self._build_choices(spec)

    def on_key(self, key: str) -> None:
        spec = self.current_spec()
        if spec is None:
            return
        value = self.app.session.form.get(spec.key, "")
        if key == "back":
            value = value[:-1]
        elif key == "clear":
            value = ""
        elif key == "space":
            value += " "
        else:
            if spec.max_length is not None and len(value) >= spec.max_length:
                return
            value += key
            if spec.type == "DATE" and len(value) in (4, 7):
                value += "-"  # YYYY-MM-DD without hunting for a dash key
        self._set(spec, value)

    def _set(self, spec: FieldSpec, value: str) -> None:
        form = self.app.session.form
        form[spec.key] = value
        fb = self.boxes()[self.focus_index]
        fb.value = self._display(spec, value)
        fb.error = ""

    def next_field(self) -> None:
        if self.focus_index + 1 < len(self.specs()):
            self.focus(self.focus_index + 1)
        else:
            self.review()

    def review(self) -> None:
        """Check every field locally; the first bad one is focused with its error shown in place."""
        self.bar.commit_raw()
        form = self.app.session.form
        first_bad = -1
        for i, (spec, fb) in enumerate(zip(self.specs(), self.boxes(), strict=True)):
            fb.error = ""
            try:
                self.app.rt.filing.check_field(spec, form.get(spec.key, ""))
            except ValidationError as err:
                allowed = allowed_text(self.app.t, spec) if err.citizen_key == "error.field_pattern" else None
                fb.error = allowed or self.app.error_text(err)
                if first_bad < 0:
                    first_bad = i
        if first_bad >= 0:
            self.focus(first_bad)
            return
        form.pop("_errors_for", None)
        self.app.remember_phone(form.get(PHONE_KEY, ""))
        review = self.app.get_screen("review")
        review.matter, review.bundle = self.matter, self.bundle
        if form.get(DELIVERY) == "MAIL" and self.app.rt.cfg.platform.interface_version == "1.1":
            self.app.go(
                "mail"
            )  # where to post it, then the review (a 1.0 platform: the centre phones instead)
            return
        form.pop("_mail", None)
        self.app.go("review")

    def show_submit_error(self, field: str, text: str, platform_message: str = "") -> None:
        """A refused submission (INVALID_FIELD): at the field it names, or for the whole form when it names none.

        ``text`` is the citizen text for the error's key; the platform's own message, when there is one, says more."""
        idx = self._index_of(field)
        form = self.app.session.form
        if idx is None:
            form.pop("_errors_for", None)
        else:
            form["_errors_for"] = self.specs()[idx].key
        self.app.go("form")  # rebuilds the fields and focuses the one in error
        msg = without_id_numbers(
            platform_message.strip().rstrip("。.！!")
        )  # the texts around it end the sentence
        if idx is None:
            self.error = self.app.t("form.rejected", message=msg) if msg else text
        else:
            self.boxes()[idx].error = self.app.t("form.field_rejected", message=msg) if msg else text

    def on_pre_leave(self, *_: Any) -> None:
        self.bar.commit_raw()

    def wipe(self) -> None:
        super().wipe()
        self.bar.clear()  # pending pinyin is the person's data too: nothing of it stays on screen
        self.ids.handwriting.clear()  # and so is their ink
        self.handwriting = False
        self.input_kind = ""
        self.ids.keyboard.chinese = self.app.session.default_language == "zh"
        self.ids.fields.clear_widgets()
        self.ids.choices.clear_widgets()
        self.matter = None
        self.bundle = None
        self.focus_index = -1
        self.matter_title = ""

    def back(self, *_: Any) -> None:
        self.app.go("guide")
