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
    """``label`` (A01, or CAB-02:A01 when two of the kiosk's cabinets have an A01) in the kiosk's configuration;
    a bare label two cabinets share is refused naming them (kiosk.cabinet.labels), never guessed."""
    from kiosk.cabinet import AmbiguousCompartment, UnknownCompartment
    from kiosk.cabinet.labels import split

    cab_id, want = split(label)
    found = [
        (cab, comp)
        for cab in app.cfg.cabinets
        if cab_id in (None, cab.id)
        for comp in cab.compartments
        if comp.label == want
    ]
    if len(found) > 1:
        raise AmbiguousCompartment(want, [cab.id for cab, _ in found])
    if not found:
        raise UnknownCompartment(f"no compartment {label.strip().upper()} in this kiosk's cabinets")
    return found[0]
