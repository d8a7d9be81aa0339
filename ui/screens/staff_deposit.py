"""Staff: deposit a finished case's result by its case number; the applicant gets the code by SMS."""

from __future__ import annotations

from kivy.properties import StringProperty

from ui.screens import KioskScreen


class StaffDepositScreen(KioskScreen):
    screen_name = "staff_deposit"
    case_number = StringProperty("")
    parcel_size = StringProperty("M")

    def on_key(self, key: str) -> None:
        if key == "back":
            self.case_number = self.case_number[:-1]
        elif key == "clear":
            self.case_number = ""
        elif key not in ("space", "-") and len(self.case_number) < 32:
            self.case_number += key
        self.error = ""

    def deposit(self) -> None:
        if not self.case_number:
            self.error = self.app.t("deposit.enter_case")
            return
        self.app.call(
            self.app.rt.staff.deposit,
            self.case_number,
            self.app.session.staff_id or "staff",
            self.parcel_size,
            on_done=self._opened,
        )

    def _opened(self, handle: object) -> None:
        self.case_number = ""
        self.app.go("door", handle=handle, purpose="deposit")

    def wipe(self) -> None:
        super().wipe()
        self.case_number = ""
        self.parcel_size = "M"
