"""A door is open: which one, where it is on the cabinet, "please close the door", and what to do if it did not open."""

from __future__ import annotations

import logging
from typing import Any

from kivy.properties import BooleanProperty, ListProperty, ObjectProperty, StringProperty

from kiosk.errors import KioskError
from ui.screens import KioskScreen

log = logging.getLogger(__name__)


class DoorScreen(KioskScreen):
    screen_name = "door"
    handle = ObjectProperty(None, allownone=True)
    purpose = StringProperty("pickup")  # pickup / dropoff / deposit / collect / tech
    label = StringProperty("")
    slots = ListProperty([])
    closed = BooleanProperty(False)
    help_shown = BooleanProperty(False)
    result = ObjectProperty(None, allownone=True)
    done_text = StringProperty("")
    can_simulate = BooleanProperty(False)

    def refresh(self) -> None:
        h: Any = self.handle
        if h is None:
            return
        self.label = h.label
        self.closed = False
        self.help_shown = False
        self.result = None
        self.done_text = ""
        self.slots = self.app.rt.cabinet_slots(h.cabinet_id)
        self.can_simulate = self.app.rt.door_sim(h.cabinet_id) is not None
        self._wait()

    def _wait(self) -> None:
        # busy=False: the screen stays live (and the inactivity timer runs) while the person takes their time.
        self.app.call(self.app.rt.wait_closed, self.handle, busy=False, on_done=self._closed, on_error=self._failed)

    def _failed(self, err: BaseException) -> None:
        if isinstance(err, KioskError) and err.citizen_key == "error.close_door":
            self.error = self.app.error_text(err)
            self._wait()  # still open: keep asking until it closes
            return
        self.error = self.app.error_text(err)

    def _closed(self, result: Any) -> None:
        self.closed = True
        self.result = result
        self.error = ""
        self.app.session.scratch["last_flow"] = result
        t = self.app.t
        if self.purpose == "dropoff":
            self.done_text = t("door.done.dropoff", number=result.receipt_number or "")
            if self.app.rt.printer is not None and result.receipt_number:
                lines = self.app.rt.receipt_lines_for_dropoff(result)
                self.app.call(self.app.rt.print_receipt, lines, f"DROPOFF:{result.receipt_number}", busy=False,
                              on_error=lambda _e: None)
        elif self.purpose == "deposit":
            self.done_text = t("door.done.deposit", label=result.label)
        else:
            self.done_text = t(f"door.done.{self.purpose}")

    def next(self) -> None:
        if self.purpose in ("pickup", "dropoff"):
            self.app.go("rate", case_number="", matter_code="", context=self.purpose)
        elif self.purpose in ("deposit", "collect"):
            self.app.go("staff")
        elif self.purpose == "tech":
            self.app.go("tech")
        else:
            self.app.reset_session()

    def did_not_open(self) -> None:
        self.help_shown = True
        self.app.rt.report_door_problem(self.handle)

    def wipe(self) -> None:
        super().wipe()
        self.handle = None
        self.result = None
        self.label = self.done_text = ""
        self.closed = self.help_shown = False
