"""Lost the SMS: the citizen identifies with the card and asks for a new pickup code (PICKUP_CODE_RESEND).

Only the card holder's own results in this kiosk's cabinets are listed; the new code goes only to the phone the
platform has for the case (never on screen), and the old code stops working at once. Audited by the core.
"""

from __future__ import annotations

from typing import Any

from kivy.properties import BooleanProperty, StringProperty

from ui.screens import KioskScreen
from ui.widgets import ListRow


class ResendScreen(KioskScreen):
    screen_name = "resend"
    card_removal = "keep"  # once sent, the card's job is done
    empty = BooleanProperty(False)
    done = StringProperty("")  # what was sent, once sent

    def refresh(self) -> None:
        self.ids.rows.clear_widgets()
        self.empty = False
        self.done = ""
        ident = self.app.session.identity
        if ident is None:
            self.error = self.app.t("pickup.insert_card")  # the pickup screen sends them to identify first
            return
        self.app.call(self.app.rt.citizen.resendable, ident, on_done=self._show)

    def _show(self, parcels: list[tuple[int, str, str, str]]) -> None:
        box = self.ids.rows
        box.clear_widgets()
        self.empty = not parcels
        for parcel_id, case, cabinet, label in parcels:
            row = ListRow(
                title=self.app.t("resend.row", compartment=label, cabinet=cabinet),
                detail=self.app.t("case.number", number=case),
                ref=parcel_id,
            )
            row.bind(on_release=self._send)
            box.add_widget(row)

    def _send(self, row: Any) -> None:
        ident = self.app.session.identity
        if ident is None:
            return
        self.app.call(self.app.rt.citizen.resend_code, ident, row.ref, on_done=self._sent)

    def _sent(self, resent: Any) -> None:
        self.ids.rows.clear_widgets()
        expires = resent.expires_at.astimezone(self.app.cfg.kiosk.tz).strftime("%Y-%m-%d %H:%M")
        self.done = (
            self.app.t("resend.done")
            + "\n"
            + self.app.t("resend.where", compartment=resent.compartment, expires=expires)
        )

    def wipe(self) -> None:
        super().wipe()
        self.ids.rows.clear_widgets()
        self.empty = False
        self.done = ""
