"""Door and item sensor readings the owning kiosk stores while idle, for the hall console's grid (issue 14).

The console moves no door and reads no board: it shows what the kiosk last read, with its age. The kiosk reads
only when no door flow of its own is open (a door operation has the bus; the reading waits for the next round),
through the cabinet's public :meth:`~kiosk.cabinet.Cabinet.status`.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from kiosk.cabinet import CompartmentStatus, labels
from kiosk.kiosk_status import db_now
from kiosk.storage.models import Compartment, CompartmentSensor, Flow


@dataclass(frozen=True)
class Reading:
    cabinet_id: str
    label: str
    door_closed: bool | None
    item_present: bool | None
    error: str | None
    age_s: float  # by the database's clock


def door_busy(s: Session, cabinet_ids: list[str]) -> bool:
    """A flow of these cabinets has a door open or opening: leave the bus to it."""
    q = (
        select(Flow.id)
        .join(Compartment, Compartment.id == Flow.compartment_id)
        .where(Flow.finished_at.is_(None), Compartment.cabinet_id.in_(cabinet_ids))
        .limit(1)
    )
    return s.execute(q).scalar() is not None


def store(s: Session, kiosk_id: str, status: list[CompartmentStatus]) -> int:
    """Write one round of readings (one row per compartment, replaced); ``read_at`` is the database's now."""
    now = db_now(s)
    for st in status:
        row = s.get(CompartmentSensor, (st.cabinet_id, st.label))  # a label is unique per cabinet only
        if row is None:
            row = CompartmentSensor(cabinet_id=st.cabinet_id, label=st.label)
            s.add(row)
        row.kiosk_id = kiosk_id
        row.door_closed = st.door_closed
        row.item_present = st.item_present
        row.error = st.bus_error
        row.read_at = now
    return len(status)


def latest(s: Session) -> dict[str, Reading]:
    """Every stored reading by its door's CABINET:LABEL (kiosk.cabinet.labels), with its age against the database's
    clock."""
    now = db_now(s)
    return {
        labels.ref(r.cabinet_id, r.label): Reading(
            cabinet_id=r.cabinet_id,
            label=r.label,
            door_closed=r.door_closed,
            item_present=r.item_present,
            error=r.error,
            age_s=max(0.0, (now - r.read_at).total_seconds()),
        )
        for r in s.execute(select(CompartmentSensor)).scalars()
    }
