"""The kiosk's side of the hall console's door commands (:mod:`kiosk.door_commands`).

The console addresses a door move to the kiosk that owns the cabinet; nothing moves until a staff member signed
in at this kiosk confirms it. This module is the whole kiosk side: a small thread polls the database for this
kiosk's pending commands (so the staff screen can list them without touching the database on the UI thread), and
:meth:`ConsoleLink.confirm` claims one and runs it through the cabinet's public take-back
(:meth:`~kiosk.cabinet.Cabinet.start_collect`) or technician-open method, then records how it ended.

Hooks (one line each, kept out of this module so the runtime and UI stay the structure helper's):
the runtime builds ``ConsoleLink(db, cabinet, kiosk_id, clock)`` as ``rt.parts.console_link`` and runs
``console_link.loop(stop)`` on a thread of its own (or ``start()``/``stop()``); the staff screen
(ui/screens/staff_commands.py) shows ``link.waiting`` and calls ``link.confirm(command_id, staff_id)``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kiosk import door_commands as dc
from kiosk import sensor_readings
from kiosk.cabinet import Cabinet, FlowHandle
from kiosk.clock import Clock
from kiosk.errors import KioskError
from kiosk.storage.db import Database

log = logging.getLogger(__name__)
POLL_S = 2.0  # the console's "within 2 s" for a kiosk event applies in the other direction too
SENSOR_S = 30.0  # one board read per board per round: light on the bus, fresh enough for a grid


@dataclass(frozen=True)
class Confirmed:
    """A command run at this kiosk: its row as finished, and the door's flow to follow (None if it failed);
    ``handle`` for a take-back, which the kiosk's door screen follows like any staff collection."""

    command: dc.CommandView
    flow_id: int | None
    handle: FlowHandle | None = None


def console_link_of(parts: Any) -> ConsoleLink:
    """The runtime's link (``rt.parts.console_link``): its database, cabinet, kiosk id and clock."""
    return ConsoleLink(parts.app.db, parts.cabinet, parts.cfg.kiosk.id, parts.app.clock)


class ConsoleLink:
    def __init__(
        self,
        db: Database,
        cabinet: Cabinet,
        kiosk_id: str,
        clock: Clock,
        *,
        poll_s: float = POLL_S,
        on_change: Callable[[list[dc.CommandView]], None] | None = None,
    ) -> None:
        self.db = db
        self.cabinet = cabinet
        self.kiosk_id = kiosk_id
        self.clock = clock
        self.poll_s = poll_s
        self.on_change = on_change
        self.waiting: list[dc.CommandView] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._run_lock = threading.Lock()  # one door command at a time from this kiosk

    # --- polling ----------------------------------------------------------------------------------------
    def poll(self) -> list[dc.CommandView]:
        """Read this kiosk's pending commands now (expiring stale ones); tells ``on_change`` when they differ."""
        with self.db.transaction() as s:
            now = self.clock.now()
            fresh = dc.pending(s, now, self.kiosk_id)
        if [c.id for c in fresh] != [c.id for c in self.waiting]:
            self.waiting = fresh
            if self.on_change is not None:
                self.on_change(fresh)
        else:
            self.waiting = fresh
        return fresh

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="console-link", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None

    def _loop(self) -> None:
        self.loop(self._stop)

    def loop(self, stop: threading.Event) -> None:
        """Poll until ``stop`` is set (the runtime runs this on its own thread with its stop event); every
        ``SENSOR_S`` also store a round of sensor readings."""
        next_read = 0.0
        while not stop.is_set():
            try:
                self.poll()
                if time.monotonic() >= next_read:
                    self.read_sensors()
                    next_read = time.monotonic() + SENSOR_S
            except Exception:  # a database hiccup must not end the loop: the next poll tries again
                log.exception("console link: polling door commands failed")
            stop.wait(self.poll_s)

    def read_sensors(self) -> bool:
        """Store what this kiosk's boards say now, only while no door of it is opening or open and no door
        command runs (those have the bus; the reading waits for the next round). True if a round was stored."""
        if not self._run_lock.acquire(blocking=False):
            return False
        try:
            with self.db.transaction() as s:
                if sensor_readings.door_busy(s, list(self.cabinet.buses)):
                    return False
            status = self.cabinet.status()
            with self.db.transaction() as s:
                sensor_readings.store(s, self.kiosk_id, status)
            return True
        finally:
            self._run_lock.release()

    # --- running ----------------------------------------------------------------------------------------
    def confirm(self, command_id: int, staff_id: str) -> Confirmed:
        """Run one command, confirmed by ``staff_id`` (signed in at this kiosk). Refused (CommandRefused) when it
        is stale, already taken or not this kiosk's; a door that does not open is recorded as ``failed``."""
        with self._run_lock:
            with self.db.transaction() as s:  # stale ones first, in a transaction of their own (kept)
                dc.expire(s, self.clock.now(), self.kiosk_id)
            with self.db.transaction() as s:
                cmd = dc.claim(s, self.clock.now(), command_id, kiosk_id=self.kiosk_id, confirmer=staff_id)
            actor = f"staff:{staff_id}"
            flow_id: int | None = None
            handle: FlowHandle | None = None
            try:
                if cmd.kind == dc.TAKE_BACK:
                    assert cmd.parcel_id is not None  # issue() refuses a take-back with no parcel
                    handle = self.cabinet.start_collect(cmd.parcel_id, actor=actor, reason=cmd.reason)
                    flow_id, ok, result = handle.flow_id, True, f"door {handle.label} open for take-back"
                else:
                    res = self.cabinet.technician_open(cmd.door, actor=actor)  # CABINET:LABEL
                    flow_id, ok, result = res.flow_id, True, f"door {res.label} open for inspection"
            except KioskError as err:
                ok, result = False, f"{type(err).__name__}: {err}"
            with self.db.transaction() as s:
                done = dc.finish(s, self.clock.now(), command_id, ok=ok, result=result)
        self.waiting = [c for c in self.waiting if c.id != command_id]
        return Confirmed(command=done, flow_id=flow_id, handle=handle)
