"""The doors a screen waits on, ``rt.doors``: the door screen's wait, a citizen's "the door did not open", the
cabinet's slots as the screen draws them, and the doors loop that finishes flows nobody waits on any more.

One owner for the handles a screen gave up on (``unwatched``): the wait hands a flow over when its screen goes
away, and :meth:`DoorService.settle` (the runtime's doors loop) finishes it once its door is shut.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

from hallkiosk.services.core import Core
from kiosk.cabinet.labels import ref as door_name

if TYPE_CHECKING:
    from kiosk.cabinet import FlowHandle, FlowResult
    from kiosk.cabinet_views import SlotInfo

log = logging.getLogger(__name__)

DOORS_INTERVAL_S = 5.0  # how often doors left open are looked at again


class DoorService:
    """What the door screen calls (on a worker: every method may block), and the doors loop."""

    def __init__(self, core: Core) -> None:
        self.core = core
        self.unwatched: dict[int, FlowHandle] = {}  # flow id -> open door whose screen went away

    def wait_closed(
        self, handle: FlowHandle, timeout_s: float | None = None, cancel: threading.Event | None = None
    ) -> FlowResult:
        """The core's wait, ended early when the runtime stops or ``cancel`` is set (the screen went away: the
        doors loop takes over, and a worker is not tied up for close_timeout_s). The flow stays open: waiting
        again, or the doors loop, finishes it."""
        from kiosk.cabinet import DoorLeftOpen

        stopping = self.core.stopping
        try:
            res = self.core.parts.cabinet.wait_closed(
                handle,
                timeout_s,
                cancel=lambda: stopping.is_set() or (cancel is not None and cancel.is_set()),
            )
        except DoorLeftOpen as err:
            if err.task_id is None and not stopping.is_set():
                self.unwatched[handle.flow_id] = handle  # nobody waits now: the doors loop finishes it
            raise
        # The flow's ending queued ReportDelivery / NotifyApplicant in the outbox: send them now, not at the next poll.
        self.core.parts.sender.poke()
        return res

    def cabinet_slots(self, cabinet_id: str) -> list[SlotInfo]:
        """The cabinet's doors in their configured (physical) order with their stored states; a quick DB read."""
        from kiosk.cabinet_views import cabinet_slots

        cab = next((c for c in self.core.cfg.cabinets if c.id == cabinet_id), None)
        return [] if cab is None else cabinet_slots(self.core.app.db, cab)

    def report_door_problem(self, handle: FlowHandle | None) -> None:
        """The citizen says the door did not open: a staff task (the flow itself settles on its own)."""
        if handle is not None:
            self.core.parts.cabinet.report_problem(
                door_name(handle.cabinet_id, handle.label),  # CABINET:LABEL (kiosk.cabinet.labels)
                "the citizen says the door did not open",
                actor="citizen",
                flow_id=handle.flow_id,
            )
            log.warning("citizen reports door %s did not open (flow %s)", handle.label, handle.flow_id)

    def settle(self) -> None:
        """A door left open past its timeout gets a staff task; once shut, its flow ends (and its report goes out)
        even when no screen waits on it any more."""
        cabinet = self.core.parts.cabinet
        done = [fid for fid, h in list(self.unwatched.items()) if cabinet.poll(h) is not None]
        for fid in done:
            del self.unwatched[fid]  # shut since: finished now, not only once its timeout has passed
        if cabinet.settle_open_flows() or done:
            self.core.parts.sender.poke()
        cabinet.recheck_boards()  # a board that answers again closes its own task

    def loop(self) -> None:
        """The doors loop (its own thread) until the runtime stops."""
        while not self.core.stopping.wait(DOORS_INTERVAL_S):
            try:
                self.settle()
            except Exception:  # the loop must outlive a database or bus hiccup
                log.exception("settling open doors failed unexpectedly")
