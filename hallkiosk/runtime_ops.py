"""The runtime's operations, as the UI calls them (on a worker thread): citizen flows, staff and technician.

Split from :mod:`hallkiosk.runtime` (threading, readers, life cycle) to keep each
file readable. Every method here may block; none touches the UI.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any

from hallkiosk.console_link import console_link_of
from kiosk import receipts
from kiosk.cabinet.labels import ref as door_name
from kiosk.clock import local
from kiosk.errors import PlatformError, PlatformUnavailable
from kiosk.identity import Identity
from kiosk.platform_models import Applicant, Assistant, CaseSummary, FieldSpec, MailAddress, Matter

# The services below import SQLAlchemy and Alembic (half a second): they are imported where first used, on the
# start-up thread, so the first frame of the start screen does not wait for them.
if TYPE_CHECKING:
    from hallkiosk.wiring import App
    from kiosk.applications import ApplicationService, Receipt
    from kiosk.cabinet import Cabinet, FlowHandle, FlowResult
    from kiosk.cabinet_views import SlotInfo
    from kiosk.catalog import CatalogService
    from kiosk.config import Config
    from kiosk.evaluations import EvaluationService
    from kiosk.heartbeat import HeartbeatService
    from kiosk.help import HelpOutcome, HelpService
    from kiosk.outbox_sender import OutboxSender
    from kiosk.ports import Printer

log = logging.getLogger(__name__)

DOORS_INTERVAL_S = 5.0  # how often doors left open are looked at again


class Services:
    """The core services, built from the App on first use."""

    app: App
    cfg: Config
    printer: Printer | None
    _stop: threading.Event
    _ready: threading.Event

    def __init__(self) -> None:
        self._orphans: dict[int, FlowHandle] = {}  # open doors whose screen went away

    def _set_platform_status(self, reachable: bool, detail: str = "") -> None:  # implemented by Runtime
        raise NotImplementedError

    def _spawn(self, name: str, target: Any) -> None:  # implemented by Runtime
        raise NotImplementedError

    def _reminders_loop(self) -> None:  # implemented by ServiceOps
        raise NotImplementedError

    def post(self, fn: Callable[[], None]) -> None:  # implemented by Runtime
        raise NotImplementedError

    @cached_property
    def catalog(self) -> CatalogService:
        from kiosk.catalog import CatalogService

        return CatalogService(
            self.app.db, self.app.platform, self.app.clock, region_code=self.cfg.platform.region_code
        )

    @cached_property
    def sender(self) -> OutboxSender:
        from kiosk.outbox_sender import OutboxSender

        return OutboxSender(
            self.app.db,
            self.app.platform,
            self.app.secret,
            self.app.clock,
            self.cfg.platform,
            on_unknown_matter=self.catalog.invalidate,
        )

    @cached_property
    def applications(self) -> ApplicationService:
        from kiosk.applications import ApplicationService

        return ApplicationService(self.app.db, self.app.secret, self.app.clock, self.catalog, self.sender)

    @cached_property
    def evaluations(self) -> EvaluationService:
        from kiosk.evaluations import EvaluationService

        return EvaluationService(self.app.db, self.app.secret, self.app.clock, self.sender)

    @cached_property
    def heartbeat(self) -> HeartbeatService:
        from hallkiosk.diag import device_health
        from kiosk.heartbeat import HeartbeatService

        # The heartbeat reports what the passive diagnostics see, so the province sees what a technician would.
        return HeartbeatService(
            self.app.db,
            self.app.platform,
            self.app.clock,
            self.cfg.platform,
            catalog=self.catalog,
            devices=lambda: device_health(self.app),
            on_alarm_cleared=self.sender.resume,
        )

    @cached_property
    def cabinet(self) -> Cabinet:
        from kiosk.cabinet import Cabinet

        return Cabinet(
            self.app.db,
            self.app.buses,
            self.cfg.cabinets,
            self.cfg.pickup,
            self.app.clock,
            self.app.secret,
            self.cfg.kiosk.id,
            platform=self.app.platform,
        )

    console_link = cached_property(console_link_of)  # door commands from the hall console (issue 14)

    @cached_property
    def help(self) -> HelpService:
        from kiosk.clock import StaffedHours
        from kiosk.help import HelpService

        hc = self.cfg.help
        return HelpService(
            self.app.db,
            self.app.clock,
            kiosk_id=self.cfg.kiosk.id,
            hall_hotline=hc.hotline,
            hours=StaffedHours.parse(hc.staffed_hours),
            platform=self.app.platform,
        )

    def request_help(self, screen: str, language: str) -> HelpOutcome:
        """The "Get help" button: a staff task now, then the platform's answer (bounded by its timeout)."""
        return self.help.request_help(screen, language=language)

    def _start_services(self) -> None:
        from drivers.printer import build_printer

        self.printer = build_printer(self.cfg.printer, self.cfg.data_dir)
        report = self.cabinet.start()
        if report.staff_tasks:
            log.warning("start-up reconciliation raised %d staff task(s)", len(report.staff_tasks))
        self.sender.start()
        self._spawn("heartbeat", self._heartbeat_loop)
        self._spawn("cabinet-doors", self._doors_loop)
        self._spawn("kiosk-status", self._status_loop)  # the hall console's kiosk row (issue 14)
        self._spawn("console-link", lambda: self.console_link.loop(self._stop))  # hallkiosk.console_link
        self._spawn("pickup-reminders", self._reminders_loop)  # hallkiosk.runtime_services

    def _status_loop(self) -> None:
        from hallkiosk.status_report import status_loop

        status_loop(
            self.app,
            self._stop,
            screen=lambda: getattr(self, "screen_name", ""),
            platform_reachable=lambda: self.platform_status.reachable,
        )  # type: ignore[attr-defined]

    def _doors_loop(self) -> None:
        while not self._stop.wait(DOORS_INTERVAL_S):
            try:
                self.settle_doors()
            except Exception:  # the loop must outlive a database or bus hiccup
                log.exception("settling open doors failed unexpectedly")

    def settle_doors(self) -> None:
        """A door left open past its timeout gets a staff task; once shut, its flow ends (and its report goes out)
        even when no screen waits on it any more."""
        done = [fid for fid, h in list(self._orphans.items()) if self.cabinet.poll(h) is not None]
        for fid in done:
            del self._orphans[fid]  # shut since: finished now, not only once its timeout has passed
        if self.cabinet.settle_open_flows() or done:
            self.sender.poke()
        self.cabinet.recheck_boards()  # a board that answers again closes its own task

    def _heartbeat_loop(self) -> None:
        # Our own loop around beat_once (rather than HeartbeatService.start) so every beat updates the start screen.
        while not self._stop.is_set():
            try:
                self.beat()
            except Exception:  # the loop must outlive a database hiccup
                log.exception("heartbeat failed unexpectedly")
            self._stop.wait(self.cfg.platform.heartbeat_interval_s)

    def beat(self) -> bool:
        """One heartbeat now; the start screen's notice follows its outcome."""
        res = self.heartbeat.beat_once()
        self._set_platform_status(res.ok, "" if res.ok else getattr(res.error, "message", "heartbeat failed"))
        return res.ok

    def _stop_services(self) -> None:
        if "sender" in self.__dict__:
            self.sender.stop(timeout_s=5)

    def _platform(self, fn: Any, *args: Any, **kw: Any) -> Any:
        """A direct platform call that also keeps the start screen's reachability notice true."""
        try:
            out = fn(*args, **kw)
        except PlatformUnavailable as err:
            self._set_platform_status(False, err.message)
            raise
        self._set_platform_status(True)
        return out


def applicant_of(identity: Identity, phone: str | None = None) -> Applicant:
    kind = "RESIDENT_ID" if identity.card_kind == "resident_id" else "SOCIAL_SECURITY_CARD"
    return Applicant(kind, identity.id_number, identity.name, phone or None)  # type: ignore[arg-type]


class CitizenOps(Services):
    """What a citizen's screens call."""

    def matters(self) -> tuple[Matter, ...]:
        return self.catalog.matters()

    @staticmethod
    def check_field(spec: FieldSpec, value: str) -> None:
        """Local validation of one field (pure and fast: the UI calls it on its own thread)."""
        if spec.key == "delivery_mode":
            if value not in spec.choices:
                from kiosk.errors import ValidationError

                err = ValidationError("delivery mode not chosen", field=spec.key)
                err.citizen_key = "error.field_required"
                raise err
            return
        from kiosk.applications import validate_field

        validate_field(spec, value)

    def submit_application(
        self,
        identity: Identity,
        matter_code: str,
        fields: dict[str, str],
        delivery_mode: str,
        *,
        mail: MailAddress | None = None,
        assisted_by: Assistant | None = None,
    ) -> Receipt:
        applicant = applicant_of(identity, fields.get("phone"))
        receipt = self.applications.submit(
            applicant, matter_code, fields, delivery_mode, mail_address=mail, assisted_by=assisted_by
        )
        self._set_platform_status(receipt.state != "queued")
        return receipt

    def receipt_lines_for_submission(self, r: Receipt) -> list[str]:
        return receipts.submission_lines(self.cfg.kiosk, r, local(self.app.clock, r.created_at))

    def receipt_lines_for_dropoff(self, res: FlowResult) -> list[str]:
        return receipts.dropoff_lines(self.cfg.kiosk, res.label, res.receipt_number, local(self.app.clock))

    def print_receipt(self, lines: Sequence[str], qr: str | None) -> None:
        if self.printer is not None:
            self.printer.print_receipt(lines, qr)

    def cases_of(self, identity: Identity) -> list[CaseSummary]:
        return self._platform(self.app.platform.query_cases, applicant_id_number=identity.id_number)

    def pickup_by_code(self, code: str) -> FlowHandle:
        return self.cabinet.start_pickup_by_code(code)

    def pickup_by_identity(self, identity: Identity) -> FlowHandle:
        return self.cabinet.start_pickup_by_identity(identity)

    def wait_closed(
        self, handle: FlowHandle, timeout_s: float | None = None, cancel: threading.Event | None = None
    ) -> FlowResult:
        """The core's wait, ended early when the runtime stops or ``cancel`` is set (the screen went away: the
        doors loop takes over, and a worker is not tied up for close_timeout_s). The flow stays open: waiting
        again, or the doors loop, finishes it."""
        from kiosk.cabinet import DoorLeftOpen

        try:
            res = self.cabinet.wait_closed(
                handle,
                timeout_s,
                cancel=lambda: self._stop.is_set() or (cancel is not None and cancel.is_set()),
            )
        except DoorLeftOpen as err:
            if err.task_id is None and not self._stop.is_set():
                self._orphans[handle.flow_id] = handle  # nobody waits now: the doors loop finishes it
            raise
        # The flow's ending queued ReportDelivery / NotifyApplicant in the outbox: send them now, not at the next poll.
        self.sender.poke()
        return res

    def cabinet_slots(self, cabinet_id: str) -> list[SlotInfo]:
        """The cabinet's doors in their configured (physical) order with their stored states; a quick DB read."""
        from kiosk.cabinet_views import cabinet_slots

        cab = next((c for c in self.cfg.cabinets if c.id == cabinet_id), None)
        return [] if cab is None else cabinet_slots(self.app.db, cab)

    def readers_present(self) -> bool | None:
        """Whether any card reader answers; None while the kiosk is still starting."""
        if not self._ready.is_set():
            return None
        return any(r.is_present() for r in self.app.card_readers)

    def report_door_problem(self, handle: FlowHandle | None) -> None:
        """The citizen says the door did not open: a staff task (the flow itself settles on its own)."""
        if handle is not None:
            self.cabinet.report_problem(
                door_name(handle.cabinet_id, handle.label),  # CABINET:LABEL (kiosk.cabinet.labels)
                "the citizen says the door did not open",
                actor="citizen",
                flow_id=handle.flow_id,
            )
            log.warning("citizen reports door %s did not open (flow %s)", handle.label, handle.flow_id)

    def dropoff_choices(self, identity: Identity) -> tuple[list[CaseSummary], tuple[Matter, ...]]:
        from kiosk.case_details import open_for_materials

        try:
            cases = open_for_materials(self.cases_of(identity))
        except PlatformError:
            cases = []  # the platform is down: drop-off by matter still works from the cached catalog
        return cases, self.catalog.matters()

    def dropoff(
        self,
        identity: Identity,
        *,
        case_number: str | None = None,
        matter_code: str | None = None,
        matter_name: str | None = None,
    ) -> FlowHandle:
        return self.cabinet.start_dropoff(
            identity, case_number=case_number, matter_code=matter_code, matter_name=matter_name
        )

    def rate(
        self,
        rating: int,
        reasons: Sequence[str],
        *,
        case_number: str | None = None,
        matter_code: str | None = None,
        parcel_id: int | None = None,
        identity: Identity | None = None,
    ) -> Any:
        """好差评 through the outbox; ``identity`` None: anonymous (the citizen's choice on screen)."""
        if not case_number and not matter_code and parcel_id is not None:
            case_number, matter_code = self._subject_of_parcel(parcel_id)
        # Neither case nor matter: a rating of the self-service itself (interface 1.1 sends it so; a made-up
        # matter code is in no catalogue and was refused and dropped).
        applicant = applicant_of(identity) if identity is not None and not identity.wiped else None
        return self.evaluations.submit(
            rating, case_number=case_number, matter_code=matter_code, reasons=reasons, applicant=applicant
        )

    def _subject_of_parcel(self, parcel_id: int) -> tuple[str | None, str | None]:
        from kiosk.cabinet_views import subject_of_parcel

        return subject_of_parcel(self.app.db, parcel_id)
