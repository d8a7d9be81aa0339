"""The submission's result: case number (or the local receipt number while queued), promised date, QR, receipt."""

from __future__ import annotations

import logging
from typing import Any

from kivy.properties import BooleanProperty, ObjectProperty, StringProperty

from ui.screens import KioskScreen

log = logging.getLogger(__name__)
NOT_FILED = frozenset(
    {"refused", "failed"}
)  # states in which nothing will be done: the screen says why and what next


class ResultScreen(KioskScreen):
    screen_name = "result"
    card_removal = "keep"  # the receipt stays readable; the card's job is done
    receipt = ObjectProperty(None, allownone=True)
    number = StringProperty("")
    promised = StringProperty("")
    state = StringProperty("")
    qr = StringProperty("")
    printed = StringProperty("")  # "", "printed", "no_printer", "failed"
    reason = StringProperty(
        ""
    )  # why a refused or failed application was not filed (the platform's own words)
    has_case = BooleanProperty(False)  # the number shown is the platform's case number (not the receipt's)

    def refresh(self) -> None:
        r: Any = self.receipt
        if r is None:
            return
        self.state = r.state
        self.number = r.case_number or r.receipt_number
        self.has_case = bool(r.case_number)
        self.reason = (r.message or "").strip() if r.state in NOT_FILED else ""
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

    def number_label(self, *_deps: Any) -> str:
        """What the number is: never "the case number follows later" under a refusal (defect 7)."""
        if self.state == "refused":
            key = "result.refused_number_label"
        elif self.state == "failed":
            key = "result.failed_number_label"
        elif self.has_case:
            key = "result.number_label"
        else:
            key = "result.receipt_label"
        return self.app.t(key)

    def reason_text(self, *_deps: Any) -> str:
        if self.state not in NOT_FILED:
            return ""
        if not self.reason:
            return self.app.t("result.no_reason")
        return self.app.t("result.reason", reason=self.reason)

    def spoken(self) -> list[str]:
        """A refusal is said aloud (title, why, what next): the one result a citizen must not miss."""
        if self.state not in NOT_FILED:
            return super().spoken()
        t = self.app.t
        return [
            t(f"result.title.{self.state}"),
            self.reason_text(),
            t(f"result.{self.state}_next"),
        ]

    def rate(self) -> None:
        r: Any = self.receipt
        self.app.go(
            "rate", case_number=(r.case_number or "") if r else "", matter_code=r.matter_code if r else ""
        )

    def wipe(self) -> None:
        super().wipe()
        self.receipt = None
        self.number = self.promised = self.state = self.qr = self.printed = self.reason = ""
        self.has_case = False
