"""Line noise and bad checksums on the lock bus (a real pty simulator): the bus's problem, never a door's.

Faults 1-3 of issue 10 and the rule "no second door opens while any door's state is unknown"."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from kiosk.cabinet import AnotherDoorUnknown, Cabinet, DoorStateUnknown
from kiosk.cabinet import states as S
from kiosk.storage.models import AuditRecord, Parcel, StaffTask
from tests.cabinet.cabinet_support import assert_consistent, case, comp_state, make_cabinet, parcel


def _unlocks(sim) -> list[int]:
    return [r.channel for r in sim.requests_to(0) if r.kind in ("unlock", "open")]


def _deposit(cabinet: Cabinet, sim, n: int) -> tuple[str, int, str]:
    h = cabinet.start_deposit(case(n), actor="staff", size="S")
    ch = int(h.label[1:])
    sim.put_item(0, ch)
    sim.close_door(0, ch)
    r = cabinet.wait_closed(h)
    return r.code, r.parcel_id, h.label


def test_three_bad_checksums_during_a_pickup_still_open_the_door_and_watch_it(
    cabinet: Cabinet, sim, db
) -> None:
    code, _pid, label = _deposit(cabinet, sim, 1)
    sim.corrupt(0, 3)
    h = cabinet.start_pickup_by_code(code)  # not "did not open": it did
    assert h.label == label and sim.is_open(0, 1)
    sim.take_item(0, 1)
    sim.close_door(0, 1)
    assert cabinet.wait_closed(h).outcome == "picked_up"
    assert cabinet.tasks() == [] and comp_state(db, label) == S.FREE
    assert _unlocks(sim) == [1, 1]  # the deposit's and the pickup's: never re-sent
    assert_consistent(db)


def test_three_bad_checksums_during_a_deposit_open_no_second_door(cabinet: Cabinet, sim, db) -> None:
    sim.corrupt(0, 3)
    h = cabinet.start_deposit(case(1), actor="staff", size="S")
    assert h.label == "A01" and _unlocks(sim) == [1]
    assert [c.label for c in cabinet.status() if c.state == S.FAULTY] == []
    sim.put_item(0, 1)
    sim.close_door(0, 1)
    assert cabinet.wait_closed(h).outcome == "deposited"
    assert cabinet.tasks() == []


def test_garbage_until_the_open_timeout_holds_the_deposit_and_opens_nothing_else(
    cabinet: Cabinet, sim, db
) -> None:
    sim.corrupt(0, 10_000)
    with pytest.raises(DoorStateUnknown, match="no other door was opened") as exc:
        cabinet.start_deposit(case(1), actor="staff", size="S")
    assert exc.value.citizen_key == "error.door"
    assert _unlocks(sim) == [1] and sim.is_open(
        0, 1
    )  # it did open: nobody may hand out another door meanwhile
    sim.clear_faults(0)
    assert [c.label for c in cabinet.status() if c.state == S.FAULTY] == []  # no door blamed for the noise
    assert comp_state(db, "A01") == S.RESERVED  # kept: nothing else goes in on top of whatever is inside
    with db.transaction() as s:
        tasks = s.execute(select(StaffTask)).scalars().all()
        rec = s.execute(
            select(AuditRecord).where(AuditRecord.action == "cabinet.door_state_unknown")
        ).scalar_one()
    assert [(t.kind, t.id) for t in tasks] == [(S.TaskKind.BUS_GARBLED, exc.value.task_id)]
    assert "board 0" in tasks[0].detail and rec.subject == "A01"
    pid = tasks[0].parcel_id
    assert pid is not None and parcel(db, pid).state == S.ATTENTION
    assert_consistent(db)


def test_line_noise_raises_one_task_per_board_and_marks_no_compartment(cabinet: Cabinet, sim, db) -> None:
    code1, _p1, _l1 = _deposit(cabinet, sim, 1)
    code2, _p2, _l2 = _deposit(cabinet, sim, 2)
    sim.corrupt(0, 10_000)
    with pytest.raises(DoorStateUnknown):
        cabinet.start_pickup_by_code(code1)
    with pytest.raises(AnotherDoorUnknown):  # no second door while the first one's state is unknown
        cabinet.start_pickup_by_code(code2)
    sim.clear_faults(0)
    tasks = cabinet.tasks()
    assert [t.kind for t in tasks] == [S.TaskKind.BUS_GARBLED]  # one, naming the board
    assert [c.label for c in cabinet.status() if c.state == S.FAULTY] == []


def test_a_garbled_read_while_waiting_for_the_door_is_not_a_closed_door(cabinet: Cabinet, sim, db) -> None:
    h = cabinet.start_deposit(case(1), actor="staff", size="S")
    sim.corrupt(0, 4)  # two whole reads garbled (retries=1)
    assert cabinet.poll(h) is None
    assert cabinet.poll(h) is None
    sim.put_item(0, 1)
    sim.close_door(0, 1)
    assert cabinet.wait_closed(h).outcome == "deposited"


def test_no_other_door_opens_while_a_door_state_is_unknown(cabinet: Cabinet, sim, db) -> None:
    code, pid, label = _deposit(cabinet, sim, 1)  # A01, ready
    sim.corrupt(0, 10_000)
    with pytest.raises(DoorStateUnknown):
        cabinet.start_deposit(case(2), actor="staff", size="S")  # A02: opened, then only garbage
    sent = len(_unlocks(sim))
    for attempt in (
        lambda: cabinet.start_pickup_by_code(code),
        lambda: cabinet.start_deposit(case(3), actor="staff"),
    ):
        with pytest.raises(AnotherDoorUnknown, match="the state of door A02 is still unknown"):
            attempt()
    assert len(_unlocks(sim)) == sent  # nothing else was unlocked
    assert parcel(db, pid).state == S.READY  # the pickup left the parcel as it was; its code still works
    sim.clear_faults(0)  # the bus answers cleanly again: A02 is known (open), the cabinet works again
    h = cabinet.start_pickup_by_code(code)
    assert h.label == label
    sim.take_item(0, 1)
    sim.close_door(0, 1)
    assert cabinet.wait_closed(h).outcome == "picked_up"
    assert_consistent_after_unknown(db)


def assert_consistent_after_unknown(db) -> None:
    """Only the parcel whose door was unknown waits for staff; every cancelled try left nothing behind."""
    with db.transaction() as s:
        states = sorted(p.state for p in s.execute(select(Parcel)).scalars())
    assert states == sorted([S.ATTENTION, S.CANCELLED, S.PICKED_UP])
    assert_consistent(db)


def test_a_door_unknown_before_a_restart_is_still_unknown_after_it(
    cabinet: Cabinet, sim, db, bus, cab_cfg, clock, platform
) -> None:
    """The rule outlives the process: the owner restarted while the bus still garbles opens no second door."""
    code, _pid, _label = _deposit(cabinet, sim, 1)  # A01, ready
    sim.corrupt(0, 10_000)
    with pytest.raises(DoorStateUnknown):
        cabinet.start_deposit(case(2), actor="staff", size="S")  # A02: opened, then only garbage
    sent = len(_unlocks(sim))
    again = make_cabinet(db, bus, cab_cfg, clock, platform=platform)  # the kiosk after a restart
    report = again.start()
    assert any("unknown state" in line for line in report.lines)
    with pytest.raises(AnotherDoorUnknown, match="the state of door A02 is still unknown"):
        again.start_pickup_by_code(code)
    assert len(_unlocks(sim)) == sent
    sim.clear_faults(0)  # the bus answers again: the door reads valid, the code opens A01
    assert again.start_pickup_by_code(code).label == "A01"
