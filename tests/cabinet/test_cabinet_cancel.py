"""A deposit or drop-off whose door shuts on an empty compartment is the person cancelling: nothing is handed over.

Real SerialLockBus and the shipped simulator on a pty; the item sensor is the simulator's.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from kiosk.audit import verify
from kiosk.cabinet import Cabinet, crashpoints
from kiosk.cabinet import states as S
from kiosk.storage.models import AuditRecord, Flow
from tests.cabinet.cabinet_support import (
    assert_consistent,
    cab_config,
    case,
    comp_state,
    make_bus,
    make_cabinet,
    make_sim,
    outbox_events,
    parcel,
    person,
)


def _audit(db, action: str) -> list[AuditRecord]:
    with db.transaction() as s:
        return list(
            s.execute(
                select(AuditRecord).where(AuditRecord.action == action).order_by(AuditRecord.seq)
            ).scalars()
        )


def _cancelled_cleanly(db, pid: int, label: str, actor: str) -> None:
    """Nothing went in, so nothing happened: no code, no receipt, no report, no SMS, the compartment free."""
    p = parcel(db, pid)
    assert p.state == S.CANCELLED and p.finished_at is not None
    assert p.code_hmac is None and p.receipt_number is None and p.stored_at is None
    assert comp_state(db, label) == S.FREE
    assert outbox_events(db) == []
    [rec] = _audit(db, "cabinet.cancelled_empty")
    assert (rec.actor, rec.subject, rec.detail["parcel"]) == (actor, label, pid)
    assert _audit(db, "cabinet.deposited") == [] and _audit(db, "cabinet.dropped_off") == []
    with db.transaction() as s:
        assert verify(s).ok
    assert_consistent(db)


def test_deposit_shut_empty_is_cancelled_and_the_case_can_be_deposited_again(
    cabinet: Cabinet, sim, db
) -> None:
    h = cabinet.start_deposit(case(1), actor="staff:7", size="S")
    assert h.label == "A01" and sim.is_open(0, 1)
    sim.close_door(0, 1)  # the clerk changed their mind: opened, put nothing in, shut it
    r = cabinet.wait_closed(h)
    assert (r.outcome, r.code, r.expires_at, r.item_present) == ("cancelled_empty", None, None, False)
    assert cabinet.poll(h).outcome == "cancelled_empty"  # the stored result says the same
    _cancelled_cleanly(db, r.parcel_id, "A01", "staff:7")
    # The case is not "already in the cabinet": staff deposit it again, for real this time, into the same door.
    h2 = cabinet.start_deposit(case(1), actor="staff:7", size="S")
    assert h2.label == "A01"
    sim.put_item(0, 1)
    sim.close_door(0, 1)
    r2 = cabinet.wait_closed(h2)
    assert r2.outcome == "deposited" and r2.code and r2.parcel_id != r.parcel_id
    assert [(op, e) for op, e, _ in outbox_events(db)] == [
        ("ReportDelivery", "DEPOSITED"),
        ("NotifyApplicant", None),
    ]
    assert_consistent(db)


def test_dropoff_shut_empty_is_cancelled_without_a_receipt(cabinet: Cabinet, sim, db) -> None:
    h = cabinet.start_dropoff(person(2), case_number=case(2), size="S")
    sim.close_door(0, 1)
    r = cabinet.wait_closed(h)
    assert (r.outcome, r.receipt_number) == ("cancelled_empty", None)
    _cancelled_cleanly(db, r.parcel_id, "A01", "citizen")
    assert cabinet.collectable() == []  # staff have nothing to collect


def test_without_item_sensors_the_staff_word_counts(db, clock, platform) -> None:
    """No sensor to say the compartment is empty: a shut door is a deposit (or drop-off), as before."""
    cfg = cab_config(item_sensors=False)
    sim, path = make_sim(cfg)
    bus = make_bus(cfg, path)
    try:
        cab = make_cabinet(db, bus, cfg, clock, platform=platform)
        cab.start()
        h = cab.start_deposit(case(3), actor="staff:7", size="S")
        sim.close_door(0, 1)
        r = cab.wait_closed(h)
        assert r.outcome == "deposited" and r.code and r.item_present is None
        h = cab.start_dropoff(person(2), case_number=case(4), size="S")
        sim.close_door(0, 2)
        r = cab.wait_closed(h)
        assert r.outcome == "dropped_off" and r.receipt_number
        assert _audit(db, "cabinet.cancelled_empty") == []
        assert_consistent(db)
    finally:
        bus.close()
        sim.stop()


class _Crash(BaseException):
    """The power going off."""


@pytest.mark.parametrize("kind", ["deposit", "dropoff"])
def test_start_up_ends_an_interrupted_flow_shut_empty_the_same_way(
    kind: str, db, cabinet: Cabinet, sim, bus, cab_cfg, clock, platform, monkeypatch
) -> None:
    real = crashpoints.hit

    def hit(name: str) -> None:
        real(name)
        if name == f"{kind}.door_open":
            raise _Crash(name)

    monkeypatch.setattr(crashpoints, "hit", hit)
    with pytest.raises(_Crash):
        if kind == "deposit":
            cabinet.start_deposit(case(5), actor="staff:7", size="S")
        else:
            cabinet.start_dropoff(person(2), case_number=case(5), size="S")
    monkeypatch.undo()
    sim.close_door(0, 1)  # while the kiosk was down, the door was shut with nothing put in
    report = make_cabinet(db, bus, cab_cfg, clock, platform=platform).start()
    assert len(report.rolled_back) == 1 and report.staff_tasks == []
    with db.transaction() as s:
        flow = s.execute(select(Flow)).scalar_one()
        assert flow.outcome == "cancelled_empty" and flow.finished_at is not None
        pid = flow.parcel_id
    _cancelled_cleanly(db, pid, "A01", "kiosk")
    assert "at start-up" in _audit(db, "cabinet.cancelled_empty")[0].detail["why"]
