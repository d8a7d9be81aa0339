"""The submission's result: case number (or the local receipt number while queued), promised date, QR, receipt."""

from __future__ import annotations

import logging
from typing import Any

from kivy.properties import ObjectProperty, StringProperty

from ui.screens import KioskScreen

log = logging.getLogger(__name__)


class ResultScreen(KioskScreen):
    screen_name = "result"
    card_removal = "keep"  # the receipt stays readable; the card's job is done
    receipt = ObjectProperty(None, allownone=True)
    number = StringProperty("")
    promised = StringProperty("")
    state = StringProperty("")
    qr = StringProperty("")
    printed = StringProperty("")  # "", "printed", "no_printer", "failed"

    def refresh(self) -> None:
        r: Any = self.receipt
        if r is None:
            return
        self.state = r.state
        self.number = r.case_number or r.receipt_number
        self.promised = r.promised_date or ""
        self.qr = f"CASE:{r.case_number}" if r.case_number else f"RECEIPT:{r.receipt_number}"
        if self.printed == "":
            self._print(r)

    def _print(self, r: Any) -> None:
        if self.app.rt.printer is None:
            self.printed = "no_printer"
            return
        lines = self.app.rt.filing.receipt_lines_for_submission(r)
        self.printed = "printing"
        self.app.call(
            self.app.rt.citizen.print_receipt,
            lines,
            self.qr,
            busy=False,
            on_done=lambda _r: setattr(self, "printed", "printed"),
            on_error=lambda _e: setattr(self, "printed", "failed"),
        )

    def rate(self) -> None:
        r: Any = self.receipt
        self.app.go(
            "rate", case_number=(r.case_number or "") if r else "", matter_code=r.matter_code if r else ""
        )

    def wipe(self) -> None:
        super().wipe()
        self.receipt = None
        self.number = self.promised = self.state = self.qr = self.printed = ""
