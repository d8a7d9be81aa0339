"""Start / attract: what the kiosk offers, in big buttons."""

from __future__ import annotations

from ui.screens import KioskScreen


class StartScreen(KioskScreen):
    screen_name = "start"
    card_removal = "end"  # nothing in progress

    def choose(self, action: str) -> None:
        """Go to ``action``'s screen, through the card reader first when it needs to know who you are."""
        app = self.app
        if action in ("matters", "cases", "dropoff") and not app.session.identified:
            app.go("identify", next_screen=action)
        else:
            app.go(action)

    def staff(self) -> None:
        self.app.go("pin", role="technician", badge="")
