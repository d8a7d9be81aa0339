"""好差评: five levels; 1-2 ask for reasons; skippable; queued through the outbox by the core."""

from __future__ import annotations

from typing import Any

from kivy.properties import BooleanProperty, ListProperty, NumericProperty, StringProperty

from ui.screens import KioskScreen
from ui.widgets import ChoiceButton

LOW_RATING = 2  # as kiosk.evaluations.LOW_RATING (a test checks they agree); that module imports SQLAlchemy


def _reasons() -> list[str]:
    from kiosk.evaluations import REASONS

    return list(REASONS)


class RateScreen(KioskScreen):
    screen_name = "rate"
    card_removal = "keep"  # rating needs no card
    rating = NumericProperty(0)
    reasons = ListProperty([])
    case_number = StringProperty("")
    matter_code = StringProperty("")
    context = StringProperty("")
    thanked = StringProperty("")
    # The citizen's choice: anonymous (the default, nothing of them is sent) or with their name, so that the
    # department's reply to a 差评 shows under 我的评价. Only with a card read and a 1.1 platform.
    anonymous = BooleanProperty(True)
    can_identify = BooleanProperty(False)
    anonymous_only = BooleanProperty(False)

    def refresh(self) -> None:
        self.rating = 0
        self.reasons = []
        self.thanked = ""
        self.anonymous = True
        ident = self.app.session.identity
        self.anonymous_only = self.app.rt.feedback.ratings_anonymous_only()
        self.can_identify = ident is not None and not ident.wiped and not self.anonymous_only
        self._build_reasons()

    def _build_reasons(self) -> None:
        box = self.ids.reasons
        box.clear_widgets()
        if not 0 < self.rating <= LOW_RATING:
            return
        for code in _reasons():
            btn = ChoiceButton(text=self.app.t(f"reason.{code}"), value=code, selected=code in self.reasons)
            btn.bind(on_release=lambda b: self.toggle_reason(b.value))
            box.add_widget(btn)

    def pick(self, rating: int) -> None:
        self.rating = rating
        if rating > LOW_RATING:
            self.reasons = []
        self.error = ""
        self._build_reasons()

    def toggle_reason(self, code: str) -> None:
        self.reasons = (
            [r for r in self.reasons if r != code] if code in self.reasons else [*self.reasons, code]
        )
        self._build_reasons()

    def send(self) -> None:
        if not self.rating:
            self.error = self.app.t("rate.choose")
            return
        if self.rating <= LOW_RATING and not self.reasons:
            self.error = self.app.t("error.rating_reason")
            return
        last: Any = self.app.session.scratch.get("last_flow")
        who = None if self.anonymous or not self.can_identify else self.app.session.identity
        self.app.call(
            self.app.rt.feedback.rate,
            self.rating,
            list(self.reasons),
            case_number=self.case_number or None,
            matter_code=self.matter_code or None,
            parcel_id=getattr(last, "parcel_id", None),
            identity=who,
            on_done=self._sent,
        )

    def _sent(self, _res: object) -> None:
        self.thanked = self.app.t("rate.thanks")
        self.app.session.scratch["rated"] = self.rating
        self.ids.reasons.clear_widgets()

    def wipe(self) -> None:
        super().wipe()
        self.rating = 0
        self.reasons = []
        self.case_number = self.matter_code = self.context = self.thanked = ""
        self.anonymous = True
        self.can_identify = False
        self.ids.reasons.clear_widgets()
