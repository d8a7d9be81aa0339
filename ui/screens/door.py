"""A door is open: which one, where it is on the cabinet, "please close the door", and what to do if it did not open.

Once it is shut: what happened (a collect shut on its item says nothing was collected) and, for a drop-off, the
receipt; when the printer fails, its error with the receipt number and a QR code on screen instead.

While the door is open the screen holds the session (``holds_session``): the inactivity reset would wipe the
drop-off receipt or the pickup's rating before the person, still busy at the cabinet, ever saw it. A reminder
to close the door takes the place of the "are you still there?" warning.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import replace
from typing import Any

from kivy.clock import Clock, ClockEvent
from kivy.properties import BooleanProperty, ListProperty, ObjectProperty, StringProperty

from kiosk.cabinet.labels import shown
from kiosk.errors import KioskError
from ui.screens import KioskScreen

log = logging.getLogger(__name__)

# Outcomes that show the door did open and the job was done: a "the door did not open" report made on this screen
# is then settled here, rather than sending staff to check a door that works.
WORKED = frozenset({"picked_up", "dropped_off", "deposited", "collected"})

# Longest a door left open keeps the session. Then the normal inactivity warning takes over, so a session
# someone walked away from (door still open) is wiped, and staff get a task for the door.
DOOR_HOLD_MAX_S = 300.0


class DoorScreen(KioskScreen):
    screen_name = "door"
    card_removal = "keep"  # the door is already open for this person: the outcome must still show
    handle = ObjectProperty(None, allownone=True)
    purpose = StringProperty("pickup")  # pickup / dropoff / deposit / collect / tech
    label = StringProperty("")  # the door as the person is shown it: with its cabinet when there are several
    slots = ListProperty([])
    closed = BooleanProperty(False)
    help_shown = BooleanProperty(False)
    result = ObjectProperty(None, allownone=True)
    done_text = StringProperty("")
    can_simulate = BooleanProperty(False)
    reminding = BooleanProperty(False)  # "please close the door", once the door has been open a while
    failed = BooleanProperty(False)  # the door could not be read: offer the way out instead of waiting on
    reported = BooleanProperty(False)  # "柜门没有打开？" was tapped: a staff task was raised for this flow
    nothing_taken = BooleanProperty(False)  # a collect shut with the item still inside: nothing changed hands
    printed = StringProperty("")  # drop-off receipt: "", "printing", "printed", "no_printer", "failed"
    print_key = StringProperty(
        ""
    )  # the text saying how the printing went (the printer error's own text on failure)
    receipt = StringProperty("")  # the drop-off's receipt number
    matter = StringProperty("")  # a drop-off's matter, as the citizen confirmed it: on its receipt too
    receipt_lines = ListProperty([])  # the drop-off receipt as last sent to the printer
    qr = StringProperty("")  # the receipt as a QR code, shown only when no paper receipt came out
    _watch_ev: ClockEvent | None = None
    _wait_cancel: threading.Event | None = None
    _opened_at = 0.0
    _error: BaseException | None = None

    def on_kv_post(self, _base: Any) -> None:
        self.app.bind(lang=self._on_lang)

    def refresh(self) -> None:
        h: Any = self.handle
        if h is None:
            return
        # Two cabinets may both have an A01 (kiosk.cabinet.labels): then every text names the cabinet too.
        self.label = shown(h.cabinet_id, h.label, [c.id for c in self.app.cfg.cabinets])
        self.closed = self.failed = self.reminding = self.nothing_taken = False
        self.help_shown = self.reported = False
        self._error = None
        self.result = None
        self.done_text = self.printed = self.print_key = self.receipt = self.qr = ""
        self.slots = self.app.rt.doors.cabinet_slots(h.cabinet_id)
        self.can_simulate = self.app.rt.sims.door_sim(h.cabinet_id) is not None
        self._opened_at = self.app.idle_clock()  # the app's idle clock, so tests can move it
        self.holds_session = True
        self._stop_watch()
        self._watch_ev = Clock.schedule_interval(self._watch, 0.5)
        self._wait()

    def _wait(self) -> None:
        # busy=False: the screen stays live while the person takes their time; holds_session stops the reset.
        self._wait_cancel = threading.Event()
        self.app.call(
            self.app.rt.doors.wait_closed,
            self.handle,
            cancel=self._wait_cancel,
            busy=False,
            on_done=self._closed,
            on_error=self._failed,
        )

    def _watch(self, _dt: float) -> None:
        """While the door is open: remind them to close it, and let go of the session once it is clearly abandoned."""
        if not self.holds_session:
            self._stop_watch()
            return
        open_s = self.app.idle_clock() - self._opened_at
        if open_s >= self.app.cfg.kiosk.inactivity_warning_s:
            self.reminding = True
        if open_s >= DOOR_HOLD_MAX_S:
            log.warning("door %s open for %.0f s: no longer holding the session", self.label, open_s)
            self._release()

    def _release(self) -> None:
        """Stop holding the session; its idle timer starts from now (the usual warning comes warning_s later)."""
        self.holds_session = False
        self._stop_watch()
        self.app.touch()

    def _stop_watch(self) -> None:
        if self._watch_ev is not None:
            self._watch_ev.cancel()
            self._watch_ev = None

    def _failed(self, err: BaseException) -> None:
        if isinstance(err, KioskError) and err.citizen_key == "error.close_door":
            self.reminding = True
            self._wait()  # still open: keep asking until it closes
            return
        # The door cannot be read (a board that stopped answering): waiting longer helps nobody. Release the
        # session so it ends normally, and show the way out (and the service desk) now.
        log.warning("door %s: waiting for it to close failed: %s", self.label, type(err).__name__)
        self._error = err
        self.error = self.app.error_text(err)
        self.failed = True
        self.help_shown = True
        self._release()

    def spoken(self) -> list[str]:
        """The door that opened (its label a cached segment of its own), then what to do."""
        if self.closed or not self.label:
            return [self.done_text] if self.closed and self.done_text else []
        t = self.app.t
        return [t("voice.door_open", label=self.label), t(f"door.instruction.{self.purpose}")]

    def on_reminding(self, _w: Any, reminding: bool) -> None:
        if reminding and self.app.sm.current == self.name:
            self.app.say(self.app.t("voice.door_remind"))

    def _on_lang(self, *_: Any) -> None:
        if self._error is not None:
            self.error = self.app.error_text(
                self._error
            )  # the error follows a language change, like the rest
        if self.closed:
            self._show_done()

    def _closed(self, result: Any) -> None:
        self.closed = True
        self.reminding = False
        self._release()
        self.result = result
        self.error = ""
        self.app.session.scratch["last_flow"] = result
        if self.reported and result.outcome in WORKED:
            self.help_shown = False
            self.app.call(settle_report, self.app.rt.parts.cabinet, result.flow_id, busy=False)
        # The sensor still saw the item when staff shut the door: the core changed nothing, and "Collected." would
        # send them away believing the compartment is empty.
        self.nothing_taken = self.purpose == "collect" and result.outcome == "item_still_inside"
        self._show_done()
        if self.purpose == "dropoff" and result.receipt_number:
            self._print_dropoff(result)
        if self.purpose in ("pickup", "dropoff"):
            self.app.remind_take_card(
                self.spoken()
            )  # what happened, then: take your card, if still in the reader

    def _show_done(self) -> None:
        r: Any = self.result
        t = self.app.t
        if r is None:
            return
        # What the sensor saw when the door shut decides the words: never thank someone for what did not happen.
        if r.outcome in ("cancelled_empty", "item_left"):
            self.done_text = t(f"door.done.{r.outcome}.{self.purpose}", label=self.label)
        elif self.purpose == "dropoff":
            self.done_text = t("door.done.dropoff", number=r.receipt_number or "")
        elif self.purpose == "deposit":
            self.done_text = t("door.done.deposit", label=self.label)
        elif self.nothing_taken:
            self.done_text = t("door.done.collect_still_inside", label=self.label)
        else:
            self.done_text = t(f"door.done.{self.purpose}")

    def _print_dropoff(self, r: Any) -> None:
        self.receipt = r.receipt_number
        if self.app.rt.printer is None:
            self._no_paper("no_printer", "door.printed.no_printer")
            return
        self.printed, self.print_key = "printing", "door.printed.printing"
        lines = with_matter(
            self.app.rt.citizen.receipt_lines_for_dropoff(replace(r, label=self.label)), self.matter
        )
        self.receipt_lines = lines  # the door as shown, and the matter dropped off
        self.app.call(
            self.app.rt.citizen.print_receipt,
            lines,
            f"DROPOFF:{r.receipt_number}",
            busy=False,
            on_done=lambda _r: self._printed(),
            on_error=self._print_failed,
        )

    def _printed(self) -> None:
        self.printed, self.print_key = "printed", "door.printed.printed"

    def _print_failed(self, err: BaseException) -> None:
        # Out of paper, cover open, unplugged: the citizen must still leave with the receipt number, which is
        # how staff find their materials in the morning. The printer's error text (PrinterError.citizen_key) points
        # to the QR code beside it; any other failure to print means the same to the citizen.
        log.warning("drop-off receipt not printed: %s", type(err).__name__)
        self._no_paper("failed", "error.printer")

    def _no_paper(self, state: str, key: str) -> None:
        self.printed, self.print_key = state, key
        self.qr = f"DROPOFF:{self.receipt}"

    def next(self) -> None:
        if self.purpose in ("pickup", "dropoff"):
            self.app.go("rate", case_number="", matter_code="", context=self.purpose)
        else:
            self.leave()

    def leave(self) -> None:
        """The way out after a failure: staff and technicians back to their menu, a citizen to the start."""
        if self.purpose in ("deposit", "collect"):
            self.app.go("staff")
        elif self.purpose == "tech":
            self.app.go("tech")
        else:
            self.app.start_again()  # its button says 返回首页: the person keeps their language and text size

    def did_not_open(self) -> None:
        self.help_shown = True
        self.reported = True
        self.app.rt.doors.report_door_problem(self.handle)

    def wipe(self) -> None:
        if self.handle is not None and not (self.closed or self.failed):
            # Walked away with the door open: the runtime's doors loop finishes the flow when the door is shut,
            # or raises the staff task for a door left open; this screen's wait would only tie up a worker.
            log.warning("session ended with door %s still open", self.label)
        if self._wait_cancel is not None:
            self._wait_cancel.set()
            self._wait_cancel = None
        self._stop_watch()
        super().wipe()
        self._error = None
        self.handle = None
        self.result = None
        self.label = self.done_text = self.printed = self.print_key = self.receipt = self.qr = ""
        self.reported = False
        self.matter = ""
        self.receipt_lines = []
        self.closed = self.help_shown = self.reminding = self.failed = self.holds_session = (
            self.nothing_taken
        ) = False


def settle_report(cabinet: Any, flow_id: int) -> None:
    """Resolve the "door did not open" tasks raised for a flow that then finished normally (on a worker)."""
    for task in cabinet.tasks():
        if task.kind == "reported_problem" and task.flow_id == flow_id:
            cabinet.resolve_task(task.id, actor="kiosk", note="the door then opened and the flow finished")


def with_matter(lines: list[str], matter: str) -> list[str]:
    """A drop-off receipt with the matter the materials are for, under its headline (kiosk.receipts.dropoff_lines
    has no matter: the runtime does not pass it yet, so the screen that knows it adds it)."""
    if not matter or any(matter in line for line in lines):
        return lines
    at = next((i + 1 for i, line in enumerate(lines) if line.startswith("材料已投递")), len(lines))
    return [*lines[:at], f"事项 Matter: {matter}", *lines[at:]]
