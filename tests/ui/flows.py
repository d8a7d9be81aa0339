"""Arranging the world through the real core and the simulators (what the back office and a clerk would do)."""

from __future__ import annotations

from typing import Any

from kiosk.platform_models import Applicant
from tests.ui.harness import Driver

# The simulator's demo ID card (drivers.cardreader.ga467_sim.DEMO_CARD) as a platform applicant.
CARD_PERSON = Applicant("RESIDENT_ID", "110105199001011232", "张三", "13800138000")
OTHER_PERSON = Applicant("RESIDENT_ID", "110105195803121232", "李四", "13900139000")


def slot_of(d: Driver, label: str) -> tuple[Any, int, int]:
    """(door simulator, board, channel) of a compartment label."""
    for cab in d.rt.cfg.cabinets:
        for c in cab.compartments:
            if c.label == label:
                return d.rt.door_sim(cab.id), c.board, c.channel
    raise KeyError(label)


def approved_case(d: Driver, person: Applicant = CARD_PERSON) -> str:
    bo = d.rt.app.platform.sim.backoffice
    case = bo.create_case(person, "GA-HUKOU-CERT", "LOCKER", fields={"purpose": "就业", "copies": "1"})
    bo.approve(case.number)
    return case.number


def deposit_ready(d: Driver, person: Applicant = CARD_PERSON) -> tuple[str, str]:
    """A finished case's result put in the cabinet through the core; (pickup code, compartment label)."""
    case = approved_case(d, person)
    h = d.rt.cabinet.start_deposit(case, actor="test:clerk")
    sim, b, ch = slot_of(d, h.label)
    sim.put_item(b, ch)
    sim.close_door(b, ch)
    r = d.rt.cabinet.wait_closed(h, 10)
    assert r.outcome == "deposited" and r.code
    return r.code, h.label


def open_doors(d: Driver) -> list[str]:
    out = []
    for cab in d.rt.cfg.cabinets:
        sim = d.rt.door_sim(cab.id)
        out += [c.label for c in cab.compartments if sim.is_open(c.board, c.channel)]
    return out


def parcel_state(d: Driver, parcel_id: int) -> str:
    from kiosk.storage.models import Parcel

    with d.rt.app.db.transaction() as s:
        p = s.get(Parcel, parcel_id)
        assert p is not None
        return p.state
