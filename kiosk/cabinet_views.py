"""Read-only views of this kiosk's stored cabinet state for its screens: the door picture, a parcel's subject.

Quick database reads with no lock-board traffic (the cabinet core in ``kiosk.cabinet`` owns every change); kept
out of the runtime so it runs no ORM queries of its own.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from kiosk.config import CabinetConfig
from kiosk.storage.db import Database
from kiosk.storage.models import Compartment, Parcel


@dataclass(frozen=True)
class SlotInfo:
    """One door as the cabinet picture draws it."""

    label: str
    size: str
    state: str


def cabinet_slots(db: Database, cab: CabinetConfig) -> list[SlotInfo]:
    """The cabinet's doors in their configured (physical) order with their stored states (``free`` if unknown)."""
    with db.transaction() as s:
        states = dict(
            s.execute(
                select(Compartment.label, Compartment.state).where(Compartment.cabinet_id == cab.id)
            ).all()
        )
    return [SlotInfo(label=c.label, size=c.size, state=states.get(c.label, "free")) for c in cab.compartments]


def subject_of_parcel(db: Database, parcel_id: int) -> tuple[str | None, str | None]:
    """The case number and matter code a parcel was dropped off for (what a rating after a pickup is about)."""
    with db.transaction() as s:
        p = s.get(Parcel, parcel_id)
        return (p.case_number, p.matter_code) if p is not None else (None, None)
