"""The Cabinet facade: one object with the cabinet's public methods, composed of its parts.

- :class:`kiosk.cabinet.context.CabinetContext`: the database, buses, config, clock and per-process memory;
- :class:`kiosk.cabinet.door.DoorEngine`: open, confirm, watch until shut (no knowledge of parcels);
- :mod:`kiosk.cabinet.policies`: one policy per flow kind (open failed, closed, refused, reconcile);
- :class:`kiosk.cabinet.flows.Starts`: each flow kind's start rule;
- :class:`kiosk.cabinet.admin.Desk`: the staff desk and technician operations.

Each public method says here which part answers it; nothing inherits from anything."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping, Sequence

from kiosk.audit import append as audit
from kiosk.cabinet import board_watch, sensor_check, store
from kiosk.cabinet.admin import Desk
from kiosk.cabinet.codes import CodeWait
from kiosk.cabinet.context import CabinetContext
from kiosk.cabinet.door import DoorEngine
from kiosk.cabinet.flows import Person, Starts
from kiosk.cabinet.reconcile import reconcile, settle_found_open
from kiosk.cabinet.results import (
    CompartmentStatus,
    FlowHandle,
    FlowResult,
    LockoutCleared,
    ParcelView,
    ReconcileReport,
    TaskView,
)
from kiosk.clock import Clock
from kiosk.config import CabinetConfig, PickupConfig
from kiosk.errors import KioskError
from kiosk.ports import LockBus, Platform
from kiosk.storage.db import Database

log = logging.getLogger(__name__)


class Cabinet:
    """One kiosk's cabinets. Call :meth:`start` once when the process that owns the lock buses starts."""

    def __init__(
        self,
        db: Database,
        buses: Mapping[str, LockBus],
        cabinets: Sequence[CabinetConfig],
        pickup: PickupConfig,
        clock: Clock,
        secret: bytes,
        kiosk_id: str,
        platform: Platform | None = None,
        *,
        close_poll_interval_s: float = 0.2,
    ) -> None:
        self.ctx = CabinetContext(
            db,
            buses,
            cabinets,
            pickup,
            clock,
            secret,
            kiosk_id,
            platform,
            close_poll_interval_s=close_poll_interval_s,
        )
        self.door = DoorEngine(self.ctx)
        self.starts = Starts(self.ctx, self.door)
        self.desk = Desk(self.ctx, self.door)
        # The shared objects, under the names callers have always used (the same objects as the context's).
        self.db, self.buses, self.cabinets, self.clock = db, self.ctx.buses, self.ctx.cabinets, clock
        self.pickup, self.secret, self.kiosk_id, self.platform = pickup, secret, kiosk_id, platform
        self.guard, self.found_open, self.unknown_doors = (
            self.ctx.guard,
            self.ctx.found_open,
            self.ctx.unknown_doors,
        )
        self.close_poll_interval_s = close_poll_interval_s

    # --- start-up and the runtime's loops -------------------------------------------------------
    def sync(self) -> None:
        """Bring compartments in line with the config (keeping their states); no reconciliation."""
        with self.ctx.tx() as (s, now):
            changes = store.sync_compartments(s, list(self.ctx.cabinets.values()), now)
            if changes:
                audit(s, now, "kiosk", "cabinet.synced", ", ".join(self.ctx.cabinets), changes=changes)

    def start(self) -> ReconcileReport:
        """Sync compartments from the config, then reconcile unfinished flows (once, at the owner's start-up)."""
        self.sync()
        report = reconcile(self.door)
        if n := self.door.recall_unknown():
            report.lines.append(
                f"{n} door(s) still of unknown state since before the restart: read before any open"
            )
        if sensor_check.pending(self.ctx):  # the database was restored from a backup since the last start
            report.lines.extend(sensor_check.run(self.ctx))
        for line in report.lines:
            log.warning("start-up reconciliation: %s", line)
        return report

    def recheck_boards(self) -> list[int]:
        """Every few seconds (the runtime): close the task of a board that answers again."""
        return board_watch.recheck(self.ctx, self.ctx.board_tries)

    def settle_open_flows(self) -> list[FlowResult]:
        """Every few seconds (the runtime): doors found open at start-up first, then doors left open."""
        return settle_found_open(self.door) + self.door.settle_open_flows()

    # --- the door engine ------------------------------------------------------------------------
    def poll(self, handle: FlowHandle | int) -> FlowResult | None:
        return self.door.poll(handle)

    def wait_closed(
        self,
        handle: FlowHandle | int,
        timeout_s: float | None = None,
        cancel: threading.Event | Callable[[], bool] | None = None,
    ) -> FlowResult:
        return self.door.wait_closed(handle, timeout_s, cancel)

    def flag_left_open(self, handle: FlowHandle | int) -> int | None:
        return self.door.flag_left_open(handle)

    # --- starting flows -------------------------------------------------------------------------
    def start_deposit(
        self, case_number: str, *, actor: str, size: str = "M", applicant: Person | None = None
    ) -> FlowHandle:
        return self.starts.start_deposit(case_number, actor=actor, size=size, applicant=applicant)

    def start_pickup_by_code(self, code: str, *, actor: str = "citizen") -> FlowHandle:
        return self.starts.start_pickup_by_code(code, actor=actor)

    def start_pickup_by_identity(
        self, person: Person, *, parcel_id: int | None = None, actor: str = "citizen"
    ) -> FlowHandle:
        return self.starts.start_pickup_by_identity(person, parcel_id=parcel_id, actor=actor)

    def parcels_for(self, person: Person) -> list[ParcelView]:
        return self.starts.parcels_for(person)

    def start_dropoff(
        self,
        person: Person,
        *,
        case_number: str | None = None,
        matter_code: str | None = None,
        matter_name: str | None = None,
        size: str = "M",
        actor: str = "citizen",
    ) -> FlowHandle:
        return self.starts.start_dropoff(
            person,
            case_number=case_number,
            matter_code=matter_code,
            matter_name=matter_name,
            size=size,
            actor=actor,
        )

    def collectable(self, *, include_ready: bool = False) -> list[ParcelView]:
        return self.starts.collectable(include_ready=include_ready)

    def start_collect(self, parcel_id: int, *, actor: str, reason: str = "") -> FlowHandle:
        return self.starts.start_collect(parcel_id, actor=actor, reason=reason)

    def run_collect(
        self, *, actor: str, on_open: Callable[[FlowHandle], None] | None = None
    ) -> list[FlowResult | KioskError]:
        return self.starts.run_collect(actor=actor, on_open=on_open)

    # --- the staff desk and the technician ------------------------------------------------------
    def status(self) -> list[CompartmentStatus]:
        return self.desk.status()

    def technician_open(self, label: str, *, actor: str) -> FlowResult:
        return self.desk.technician_open(label, actor=actor)

    def technician_open_all(
        self, board: int, *, actor: str, cabinet_id: str | None = None
    ) -> list[FlowResult]:
        return self.desk.technician_open_all(board, actor=actor, cabinet_id=cabinet_id)

    def wait_board_shut(
        self, board: int, *, cabinet_id: str | None = None, timeout_s: float | None = None
    ) -> list[str]:
        return self.desk.wait_board_shut(board, cabinet_id=cabinet_id, timeout_s=timeout_s)

    def check_after_open_all(self, board: int, *, cabinet_id: str | None = None) -> list[str]:
        return self.desk.check_after_open_all(board, cabinet_id=cabinet_id)

    def disable(self, label: str, *, actor: str, reason: str = "") -> None:
        self.desk.disable(label, actor=actor, reason=reason)

    def enable(self, label: str, *, actor: str) -> str:
        return self.desk.enable(label, actor=actor)

    def tasks(self, *, open_only: bool = True) -> list[TaskView]:
        return self.desk.tasks(open_only=open_only)

    def report_problem(self, label: str, detail: str, *, actor: str, flow_id: int | None = None) -> int:
        return self.desk.report_problem(label, detail, actor=actor, flow_id=flow_id)

    def resolve_task(self, task_id: int, *, actor: str, note: str = "") -> None:
        self.desk.resolve_task(task_id, actor=actor, note=note)

    def handover(self, parcel_id: int, *, actor: str, note: str = "") -> ParcelView:
        return self.desk.handover(parcel_id, actor=actor, note=note)

    def putback(self, parcel_id: int, *, actor: str, note: str = "") -> ParcelView:
        return self.desk.putback(parcel_id, actor=actor, note=note)

    def overdue(self) -> list[ParcelView]:
        return self.desk.overdue()

    def clear_lockout(self, *, actor: str) -> LockoutCleared:
        return self.desk.clear_lockout(actor=actor)

    def code_wait(self) -> CodeWait:
        return self.desk.code_wait()

    # --- one-call conveniences (the CLI; a UI uses start_* then poll/wait_closed) ----------------
    def deposit(
        self,
        case_number: str,
        *,
        actor: str,
        size: str = "M",
        applicant: Person | None = None,
        timeout_s: float | None = None,
    ) -> FlowResult:
        return self.wait_closed(
            self.start_deposit(case_number, actor=actor, size=size, applicant=applicant), timeout_s
        )

    def pickup_by_code(
        self, code: str, *, actor: str = "citizen", timeout_s: float | None = None
    ) -> FlowResult:
        return self.wait_closed(self.start_pickup_by_code(code, actor=actor), timeout_s)

    def pickup_by_identity(
        self, person: Person, *, actor: str = "citizen", timeout_s: float | None = None
    ) -> FlowResult:
        return self.wait_closed(self.start_pickup_by_identity(person, actor=actor), timeout_s)

    def dropoff(
        self,
        person: Person,
        *,
        case_number: str | None = None,
        matter_code: str | None = None,
        matter_name: str | None = None,
        size: str = "M",
        actor: str = "citizen",
        timeout_s: float | None = None,
    ) -> FlowResult:
        handle = self.start_dropoff(
            person,
            case_number=case_number,
            matter_code=matter_code,
            matter_name=matter_name,
            size=size,
            actor=actor,
        )
        return self.wait_closed(handle, timeout_s)

    def collect(
        self,
        parcel_id: int,
        *,
        actor: str,
        reason: str = "",
        timeout_s: float | None = None,
        on_open: Callable[[FlowHandle], None] | None = None,
    ) -> FlowResult:
        """Take one named parcel out (staff): :meth:`start_collect`, then wait for the door."""
        handle = self.start_collect(parcel_id, actor=actor, reason=reason)
        if on_open is not None:
            on_open(handle)
        return self.wait_closed(handle, timeout_s)
