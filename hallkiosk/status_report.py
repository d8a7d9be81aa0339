"""The running kiosk's status row for the hall console (:mod:`kiosk.kiosk_status`), written every
``console.status_interval_s`` from a background thread of the runtime.

Device health is the heartbeat's passive diagnostics (``kiosk diag`` without bus scans or SOAP calls),
refreshed at most every :data:`HEALTH_EVERY_S`; the row itself (last seen, outbox, screen) every interval."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import kiosk
from kiosk.kiosk_status import StatusReport, StatusWriter
from kiosk.platform_models import DeviceHealth

if TYPE_CHECKING:
    from hallkiosk.wiring import App

log = logging.getLogger(__name__)
HEALTH_EVERY_S = 30.0


def status_loop(
    app: App,
    stop: threading.Event,
    *,
    screen: Callable[[], str],
    platform_reachable: Callable[[], bool | None],
) -> None:
    """Write this kiosk's status row until ``stop`` is set; a failing write is logged once, then retried.
    Each round also watches the free disk (a staff task while it is low, :mod:`hallkiosk.disk_watch`)."""
    from hallkiosk import diag
    from hallkiosk.diag import device_health
    from hallkiosk.disk_watch import watch_disk

    writer = StatusWriter(app.db)
    interval = app.cfg.console.status_interval_s
    devices: list[DeviceHealth] = []
    health_at = -HEALTH_EVERY_S
    failing = False
    while not stop.is_set():
        try:
            watch_disk(app, diag.HEARTBEAT_OPTIONS)
            if time.monotonic() - health_at >= HEALTH_EVERY_S:
                devices = device_health(app)
                health_at = time.monotonic()
            writer.report(
                StatusReport(
                    kiosk_id=app.cfg.kiosk.id,
                    hall=app.cfg.kiosk.hall,
                    software_version=kiosk.__version__,
                    screen=screen(),
                    devices=devices,
                    platform_reachable=platform_reachable(),
                    interval_s=interval,
                )
            )
            if failing:
                log.info("kiosk status row written again")
            failing = False
        except Exception as err:  # the loop must outlive a database hiccup
            if not failing:
                log.warning("kiosk status row not written: %s", err)
            failing = True
        stop.wait(interval)
