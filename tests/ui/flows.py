"""Arranging the world through the real core and the simulators (what the back office and a clerk would do)."""

from __future__ import annotations

from typing import Any

from kiosk.platform_models import Applicant
from tests.ui.harness import Driver

# The simulator's demo ID card (drivers.cardreader.ga467_sim.DEMO_CARD) as a platform applicant.
CARD_PERSON = Applicant("RESIDENT_ID", "110105199001011232", "张三", "13800138000")
OTHER_PERSON = Applicant("RESIDENT_ID", "110105195803121232", "李四", "13900139000")


def slot_of(d: Driver, label: str, cabinet_id: str | None = None) -> tuple[Any, int, int]:
    """(door simulator, board, channel) of a compartment: ``label`` in ``cabinet_id``, or a label only one of the
    kiosk's cabinets has (two cabinets may both have an A01: a bare label is then refused, never guessed)."""
    found = [
        (d.rt.sims.door_sim(cab.id), c.board, c.channel)
        for cab in d.rt.cfg.cabinets
        if cabinet_id in (None, cab.id)
        for c in cab.compartments
        if c.label == label
    ]
    if len(found) != 1:
        raise KeyError(f"{label} is in {len(found)} cabinets: give cabinet_id" if found else label)
    return found[0]


def approved_case(d: Driver, person: Applicant = CARD_PERSON) -> str:
    bo = d.rt.app.platform.sim.backoffice
    case = bo.create_case(person, "GA-HUKOU-CERT", "LOCKER", fields={"purpose": "就业", "copies": "1"})
    bo.approve(case.number)
    return case.number


def deposit_ready(d: Driver, person: Applicant = CARD_PERSON) -> tuple[str, str]:
    """A finished case's result put in the cabinet through the core; (pickup code, compartment label)."""
    case = approved_case(d, person)
    h = d.rt.parts.cabinet.start_deposit(case, actor="test:clerk")
    sim, b, ch = slot_of(d, h.label)
    sim.put_item(b, ch)
    sim.close_door(b, ch)
    r = d.rt.parts.cabinet.wait_closed(h, 10)
    assert r.outcome == "deposited" and r.code
    return r.code, h.label


def open_doors(d: Driver) -> list[str]:
    out = []
    for cab in d.rt.cfg.cabinets:
        sim = d.rt.sims.door_sim(cab.id)
        out += [c.label for c in cab.compartments if sim.is_open(c.board, c.channel)]
    return out


def parcel_state(d: Driver, parcel_id: int) -> str:
    from kiosk.storage.models import Parcel

    with d.rt.app.db.transaction() as s:
        p = s.get(Parcel, parcel_id)
        assert p is not None
        return p.state


def badge(d: Driver, uid: str) -> None:
    """A staff badge read: delivered from a reader thread exactly as a PC/SC reader's watcher would."""
    import threading

    from kiosk.ports import CardEvent

    ev = CardEvent("badge", reader="staff reader", badge_uid=uid)
    t = threading.Thread(target=d.rt._on_card_event, args=(ev,))
    t.start()
    t.join()


def comp_state(d: Driver, label: str) -> str:
    """A compartment's state as the core stores it."""
    return next(c.state for c in d.rt.parts.cabinet.status() if c.label == label)


def dropped_off(d: Driver) -> tuple[int, str]:
    """A citizen's drop-off made through the core (the kiosk's own drop-off flow); (parcel id, compartment label)."""
    from kiosk.identity import Identity

    who = Identity(OTHER_PERSON.id_number, OTHER_PERSON.name, "resident_id")
    h = d.rt.parts.cabinet.start_dropoff(who, matter_code="RS-SSC-REISSUE", matter_name="社会保障卡补换")
    sim, b, ch = slot_of(d, h.label)
    sim.put_item(b, ch)
    sim.close_door(b, ch)
    r = d.rt.parts.cabinet.wait_closed(h, 10)
    assert r.outcome == "dropped_off" and h.parcel_id is not None
    return h.parcel_id, h.label


def overdue_result(d: Driver, person: Applicant = OTHER_PERSON) -> tuple[int, str]:
    """A result deposited through the core with a one-second pickup expiry, then left until it is overdue.

    The kiosk's own Cabinet keeps the configured week; a second Cabinet over the same database and buses, configured
    with a short expiry, is the core API's honest way to an overdue parcel without faking the kiosk's clock."""
    import time

    from kiosk.cabinet import Cabinet

    rt = d.rt
    short = rt.cfg.pickup.model_copy(update={"expiry_days": 1 / 86400})
    cab = Cabinet(
        rt.app.db,
        rt.app.buses,
        rt.cfg.cabinets,
        short,
        rt.app.clock,
        rt.app.secret,
        rt.cfg.kiosk.id,
        platform=rt.app.platform,
    )
    h = cab.start_deposit(approved_case(d, person), actor="test:clerk")
    sim, b, ch = slot_of(d, h.label)
    sim.put_item(b, ch)
    sim.close_door(b, ch)
    r = cab.wait_closed(h, 10)
    assert r.outcome == "deposited" and h.parcel_id is not None
    time.sleep(1.2)
    assert any(v.id == h.parcel_id for v in rt.parts.cabinet.overdue()), (
        "the parcel is overdue for the kiosk's own cabinet"
    )
    return h.parcel_id, h.label


def open_matter(d: Driver, title: str) -> None:
    """On the matters screen: tap the row titled ``title``, read its 办事指南, start the form."""
    d.tap_text(title, d.app.screen.ids.rows)
    assert d.app.sm.current == "guide"
    d.wait_for(
        lambda: d.app.screen.check != "checking", timeout=20, what="the guide and the eligibility check"
    )
    assert d.app.screen.check == "ok", d.app.screen.refusal
    d.tap_id("btn_start")
