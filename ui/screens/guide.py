"""办事指南 before the form, and the eligibility check before a field is typed.

A matter or a bundle shows who may apply, what to bring (原件/复印件, how many), the fee in words ("免费", never
"0.00 元"), the promised time in working days and how the result reaches them. Meanwhile the card on the reader
is checked against the matter's eligibility (age, id type; :mod:`kiosk.eligibility`): one who may not apply learns
at once why, politely, and what to do instead (staff 帮办, the window), and no "start" button is offered.
"""

from __future__ import annotations

from typing import Any

from kivy.properties import BooleanProperty, ObjectProperty, StringProperty

from ui.screens import KioskScreen
from ui.widgets import KLabel

CHECK_STATES = ("checking", "ok", "refused")


class GuideHeading(KLabel):
    """A heading inside the guide (conditions, materials)."""


class GuideScreen(KioskScreen):
    screen_name = "guide"
    kind = StringProperty("matter")  # matter / bundle
    code = StringProperty("")
    subject = ObjectProperty(None, allownone=True)  # the Matter or Bundle chosen on the matters screen
    title = StringProperty("")
    check = StringProperty("checking")  # one of CHECK_STATES
    refusal = StringProperty("")  # why, in the citizen's language, when check == "refused"
    loaded = BooleanProperty(False)

    def refresh(self) -> None:
        self.ids.body.clear_widgets()
        self.loaded = False
        self.check = "checking"
        self.refusal = ""
        self._guide = self._verdict = self._form = None
        if not self.code:
            return
        rt, ident, kind, code = self.app.rt, self.app.session.identity, self.kind, self.code

        def load() -> tuple[Any, Any, Any]:
            form = rt.filing.bundle_form(code) if kind == "bundle" else None
            return rt.filing.guide_for(kind, code), rt.filing.eligibility_for(ident, kind, code), form

        self.app.call(load, on_done=self._show)

    def _show(self, result: tuple[Any, Any, Any]) -> None:
        self._guide, self._verdict, self._form = result
        self.loaded = True
        self._fill()

    def _fill(self) -> None:
        g, v = self._guide, self._verdict
        if g is None:
            return
        t, en = self.app.t, self.app.lang == "en"
        self.title = g.name_en if en and g.name_en else g.name
        box = self.ids.body
        box.clear_widgets()
        if g.conditions:
            box.add_widget(GuideHeading(text=t("guide.conditions")))
            for c in g.conditions:
                box.add_widget(KLabel(text=f"· {c}"))
        box.add_widget(GuideHeading(text=t("guide.materials")))
        for m in g.materials:
            name = m.name_en if en and m.name_en else m.name
            note = f"（{m.note}）" if m.note else ""
            box.add_widget(KLabel(text=f"· {name}{note} — {t(m.kind.key, **m.kind.params)}"))
        if not g.materials:
            box.add_widget(KLabel(text=f"· {t('guide.none')}"))
        box.add_widget(KLabel(text=t("guide.fee_label", fee=t(g.fee.key, **g.fee.params))))
        box.add_widget(KLabel(text=t("guide.time_label", time=t(g.promised.key, **g.promised.params))))
        modes = ("; " if en else "、").join(t(f"delivery.{d}") for d in g.delivery_modes)
        box.add_widget(KLabel(text=t("guide.delivery", modes=modes)))
        if g.department:
            box.add_widget(KLabel(text=t("guide.department", department=g.department)))
        if g.process_note:
            box.add_widget(KLabel(text=g.process_note))
        if g.legal_basis:
            box.add_widget(KLabel(text=t("guide.basis", basis=g.legal_basis), font_size=self.app.fs_small))
        if v is not None and not v.eligible:
            self.check = "refused"
            self.refusal = f"{t(v.text_key, **v.params)}\n{t('eligibility.what_instead')}"
        else:
            self.check = "ok"

    def on_kv_post(self, _base: Any) -> None:
        self._guide = self._verdict = self._form = None
        self.app.bind(lang=lambda *_: self._fill())  # the guide follows a language change while it is up

    def start(self) -> None:
        if self.check != "ok" or self.subject is None:
            return
        if self.kind == "bundle":
            self.app.go("form", matter=None, bundle=self._form)
        else:
            self.app.go("form", matter=self.subject, bundle=None)

    def wipe(self) -> None:
        super().wipe()
        self.ids.body.clear_widgets()
        self.code = self.title = self.refusal = ""
        self.subject = None
        self.check = "checking"
        self.loaded = False
        self._guide = self._verdict = self._form = None
