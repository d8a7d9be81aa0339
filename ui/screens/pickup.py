"""Pick up: type the code on the numeric pad, or use your ID card."""

from __future__ import annotations

from kivy.properties import NumericProperty, StringProperty

from kiosk.ports import CardEvent
from ui.screens import KioskScreen


class PickupScreen(KioskScreen):
    screen_name = "pickup"
    code = StringProperty("")
    digits = NumericProperty(6)  # cfg.pickup.code_digits: a code of any other length is never sent to the core

    def refresh(self) -> None:
        self.digits = self.app.cfg.pickup.code_digits

    def on_key(self, key: str) -> None:
        if key == "back":
            self.code = self.code[:-1]
        elif key == "clear":
            self.code = ""
        elif len(self.code) < self.digits:
            self.code += key
        else:
            # One digit too many: say how long a code is instead of silently dropping the tap.
            self.error = self.app.t("pickup.code_length", n=self.digits)
            return
        self.error = ""

    @property
    def complete(self) -> bool:
        return len(self.code) == self.digits and self.code.isdigit()

    def open_by_code(self) -> None:
        if not self.complete:
            # The button is disabled until then; this guards any other way in (a stale tap, a test, a script).
            self.error = self.app.t("pickup.code_length", n=self.digits)
            return
        code, self.code = self.code, ""  # the code leaves the screen as soon as it is used
        self.app.call(self.app.rt.pickup_by_code, code, on_done=self._opened)

    def open_by_card(self) -> None:
        ident = self.app.session.identity
        if ident is None:
            self.error = self.app.t("pickup.insert_card")
            return
        self.app.call(self.app.rt.pickup_by_identity, ident, on_done=self._opened)

    def on_card_event(self, ev: CardEvent) -> None:
        # A card read while this screen is up means "pick up with my card".
        if ev.kind == "identified":
            self.open_by_card()

    def _opened(self, handle: object) -> None:
        self.app.go("door", handle=handle, purpose="pickup")

    def wipe(self) -> None:
        super().wipe()
        self.code = ""
