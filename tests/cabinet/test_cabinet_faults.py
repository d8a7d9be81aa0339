"""Faulty doors, code lockout, expiry and overdue, and what the database holds (never a code or an ID number)."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text

from kiosk.cabinet import Cabinet, PickupCodeExpired, PickupDoorFault
from kiosk.cabinet import states as S
from kiosk.cabinet.crashpoints import POINTS, hit
from kiosk.config import PickupConfig
from kiosk.errors import CodeLockout, LockBoardError, NoFreeCompartment, WrongPickupCode
from kiosk.storage.models import AuditRecord, StaffTask
from tests.cabinet.cabinet_support import (
    assert_consistent,
    case,
    comp_state,
    make_cabinet,
    outbox_events,
    parcel,
    person,
)


def _deposit(cabinet: Cabinet, sim, n: int, size: str = "S") -> tuple[str, int, str]:
    h = cabinet.start_deposit(case(n), actor="staff", size=size)
    ch = int(h.label[1:])
    sim.put_item(0, ch)
    sim.close_door(0, ch)
    r = cabinet.wait_closed(h)
    return r.code, r.parcel_id, h.label


def test_faulty_door_moves_on_to_next_compartment(cabinet: Cabinet, sim, db) -> None:
    sim.jam(0, 1)
    h = cabinet.start_deposit(case(1), actor="staff", size="S")
    assert h.label == "A02"
    assert comp_state(db, "A01") == S.FAULTY
    with db.transaction() as s:
        rec = s.execute(select(AuditRecord).where(AuditRecord.action == "cabinet.door_fault")).scalar_one()
        assert rec.subject == "A01" and "OpenNotDetected" in rec.detail["reason"]
        assert s.execute(select(StaffTask.kind)).scalars().all() == [S.TASK_DOOR_FAULT]
    sim.put_item(0, 2)
    sim.close_door(0, 2)
    assert cabinet.wait_closed(h).outcome == "deposited" and cabinet.poll(h).label == "A02"
    st = {c.label: c for c in cabinet.status()}
    assert "OpenNotDetected" in st["A01"].fault_reason
    assert_consistent(db)


def test_every_door_faulty_gives_no_free_compartment(cabinet: Cabinet, sim, db) -> None:
    for ch in range(1, 6):
        sim.jam(0, ch)
    with pytest.raises(NoFreeCompartment, match="A01, A02, A03, A04, A05"):
        cabinet.start_deposit(case(1), actor="staff", size="S")
    assert all(c.state == S.FAULTY for c in cabinet.status())
    assert_consistent(db)


def test_silent_board_marks_nothing_faulty(cabinet: Cabinet, sim, db) -> None:
    sim.silence(0)
    with pytest.raises(LockBoardError, match=r"board 0 .* not answering"):
        cabinet.start_deposit(case(1), actor="staff", size="L")
    assert comp_state(db, "A05") == S.FREE  # the board, not the door, was at fault
    sim.revive(0)
    assert cabinet.start_deposit(case(1), actor="staff", size="L").label == "A05"


def test_jammed_door_at_pickup_raises_staff_task(cabinet: Cabinet, sim, db) -> None:
    code, pid, label = _deposit(cabinet, sim, 1)
    sim.jam(0, 1)
    with pytest.raises(PickupDoorFault) as exc:
        cabinet.start_pickup_by_code(code)
    assert exc.value.citizen_key == "error.pickup_door_fault"
    assert parcel(db, pid).state == S.ATTENTION and comp_state(db, label) == S.FAULTY
    tasks = cabinet.tasks()
    assert [(t.kind, t.label, t.parcel_id) for t in tasks] == [(S.TASK_PICKUP_DOOR, "A01", pid)]
    # Staff repair it and collect the parcel by hand; the task closes with the collection.
    sim.unjam(0, 1)
    assert [v.id for v in cabinet.collectable()] == [pid]
    h = cabinet.start_collect(pid, actor="staff")
    sim.take_item(0, 1)
    sim.close_door(0, 1)
    assert cabinet.wait_closed(h).outcome == S.RETURNED
    assert cabinet.tasks() == [] and comp_state(db, label) == S.FAULTY  # still out of service until enabled
    assert [e for _o, e, _p in outbox_events(db)] == ["DEPOSITED", None, "RETURNED_TO_CENTRE"]
    assert_consistent(db)


def test_item_left_after_pickup_is_a_staff_task(cabinet: Cabinet, sim, db) -> None:
    code, pid, _label = _deposit(cabinet, sim, 1)
    h = cabinet.start_pickup_by_code(code)
    sim.close_door(0, 1)  # the citizen closed the door without taking the parcel
    r = cabinet.wait_closed(h)
    assert r.outcome == "item_left" and r.task_id
    assert parcel(db, pid).state == S.ATTENTION
    assert "PICKED_UP" not in [e for _o, e, _p in outbox_events(db)]
    cabinet.resolve_task(r.task_id, actor="staff:2", note="handed over at the desk")
    assert cabinet.tasks() == [] and len(cabinet.tasks(open_only=False)) == 1


def test_code_waits_persist_across_restart(db, bus, cab_cfg, clock, sim, platform) -> None:
    # The growing hall-wide waits themselves: tests/cabinet/test_code_waits.py.
    pickup = PickupConfig(free_wrong_codes=3, first_delay_s=600)
    cab = make_cabinet(db, bus, cab_cfg, clock, pickup=pickup, platform=platform)
    cab.start()
    code, _pid, _label = _deposit(cab, sim, 1)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(2):
        with pytest.raises(WrongPickupCode):
            cab.start_pickup_by_code(wrong)
        clock.advance(10)
    with pytest.raises(WrongPickupCode) as exc:
        cab.start_pickup_by_code(wrong)
    assert exc.value.wait_s == 600
    clock.advance(100)
    # A new process (a restart) still refuses codes, even the right one.
    cab2 = make_cabinet(db, bus, cab_cfg, clock, pickup=pickup, platform=platform)
    cab2.start()
    with pytest.raises(CodeLockout) as lock:
        cab2.start_pickup_by_code(code)
    assert lock.value.retry_after_s == 500
    clock.advance(500)
    h = cab2.start_pickup_by_code(code)
    sim.take_item(0, 1)
    sim.close_door(0, 1)
    assert cab2.wait_closed(h).outcome == "picked_up"
    with db.transaction() as s:
        attempts = (
            s.execute(select(AuditRecord.detail).where(AuditRecord.action == "cabinet.code_attempt"))
            .scalars()
            .all()
        )
    assert [a["result"] for a in attempts] == ["wrong", "wrong", "wrong", "locked_out", "ok"]


def test_staff_can_clear_lockout(cabinet: Cabinet, db) -> None:
    for _ in range(3):
        with pytest.raises(WrongPickupCode):
            cabinet.start_pickup_by_code("123456")
    with pytest.raises(CodeLockout):
        cabinet.start_pickup_by_code("123456")
    cleared = cabinet.clear_lockout(actor="staff:1")
    assert (cleared.retry_after_s, cleared.wrong_codes) == (30, 3)
    with pytest.raises(WrongPickupCode) as exc:
        cabinet.start_pickup_by_code("123456")
    assert exc.value.wait_s == 0


def test_expiry_and_overdue_with_fake_clock(cabinet: Cabinet, sim, db, clock) -> None:
    code, pid, label = _deposit(cabinet, sim, 1)
    _code2, pid2, _ = _deposit(cabinet, sim, 2)
    clock.advance(6 * 86400)
    assert cabinet.overdue() == []
    clock.advance(86400)  # a week later
    assert [v.id for v in cabinet.overdue()] == [pid, pid2] and all(v.overdue for v in cabinet.overdue())
    with pytest.raises(PickupCodeExpired):
        cabinet.start_pickup_by_code(code)
    # Still collectable by its owner with the ID card until staff collect it.
    h = cabinet.start_pickup_by_identity(person(1), parcel_id=pid)
    assert h.label == label
    sim.take_item(0, 1)
    sim.close_door(0, 1)
    assert cabinet.wait_closed(h).outcome == "picked_up"
    # Staff collect the other overdue one.
    assert [v.id for v in cabinet.collectable()] == [pid2]
    results = cabinet.run_collect(
        actor="staff", on_open=lambda hd: (sim.take_item(0, 2), sim.close_door(0, 2))
    )
    assert [r.outcome for r in results] == [S.RETURNED]
    assert cabinet.overdue() == []
    assert_consistent(db)


def test_db_holds_no_code_and_no_id_number(cabinet: Cabinet, sim, db) -> None:
    code, _pid, _ = _deposit(cabinet, sim, 1)
    with pytest.raises(WrongPickupCode):
        cabinet.start_pickup_by_code("000000" if code != "000000" else "111111")
    h = cabinet.start_dropoff(person(2), case_number=case(9), size="S")
    sim.put_item(0, 2)
    sim.close_door(0, 2)
    cabinet.wait_closed(h)
    secrets_ = [code, person(1).id_number, person(2).id_number, "张三丰"]
    tables = ["compartments", "parcels", "flows", "staff_tasks", "code_attempts", "outbox", "audit_log", "kv"]
    with db.transaction() as s:
        for t in tables:
            for row in s.execute(text(f"SELECT * FROM {t}")).all():
                blob = " ".join(str(v) for v in row)
                for needle in secrets_:
                    assert needle not in blob, f"{t} holds personal data or a code"


def test_crashpoints_are_noops_unless_named(monkeypatch) -> None:
    for p in POINTS:
        hit(p)
    with pytest.raises(ValueError):
        hit("deposit.nowhere")


def test_pickup_of_a_door_on_a_dead_board(cabinet: Cabinet, sim, db) -> None:
    code, pid, _ = _deposit(cabinet, sim, 1)
    sim.silence(0)
    with pytest.raises(PickupDoorFault) as exc:
        cabinet.start_pickup_by_code(code)
    assert isinstance(exc.value.__cause__, LockBoardError)
    assert parcel(db, pid).state == S.ATTENTION
    assert_consistent(db)


def test_citizen_reported_problem_becomes_a_staff_task(cabinet: Cabinet, sim, db) -> None:
    code, parcel_id, label = _deposit(cabinet, sim, 7)
    h = cabinet.start_pickup_by_code(code)
    task_id = cabinet.report_problem(
        h.label, "the citizen says the door did not open", actor="citizen", flow_id=h.flow_id
    )
    tasks = {t.id: t for t in cabinet.tasks()}
    assert task_id in tasks and label in tasks[task_id].detail
    with db.transaction() as s:
        t = s.get(StaffTask, task_id)
        assert (t.parcel_id, t.flow_id, t.kind) == (parcel_id, h.flow_id, "reported_problem")
        assert (
            s.execute(select(AuditRecord.action).order_by(AuditRecord.seq.desc())).scalars().first()
            == "cabinet.task_raised"
        )
    with pytest.raises(LookupError):
        cabinet.report_problem("Z99", "no such door", actor="citizen")
