"""Which active tests need the technician's confirmation: those that touch real hardware (a real cabinet's door,
a real card reader). Its own module so the door test and the card test can both ask without importing each other.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kiosk.config import CabinetConfig, CompartmentConfig
from kiosk.errors import KioskError

if TYPE_CHECKING:
    from hallkiosk.wiring import App


class NotConfirmed(KioskError):
    """An active test on real hardware was not confirmed by the technician."""

    hint = "Confirm on the technician screen, or answer the prompt (`--yes` to skip it)."
    exit_code = 3


def needs_confirmation(app: App, label: str | None = None, *, card: bool = False) -> bool:
    """Whether the test touches real hardware (a door of a real cabinet, or a real card reader)."""
    if card:
        return any(rc.kind != "sim" for rc in app.cfg.card_readers)
    cabs = [find_compartment(app, label)[0]] if label else app.cfg.cabinets
    return any(c.bus != "sim" for c in cabs)


def find_compartment(app: App, label: str) -> tuple[CabinetConfig, CompartmentConfig]:
    want = label.strip().upper()
    for cab in app.cfg.cabinets:
        for comp in cab.compartments:
            if comp.label == want:
                return cab, comp
    from kiosk.cabinet import UnknownCompartment

    raise UnknownCompartment(f"no compartment {want} in this kiosk's cabinets")
