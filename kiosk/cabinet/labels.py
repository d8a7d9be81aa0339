"""Naming a compartment: a label is unique within its cabinet, not in the hall (two cabinets may both have A01).

A compartment is named ``CABINET:LABEL`` (``CAB-02:A01``), or by its bare label when that label is unique among
the cabinets looked in; a bare label two cabinets share is refused, naming the cabinets, never guessed.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from kiosk.cabinet.results import AmbiguousCompartment, UnknownCompartment
from kiosk.storage.models import Compartment

SEP = ":"  # neither a cabinet id ([A-Z0-9-]) nor a label ([A-Z][0-9]) can hold it; safe in a URL path segment
NAME_MAX = 32 + len(SEP) + 8  # the longest name: a cabinet id, the separator, a label (the columns' lengths)


def ref(cabinet_id: str, label: str) -> str:
    """The hall-wide name of a compartment, as ``find`` reads it back."""
    return f"{cabinet_id}{SEP}{label}"


def split(name: str) -> tuple[str | None, str]:
    """(cabinet id or None, label), upper-cased; the label part is not checked here."""
    cab, sep, label = name.strip().upper().rpartition(SEP)
    return (cab or None) if sep else None, label


def find(s: Session, name: str, *, cabinets: Collection[str] | None = None) -> Compartment:
    """The compartment ``name`` means, among ``cabinets`` (None: the whole hall).

    Raises UnknownCompartment when none matches and AmbiguousCompartment when a bare label is in several."""
    cab, label = split(name)
    q = select(Compartment).where(Compartment.label == label)
    if cab is not None:
        q = q.where(Compartment.cabinet_id == cab)
    if cabinets is not None:
        q = q.where(Compartment.cabinet_id.in_(list(cabinets)))
    rows = s.execute(q.order_by(Compartment.cabinet_id)).scalars().all()
    if not rows:
        where = "this kiosk's cabinets" if cabinets is not None else "the hall"
        raise UnknownCompartment(f"no compartment {name.strip().upper()} in {where}")
    if len(rows) > 1:
        raise AmbiguousCompartment(label, [r.cabinet_id for r in rows])
    return rows[0]


def name_for(cabinet_id: str, label: str, cabinet_ids: Sequence[str]) -> str:
    """What a screen hands back to the core for a door: the bare label with one cabinet, else CABINET:LABEL."""
    return ref(cabinet_id, label) if len(set(cabinet_ids)) > 1 else label


def shown(cabinet_id: str, label: str, cabinet_ids: Sequence[str]) -> str:
    """How a person is shown a compartment: its label, with its cabinet once there is more than one cabinet."""
    return f"{cabinet_id} {label}" if len(set(cabinet_ids)) > 1 else label
