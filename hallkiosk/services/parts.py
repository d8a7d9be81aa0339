"""The kiosk's core services, built from the App on first use: one owner, ``rt.parts``, that every screen-facing
service reaches through :class:`hallkiosk.services.core.Core`.

Each part is a :mod:`kiosk` service (the catalogue, the outbox sender, applications, ratings, the heartbeat, the
cabinet, help, bundles, case details, pickup notices, 12345 tickets) or the hall console's door-command link. They
import SQLAlchemy and Alembic (half a second), so each is imported and built where first used, on the start-up
thread, and the first frame of the start screen does not wait for them. Nothing here runs a loop or holds a rule:
the runtime starts the loops, the services in this package hold what the screens call.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property
from typing import TYPE_CHECKING

from hallkiosk.console_link import console_link_of
from kiosk.config import Config

if TYPE_CHECKING:
    from hallkiosk.console_link import ConsoleLink
    from hallkiosk.wiring import App
    from kiosk.applications import ApplicationService
    from kiosk.bundles import BundleService
    from kiosk.cabinet import Cabinet
    from kiosk.case_details import CaseService
    from kiosk.catalog import CatalogService
    from kiosk.evaluations import EvaluationService
    from kiosk.heartbeat import HeartbeatService
    from kiosk.help import HelpService
    from kiosk.outbox_sender import OutboxSender
    from kiosk.pickup_notices import PickupNotices
    from kiosk.tickets import TicketService


class Parts:
    """The core services of one kiosk, each built once from the config and the App (itself built on first use)."""

    def __init__(self, cfg: Config, app: Callable[[], App]) -> None:
        self.cfg = cfg
        self._app = app

    @property
    def app(self) -> App:
        return self._app()

    def built(self, name: str) -> bool:
        """Whether the part ``name`` was built (stopping leaves alone what never started)."""
        return name in self.__dict__

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

    @cached_property
    def console_link(self) -> ConsoleLink:
        """Door commands from the hall console (issue 14)."""
        return console_link_of(self)

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

    @cached_property
    def bundles(self) -> BundleService:
        from kiosk.bundles import BundleService

        return BundleService(self.app.db, self.app.secret, self.app.clock, self.catalog, self.sender)

    @cached_property
    def cases(self) -> CaseService:
        from kiosk.case_details import CaseService

        return CaseService(self.app.db, self.app.platform, [c.id for c in self.cfg.cabinets])

    @cached_property
    def pickup_notices(self) -> PickupNotices:
        from kiosk.pickup_notices import PickupNotices

        return PickupNotices(
            self.app.db,
            self.app.secret,
            self.app.clock,
            self.cfg.pickup,
            [c.id for c in self.cfg.cabinets],
            v11=self.cfg.platform.interface_version == "1.1",
            poke=self.sender.poke,
        )

    @cached_property
    def tickets(self) -> TicketService:
        from kiosk.tickets import TicketService

        return TicketService(self.app.db, self.app.secret, self.app.clock, self.sender)
