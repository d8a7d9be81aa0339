"""The Cabinet service: flows, staff operations, and start-up (sync from config, reconcile)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from kiosk.audit import append as audit
from kiosk.cabinet import board_watch, sensor_check, store
from kiosk.cabinet.admin import Admin
from kiosk.cabinet.flows import Person
from kiosk.cabinet.reconcile import reconcile, settle_found_open
from kiosk.cabinet.results import FlowHandle, FlowResult, ReconcileReport

log = logging.getLogger(__name__)


class Cabinet(Admin):
    """One kiosk's cabinets. Call :meth:`start` once when the process that owns the lock buses starts."""

    def sync(self) -> None:
        """Bring compartments in line with the config (keeping their states); no reconciliation."""
        with self._tx() as (s, now):
            changes = store.sync_compartments(s, list(self.cabinets.values()), now)
            if changes:
                audit(s, now, "kiosk", "cabinet.synced", ", ".join(self.cabinets), changes=changes)

    def start(self) -> ReconcileReport:
        """Sync compartments from the config, then reconcile unfinished flows (once, at the owner's start-up)."""
        self.sync()
        report = reconcile(self)
        if sensor_check.pending(self):  # the database was restored from a backup since the last start
            report.lines.extend(sensor_check.run(self))
        for line in report.lines:
            log.warning("start-up reconciliation: %s", line)
        return report

    def recheck_boards(self) -> list[int]:
        """Every few seconds (the runtime): close the task of a board that answers again."""
        return board_watch.recheck(self, self.board_tries)

    def settle_open_flows(self) -> list[FlowResult]:
        """Every few seconds (the runtime): doors found open at start-up first, then doors left open."""
        return settle_found_open(self) + super().settle_open_flows()

    # --- one-call conveniences (the CLI; a UI uses start_* then poll/wait_closed) ----------------
    def deposit(self, case_number: str, *, actor: str, size: str = "M", applicant: Person | None = None,
                timeout_s: float | None = None) -> FlowResult:
        return self.wait_closed(self.start_deposit(case_number, actor=actor, size=size, applicant=applicant), timeout_s)

    def pickup_by_code(self, code: str, *, actor: str = "citizen", timeout_s: float | None = None) -> FlowResult:
        return self.wait_closed(self.start_pickup_by_code(code, actor=actor), timeout_s)

    def pickup_by_identity(self, person: Person, *, actor: str = "citizen", timeout_s: float | None = None) -> FlowResult:
        return self.wait_closed(self.start_pickup_by_identity(person, actor=actor), timeout_s)

    def dropoff(self, person: Person, *, case_number: str | None = None, matter_code: str | None = None,
                matter_name: str | None = None, size: str = "M", actor: str = "citizen",
                timeout_s: float | None = None) -> FlowResult:
        handle = self.start_dropoff(person, case_number=case_number, matter_code=matter_code, matter_name=matter_name,
                                    size=size, actor=actor)
        return self.wait_closed(handle, timeout_s)

    def collect(self, parcel_id: int, *, actor: str, reason: str = "", timeout_s: float | None = None,
                on_open: Callable[[FlowHandle], None] | None = None) -> FlowResult:
        """Take one named parcel out (staff): :meth:`start_collect`, then wait for the door."""
        handle = self.start_collect(parcel_id, actor=actor, reason=reason)
        if on_open is not None:
            on_open(handle)
        return self.wait_closed(handle, timeout_s)
