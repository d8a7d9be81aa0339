"""A door left open past close_timeout_s: one staff task, audited, and the flow still finishes once the door is shut
(by a later wait, or by settle_open_flows from the runtime's doors loop). FakeClock; real bus and simulator."""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from hallkiosk.services import doors as doors_module
from hallkiosk.services.citizen import CitizenService
from hallkiosk.services.doors import DoorService
from kiosk.cabinet import Cabinet, DoorLeftOpen, FlowHandle
from kiosk.cabinet import states as S
from kiosk.storage.models import AuditRecord, StaffTask
from tests.cabinet.cabinet_support import assert_consistent, case, comp_state, outbox_events, parcel


def _ready_parcel(cabinet: Cabinet, sim) -> tuple[str, int]:
    h = cabinet.start_deposit(case(1), actor="staff:7", size="S")
    sim.put_item(0, 1)
    sim.close_door(0, 1)
    r = cabinet.wait_closed(h)
    return r.code, r.parcel_id


def _task(db, task_id: int) -> StaffTask:
    with db.transaction() as s:
        t = s.get(StaffTask, task_id)
        assert t is not None
        return t


def _audited(db, action: str) -> list[dict]:
    with db.transaction() as s:
        return list(s.execute(select(AuditRecord.detail).where(AuditRecord.action == action)).scalars())


def _events(db) -> list[str | None]:
    return [e for op, e, _ in outbox_events(db) if op == "ReportDelivery"]


def test_pickup_left_open_raises_one_task_then_finishes_when_shut(cabinet: Cabinet, sim, db) -> None:
    code, pid = _ready_parcel(cabinet, sim)
    h = cabinet.start_pickup_by_code(code)
    sim.take_item(0, 1)  # the citizen takes the parcel and walks away; the door stays open
    with pytest.raises(DoorLeftOpen) as first:
        cabinet.wait_closed(h, timeout_s=1)
    task_id = first.value.task_id
    [task] = cabinet.tasks()
    assert (task.id, task.kind, task.label, task.flow_id, task.parcel_id) == (
        task_id,
        S.TASK_DOOR_LEFT_OPEN,
        "A01",
        h.flow_id,
        pid,
    )
    assert f"flow {h.flow_id}" in task.detail and "pickup" in task.detail
    assert _audited(db, "cabinet.door_left_open") == [
        {"flow": h.flow_id, "kind": S.PICKUP, "parcel": pid, "task": task_id}
    ]
    # Waiting again (the door screen does) and the doors loop add no second task.
    with pytest.raises(DoorLeftOpen) as again:
        cabinet.wait_closed(h, timeout_s=0.1)
    assert again.value.task_id == task_id
    assert cabinet.settle_open_flows() == [] and len(cabinet.tasks()) == 1
    assert parcel(db, pid).state == S.PICKING and _events(db) == ["DEPOSITED"]

    sim.close_door(0, 1)  # staff (or anyone) shut it later
    [r] = cabinet.settle_open_flows()
    assert (r.flow_id, r.outcome) == (h.flow_id, "picked_up")
    assert _events(db) == ["DEPOSITED", "PICKED_UP"]
    assert parcel(db, pid).state == S.PICKED_UP and comp_state(db, "A01") == S.FREE
    t = _task(db, task_id)
    assert t.resolved_by == "kiosk" and t.resolved_at is not None and "ended: picked_up" in t.detail
    assert cabinet.tasks() == [] and cabinet.poll(h).outcome == "picked_up"
    assert cabinet.settle_open_flows() == []
    assert_consistent(db)


def test_nobody_waiting_the_doors_loop_raises_the_task_after_the_timeout(
    cabinet: Cabinet, sim, db, clock
) -> None:
    code, pid = _ready_parcel(cabinet, sim)
    h = cabinet.start_pickup_by_code(code)  # the screen that would wait on it is gone (session wiped)
    assert (
        cabinet.settle_open_flows() == [] and cabinet.tasks() == []
    )  # within close_timeout_s (10 s): not yet
    clock.advance(11)
    assert cabinet.settle_open_flows() == []
    [task] = cabinet.tasks()
    assert task.kind == S.TASK_DOOR_LEFT_OPEN and task.flow_id == h.flow_id
    clock.advance(60)
    cabinet.settle_open_flows()
    assert len(cabinet.tasks()) == 1 and len(_audited(db, "cabinet.door_left_open")) == 1
    # Shut without taking the parcel: the pickup's own rule applies (held, with its own task).
    sim.close_door(0, 1)
    [r] = cabinet.settle_open_flows()
    assert r.outcome == "item_left" and parcel(db, pid).state == S.ATTENTION
    assert [t.kind for t in cabinet.tasks()] == [S.TASK_ITEM_LEFT] and _events(db) == ["DEPOSITED"]
    assert_consistent(db)


def test_a_flow_within_its_timeout_is_left_to_its_screen(cabinet: Cabinet, sim, db) -> None:
    """The doors loop never beats the waiting screen to a deposit's result: the code is shown only there."""
    h = cabinet.start_deposit(case(2), actor="staff:7", size="S")
    sim.put_item(0, 1)
    sim.close_door(0, 1)
    assert cabinet.settle_open_flows() == []
    r = cabinet.poll(h)
    assert r is not None and r.outcome == "deposited" and r.code


class _Sender:
    def __init__(self) -> None:
        self.pokes = 0

    def poke(self) -> None:
        self.pokes += 1


def _ops(cabinet: Cabinet, cab_cfg, clock) -> SimpleNamespace:
    """The runtime's citizen and door services around the real cabinet, without the rest of the kiosk: their
    ``Core`` is only what they use of it."""
    core = SimpleNamespace(
        app=SimpleNamespace(clock=clock),
        cfg=SimpleNamespace(cabinets=[cab_cfg]),
        stopping=threading.Event(),
        parts=SimpleNamespace(cabinet=cabinet, sender=_Sender()),
    )
    return SimpleNamespace(core=core, citizen=CitizenService(core), doors=DoorService(core))


def test_runtime_wait_raises_the_task_and_the_doors_loop_finishes_the_flow(
    cabinet: Cabinet, sim, db, cab_cfg, clock, monkeypatch
) -> None:
    ops = _ops(cabinet, cab_cfg, clock)
    code, pid = _ready_parcel(cabinet, sim)
    h: FlowHandle = ops.citizen.pickup_by_code(code)
    sim.take_item(0, 1)
    with pytest.raises(DoorLeftOpen) as ei:
        ops.doors.wait_closed(h, timeout_s=0)  # the door screen's wait ran out
    assert ei.value.task_id is not None and [t.id for t in cabinet.tasks()] == [ei.value.task_id]
    sim.close_door(0, 1)
    monkeypatch.setattr(doors_module, "DOORS_INTERVAL_S", 0.05)
    loop = threading.Thread(target=ops.doors.loop, daemon=True)
    loop.start()
    deadline = time.monotonic() + 10
    while parcel(db, pid).state != S.PICKED_UP and time.monotonic() < deadline:
        time.sleep(0.05)
    ops.core.stopping.set()
    loop.join(5)
    assert not loop.is_alive()
    assert parcel(db, pid).state == S.PICKED_UP and _events(db) == ["DEPOSITED", "PICKED_UP"]
    assert ops.core.parts.sender.pokes >= 1  # the PICKED_UP report is sent now, not at the outbox's next poll
    assert cabinet.tasks() == []
    assert_consistent(db)


def test_runtime_stopping_raises_no_task(cabinet: Cabinet, sim, db, cab_cfg, clock) -> None:
    ops = _ops(cabinet, cab_cfg, clock)
    code, _pid = _ready_parcel(cabinet, sim)
    h = ops.citizen.pickup_by_code(code)
    ops.core.stopping.set()
    with pytest.raises(DoorLeftOpen) as ei:
        ops.doors.wait_closed(h)
    assert ei.value.task_id is None and cabinet.tasks() == []  # start-up reconciliation settles it


def test_wait_closed_cancelled_raises_no_task_and_leaves_the_flow_to_finish(
    cabinet: Cabinet, sim, db
) -> None:
    """``cancel=`` (the screen went away): DoorLeftOpen without a staff task, the flow still open; the door
    shutting later still finishes it. Same semantics as the runtime's own wait (hallkiosk/services/doors.py)."""
    code, pid = _ready_parcel(cabinet, sim)
    h = cabinet.start_pickup_by_code(code)
    sim.take_item(0, 1)
    gone = threading.Event()
    gone.set()
    with pytest.raises(DoorLeftOpen) as ev:
        cabinet.wait_closed(h, timeout_s=1000, cancel=gone)
    assert ev.value.task_id is None
    polls = 0

    def screen_gone() -> bool:  # a callable works as well: given up after three looks at the door
        nonlocal polls
        polls += 1
        return polls > 3

    with pytest.raises(DoorLeftOpen) as cb:
        cabinet.wait_closed(h, timeout_s=1000, cancel=screen_gone)
    assert cb.value.task_id is None and polls == 4
    assert cabinet.tasks() == [] and _audited(db, "cabinet.door_left_open") == []
    assert parcel(db, pid).state == S.PICKING
    # Not cancelled: the timeout still raises its one task.
    with pytest.raises(DoorLeftOpen) as late:
        cabinet.wait_closed(h, timeout_s=0.5, cancel=lambda: False)
    assert late.value.task_id is not None and len(cabinet.tasks()) == 1
    sim.close_door(0, 1)
    r = cabinet.wait_closed(h, cancel=threading.Event())
    assert (r.flow_id, r.outcome) == (h.flow_id, "picked_up") and parcel(db, pid).state == S.PICKED_UP
    assert_consistent(db)
