"""PIN entry for technician mode, and for staff mode when badge + PIN is configured."""

from __future__ import annotations

from kivy.properties import BooleanProperty, StringProperty

from hallkiosk.runtime import PIN_LOCKOUT_S
from kiosk.errors import minutes_of
from ui.screens import KioskScreen


class PinScreen(KioskScreen):
    screen_name = "pin"
    card_removal = "end"  # nothing of the citizen's in progress
    role = StringProperty("technician")  # technician / staff
    badge = StringProperty("")  # the staff badge already presented (badge + PIN)
    pin = StringProperty("")
    can_simulate = BooleanProperty(False)  # a simulated reader with a demo staff badge configured

    def refresh(self) -> None:
        super().refresh()
        self.can_simulate = self.role == "technician" and self.app.rt.sims.staff_badge_available()

    def on_key(self, key: str) -> None:
        if key == "back":
            self.pin = self.pin[:-1]
        elif key == "clear":
            self.pin = ""
        elif len(self.pin) < 12:
            self.pin += key
        self.error = ""

    def submit(self) -> None:
        pin, self.pin = self.pin, ""
        rt = self.app.rt
        locked = rt.pin_locked_for()
        if locked is not None:
            self.error = self.app.t("pin.locked", minutes=minutes_of(locked))
            return
        if self.role == "technician" and not rt.technician_enabled():
            self.error = self.app.t("pin.disabled")
            return
        if self.role == "staff" and not rt.is_staff_badge(self.badge):
            # Badge + PIN means both: the staff PIN alone never opens staff mode.
            self.error = self.app.t("pin.badge_first")
            return
        if rt.check_pin(self.role, pin):  # type: ignore[arg-type]
            self.app.enter_staff(self.role, self.badge or "pin")
        elif rt.pin_locked_for() is not None:
            self.error = self.app.t("pin.locked", minutes=minutes_of(rt.pin_locked_for() or 0))
        else:
            self.error = self.app.t("pin.wrong", n=rt.pin_tries_left(), minutes=minutes_of(PIN_LOCKOUT_S))

    def wipe(self) -> None:
        super().wipe()
        self.pin = ""
        self.badge = ""
        self.role = "technician"
