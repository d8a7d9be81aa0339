"""Technician diagnostics: passive checks, active door and card tests, the support bundle.

Kivy-free; the CLI (``kiosk diag``), the technician screen and the heartbeat all call this API::

    report = run_checks(app, only=None)          # kiosk.diag_model.Report; .to_json(), .exit_code
    health = device_health(app)                  # list[DeviceHealth] for the Heartbeat (no SOAP, no bus scan)
    result = door_test(app, "A03", confirmed=True)  # open, wait for close, timings and sensor transitions
    results = walk_test(app, confirmed=True)
    result = card_test(app, timeout_s=30)        # one card read, masked
    write_support_bundle(app, "out.tar.gz")
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hallkiosk.diag.active import (
    CardTestResult,
    DoorTestResult,
    NotConfirmed,
    card_test,
    door_test,
    needs_confirmation,
    walk_test,
)
from hallkiosk.diag.bundle import write_support_bundle
from hallkiosk.diag.runner import Options, parse_only, run_checks
from kiosk.diag_model import AREAS, Check, Report, to_device_health
from kiosk.platform_models import DeviceHealth

if TYPE_CHECKING:
    from hallkiosk.wiring import App

__all__ = [
    "AREAS",
    "HEARTBEAT_OPTIONS",
    "CardTestResult",
    "Check",
    "DoorTestResult",
    "NotConfirmed",
    "Options",
    "Report",
    "card_test",
    "device_health",
    "door_test",
    "needs_confirmation",
    "parse_only",
    "run_checks",
    "to_device_health",
    "walk_test",
    "write_support_bundle",
]

# What the heartbeat runs every interval: cheap and passive (no SOAP call of its own, no bus scan).
HEARTBEAT_OPTIONS = Options(scan_bus="off", heartbeat=False, verify_audit=False, passive=True)


def device_health(app: App, options: Options | None = None) -> list[DeviceHealth]:
    """Device health for the Heartbeat: the passive checks of every area, mapped by to_device_health."""
    return to_device_health(run_checks(app, None, options or HEARTBEAT_OPTIONS))
