"""Crash scenarios shared by the in-process and the SIGKILL reconciliation suites.

Every scenario works on compartment A01 (board 0, channel 1): flows ask for
size S, and pickup/collect first put a parcel there. After the crash, the
"world" says what the person at the cabinet did: left the door open, did
their part and closed it, or closed it without doing anything.
"""

from __future__ import annotations

from sqlalchemy import func, select

from drivers.lockboard.sim import SimLockBoard
from kiosk.cabinet import Cabinet, FlowHandle
from kiosk.cabinet import states as S
from kiosk.storage.db import Database
from kiosk.storage.models import Flow, Parcel, StaffTask
from tests.cabinet.cabinet_support import case, comp_state, outbox_events, person

KINDS = ("deposit", "pickup", "dropoff", "collect")
STEPS = ("opening", "after_unlock", "door_open", "closed", "done")
WORLDS = ("left_open", "acted", "untouched")


def scenarios() -> list[tuple[str, str, str]]:
    """(kind, step, world) for every meaningful combination."""
    out = []
    for kind in KINDS:
        for step in STEPS:
            if step == "opening":
                out.append((kind, step, "untouched"))  # the unlock was never sent: the door stayed shut
            elif step in ("closed", "done"):
                out.append((kind, step, "acted"))  # the door only reads closed once the person acted
            else:
                out += [(kind, step, w) for w in WORLDS]
    return out


def prepare(cab: Cabinet, sim: SimLockBoard, kind: str) -> tuple[int | None, str | None]:
    """Put what pickup/collect need in A01; returns (parcel id, code)."""
    if kind == "pickup":
        h = cab.start_deposit(case(1), actor="staff", size="S")
        sim.put_item(0, 1)
        sim.close_door(0, 1)
        r = cab.wait_closed(h)
        return r.parcel_id, r.code
    if kind == "collect":
        h = cab.start_dropoff(person(2), case_number=case(2), size="S")
        sim.put_item(0, 1)
        sim.close_door(0, 1)
        return cab.wait_closed(h).parcel_id, None
    return None, None


def start(cab: Cabinet, kind: str, parcel_id: int | None, code: str | None) -> FlowHandle:
    """Start the flow under test."""
    if kind == "deposit":
        return cab.start_deposit(case(1), actor="staff", size="S")
    if kind == "dropoff":
        return cab.start_dropoff(person(2), case_number=case(2), size="S")
    if kind == "pickup":
        assert code
        return cab.start_pickup_by_code(code)
    assert parcel_id
    return cab.start_collect(parcel_id, actor="staff")


def act(sim: SimLockBoard, kind: str) -> None:
    """The person does their part and shuts the door."""
    if kind in ("deposit", "dropoff"):
        sim.put_item(0, 1)
    else:
        sim.take_item(0, 1)
    sim.close_door(0, 1)


def after_crash(sim: SimLockBoard, kind: str, step: str, world: str) -> None:
    """What happened at the cabinet while the kiosk was down."""
    if step in ("closed", "done"):
        return  # the person had already acted and closed the door
    if step == "opening":
        assert not sim.is_open(0, 1), "no unlock was sent, yet the door is open"
        return
    assert sim.is_open(0, 1)
    if world == "acted":
        act(sim, kind)
    elif world == "untouched":
        sim.close_door(0, 1)


def expected(step: str, world: str) -> str:
    """done: the flow's normal outcome; undone: as if it never ran; watched: the door stood open at start-up, so
    the flow stays open until it shuts (then :func:`finish_watched`)."""
    if step == "opening" or world == "untouched":
        return "undone"
    return "watched" if world == "left_open" else "done"


def finish_watched(cab: Cabinet, sim: SimLockBoard, kind: str) -> str:
    """The person at the open door finishes and shuts it; the running kiosk's doors loop settles the flow."""
    act(sim, kind)
    results = cab.settle_open_flows()
    assert len(results) == 1, results
    return "done"


def check(db: Database, kind: str, parcel_id: int | None, outcome: str) -> None:
    """The flow's parcel, compartment A01 and outbox are what ``outcome`` means for ``kind``."""
    with db.transaction() as s:
        p = (
            s.get(Parcel, parcel_id)
            if parcel_id
            else s.execute(select(Parcel).order_by(Parcel.id.desc())).scalars().first()
        )
        assert p is not None
        n_parcels = s.execute(select(func.count()).select_from(Parcel)).scalar_one()
        open_tasks = s.execute(
            select(StaffTask).where(StaffTask.parcel_id == p.id, StaffTask.resolved_at.is_(None))
        ).all()
    events = [e for op, e, pid in outbox_events(db) if op == "ReportDelivery" and pid == p.id]
    notices = [op for op, _e, pid in outbox_events(db) if op == "NotifyApplicant" and pid == p.id]
    assert n_parcels == 1, "a parcel was created twice"
    a01 = comp_state(db, "A01")
    if outcome == "watched":  # nothing decided yet, nothing asked of staff: the door is being watched
        with db.transaction() as s:
            flow = s.execute(
                select(Flow).where(Flow.parcel_id == p.id, Flow.finished_at.is_(None))
            ).scalar_one()
        assert (
            flow.state == S.DOOR_OPEN
            and not open_tasks
            and p.state in S.LIVE
            and a01 in (S.RESERVED, S.OCCUPIED)
        )
        return
    if outcome == "task":
        assert p.state == S.ATTENTION and open_tasks and a01 in (S.RESERVED, S.OCCUPIED)
        return
    assert not open_tasks
    table = {
        ("deposit", "done"): (S.READY, S.OCCUPIED, ["DEPOSITED"]),
        ("deposit", "undone"): (S.CANCELLED, S.FREE, []),
        ("dropoff", "done"): (S.DROPPED_OFF, S.OCCUPIED, []),
        ("dropoff", "undone"): (S.CANCELLED, S.FREE, []),
        ("pickup", "done"): (S.PICKED_UP, S.FREE, ["DEPOSITED", "PICKED_UP"]),
        ("pickup", "undone"): (S.READY, S.OCCUPIED, ["DEPOSITED"]),
        ("collect", "done"): (S.COLLECTED, S.FREE, ["DROPOFF_RECEIVED"]),
        ("collect", "undone"): (S.DROPPED_OFF, S.OCCUPIED, []),
    }
    state, comp, evs = table[(kind, outcome)]
    assert (p.state, a01, events) == (state, comp, evs)
    assert notices == (["NotifyApplicant"] if kind in ("deposit", "pickup") and "DEPOSITED" in evs else [])
    if p.state == S.READY:
        assert p.code_hmac is not None
    if p.state == S.DROPPED_OFF:
        assert p.receipt_number
