"""Staff taking parcels out: a collect shut on its parcel changes nothing, taking back a ready result by name, and
a "free" compartment whose sensor reads an item is never handed out. Real SerialLockBus and simulator on a pty."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from kiosk import notes
from kiosk.cabinet import Cabinet, NothingToPickUp
from kiosk.cabinet import states as S
from kiosk.errors import FlowError, WrongPickupCode
from kiosk.storage.models import AuditRecord
from tests.cabinet.cabinet_support import assert_consistent, case, comp_state, outbox_events, parcel, person


def _deposit(cabinet: Cabinet, sim, n: int) -> tuple[str, int, int]:
    h = cabinet.start_deposit(case(n), actor="staff:7", size="S")
    ch = int(h.label[1:])
    sim.put_item(0, ch)
    sim.close_door(0, ch)
    r = cabinet.wait_closed(h)
    assert r.code is not None
    return r.code, r.parcel_id, ch


def _audit(db, action: str) -> list[AuditRecord]:
    with db.transaction() as s:
        return list(
            s.execute(
                select(AuditRecord).where(AuditRecord.action == action).order_by(AuditRecord.seq)
            ).scalars()
        )


def _reports(db) -> list[str | None]:
    return [e for op, e, _ in outbox_events(db) if op == "ReportDelivery"]


def test_collect_shut_on_its_dropoff_frees_nothing(cabinet: Cabinet, sim, db) -> None:
    h = cabinet.start_dropoff(person(2), case_number=case(2), size="S")
    sim.put_item(0, 1)
    sim.close_door(0, 1)
    pid = cabinet.wait_closed(h).parcel_id
    h = cabinet.start_collect(pid, actor="staff:1")
    sim.close_door(0, 1)  # the wrong row tapped: the door shut again with the materials still inside
    r = cabinet.wait_closed(h)
    assert (r.outcome, r.item_present) == ("item_still_inside", True)
    assert parcel(db, pid).state == S.DROPPED_OFF and comp_state(db, "A01") == S.OCCUPIED
    assert _reports(db) == []  # no DROPOFF_RECEIVED for materials still in the cabinet
    [rec] = _audit(db, "cabinet.collect_item_still_inside")
    assert rec.actor == "staff:1" and rec.subject == "A01" and rec.detail["parcel"] == pid
    assert cabinet.tasks() == [] and [v.id for v in cabinet.collectable()] == [pid]
    assert_consistent(db)
    # Taken out for real this time.
    r = cabinet.collect(pid, actor="staff:1", on_open=lambda hd: (sim.take_item(0, 1), sim.close_door(0, 1)))
    assert (
        r.outcome == S.COLLECTED and comp_state(db, "A01") == S.FREE and _reports(db) == ["DROPOFF_RECEIVED"]
    )
    assert_consistent(db)


def test_collect_shut_on_a_ready_result_keeps_it_ready_and_its_code(cabinet: Cabinet, sim, db) -> None:
    code, pid, ch = _deposit(cabinet, sim, 3)
    h = cabinet.start_collect(pid, actor="staff:1")
    sim.close_door(0, ch)
    assert cabinet.wait_closed(h).outcome == "item_still_inside"
    assert parcel(db, pid).state == S.READY and _reports(db) == ["DEPOSITED"]
    h = cabinet.start_pickup_by_code(code)  # the owner can still pick it up
    sim.take_item(0, ch)
    sim.close_door(0, ch)
    assert cabinet.wait_closed(h).outcome == "picked_up"
    assert_consistent(db)


def test_staff_take_back_a_ready_result_by_name(cabinet: Cabinet, sim, db) -> None:
    code, pid, ch = _deposit(cabinet, sim, 4)
    assert cabinet.collectable() == []  # not overdue: not in the default list
    [view] = cabinet.collectable(include_ready=True)
    assert (view.id, view.state, view.overdue) == (pid, S.READY, False)
    h = cabinet.start_collect(pid, actor="staff:7", reason="wrong case deposited")
    # From the moment the door opens for staff, neither the code nor the owner's card opens it.
    with pytest.raises(FlowError, match="collecting"):
        cabinet.start_pickup_by_code(code)
    with pytest.raises(NothingToPickUp):
        cabinet.start_pickup_by_identity(person(1))
    sim.take_item(0, ch)
    sim.close_door(0, ch)
    r = cabinet.wait_closed(h)
    assert r.outcome == S.RETURNED and comp_state(db, "A01") == S.FREE
    p = parcel(db, pid)
    assert p.state == S.RETURNED and p.code_hmac is None
    with pytest.raises(WrongPickupCode):
        cabinet.start_pickup_by_code(code)  # dead for good
    assert _reports(db) == ["DEPOSITED", "RETURNED_TO_CENTRE"]
    [req] = _audit(db, "cabinet.collect_requested")
    assert req.actor == "staff:7" and req.detail["reason"] == "other"  # typed: a staff note (kiosk.notes)
    with db.transaction() as s:
        assert notes.read(s, req.detail["note"]) == "wrong case deposited"
    assert (req.detail["state"], req.detail["overdue"], req.detail["parcel"]) == (S.READY, False, pid)
    assert [a.actor for a in _audit(db, "cabinet.collected")] == ["staff:7"]
    with pytest.raises(FlowError, match="not stored"):
        cabinet.start_collect(pid, actor="staff:7")  # already out
    assert_consistent(db)


def test_allocation_passes_over_a_stray_item(cabinet: Cabinet, sim, db) -> None:
    sim.put_item(0, 1)  # something in A01, though the kiosk believes it empty
    h = cabinet.start_deposit(case(5), actor="staff:2", size="S")
    assert h.label == "A02"
    assert comp_state(db, "A01") == S.DISABLED
    [task] = cabinet.tasks()
    assert (task.kind, task.label) == (S.TASK_ITEM_LEFT, "A01") and "item sensor" in task.detail
    [rec] = _audit(db, "cabinet.stray_item")
    assert (rec.actor, rec.subject) == ("staff:2", "A01")
    sim.put_item(0, 2)
    sim.close_door(0, 2)
    assert cabinet.wait_closed(h).outcome == "deposited"
    # Staff take the stray out and put A01 back in service.
    sim.take_item(0, 1)
    cabinet.resolve_task(task.id, actor="staff:2")
    assert cabinet.enable("A01", actor="staff:2") == S.FREE
    assert_consistent(db)


def test_stray_items_everywhere_cost_two_compartments_and_one_sensor_task(cabinet: Cabinet, sim, db) -> None:
    for ch in range(1, 6):
        sim.put_item(0, ch)
    h = cabinet.start_dropoff(person(3), case_number=case(6), size="S")
    assert h.label == "A03"  # past two strays the sensors are doubted, not the compartments
    assert sorted((t.kind, t.label) for t in cabinet.tasks()) == [
        ("item_left", "A01"),
        ("item_left", "A02"),
        ("item_sensors", "A03"),
    ]
    sim.close_door(0, 3)
    assert cabinet.wait_closed(h).outcome == "dropped_off"
    assert {c.label: c.state for c in cabinet.status()} == {
        "A01": S.DISABLED,
        "A02": S.DISABLED,
        "A03": S.OCCUPIED,
        "A04": S.FREE,
        "A05": S.FREE,
    }
    assert [e for op, e, _ in outbox_events(db) if op == "ReportDelivery"] == []
    assert_consistent(db)
