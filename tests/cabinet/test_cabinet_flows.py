"""Each flow's happy path, through the real SerialLockBus and the shipped simulator on a pty."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from kiosk.audit import verify
from kiosk.cabinet import Cabinet, NothingToPickUp
from kiosk.cabinet import states as S
from kiosk.errors import NoFreeCompartment, ValidationError
from kiosk.outbox import payload_of
from kiosk.storage.models import AuditRecord, Compartment, OutboxMessage
from tests.cabinet.cabinet_support import (
    CAB_ID,
    assert_consistent,
    case,
    comp_state,
    outbox_events,
    parcel,
    person,
)


def test_start_syncs_compartments_and_keeps_state(cabinet: Cabinet, db, cab_cfg) -> None:
    with db.transaction() as s:
        rows = s.execute(select(Compartment).order_by(Compartment.label)).scalars().all()
        assert [(c.label, c.size, c.board, c.channel, c.state) for c in rows][:3] == [
            ("A01", "S", 0, 1, "free"),
            ("A02", "S", 0, 2, "free"),
            ("A03", "M", 0, 3, "free"),
        ]
    cabinet.disable("A02", actor="staff:1", reason="hinge")
    cabinet.start()  # a restart keeps each compartment's state
    assert comp_state(db, "A02") == S.DISABLED


def test_deposit_then_pickup_by_code(cabinet: Cabinet, sim, db, platform) -> None:
    h = cabinet.start_deposit(case(1), actor="staff:7", size="M")
    assert h.label == "A03" and sim.is_open(0, 3)
    assert cabinet.poll(h) is None  # still open
    sim.put_item(0, 3)
    sim.close_door(0, 3)
    r = cabinet.wait_closed(h)
    assert r.outcome == "deposited" and r.code and len(r.code) >= 6 and r.code.isdigit()
    assert r.expires_at == cabinet.clock.now() + dt.timedelta(days=7)
    assert "code" not in repr(r) or r.code not in repr(r)
    assert platform.calls == [case(1)]
    p = parcel(db, r.parcel_id)
    assert p.state == S.READY and p.owner_id_masked == "110105********" + person().id_number[-4:]
    assert p.owner_name_masked == "张*丰" and comp_state(db, "A03") == S.OCCUPIED
    assert cabinet.poll(h).outcome == "deposited"  # polling again is safe and never gives the code again
    assert cabinet.poll(h).code is None
    with db.transaction() as s:
        msgs = s.execute(select(OutboxMessage).order_by(OutboxMessage.id)).scalars().all()
        assert [m.operation for m in msgs] == ["ReportDelivery", "NotifyApplicant"]
        rep = payload_of(msgs[0], b"s" * 32)
        assert rep["event"] == "DEPOSITED" and rep["case_number"] == case(1) and rep["cabinet_id"] == CAB_ID
        assert (
            rep["compartment"] == "A03"
            and dt.datetime.fromisoformat(rep["occurred_at"]) == cabinet.clock.now()
        )
        assert msgs[1].sensitive and "sealed" in msgs[1].payload
        note = payload_of(msgs[1], b"s" * 32)
        assert note["template"] == "PICKUP_READY" and note["params"]["code"] == r.code
        assert set(note["params"]) == {"cabinet", "code", "expires"}
        # The citizen reads the expiry on a phone: Beijing time (UTC+8), not UTC.
        assert (
            note["params"]["expires"]
            == f"{cabinet.clock.now() + dt.timedelta(days=7, hours=8):%Y-%m-%d %H:%M}"
        )

    h2 = cabinet.start_pickup_by_code(r.code)
    assert h2.label == "A03" and sim.is_open(0, 3)
    sim.take_item(0, 3)
    sim.close_door(0, 3)
    r2 = cabinet.wait_closed(h2)
    assert r2.outcome == "picked_up"
    p = parcel(db, r.parcel_id)
    assert p.state == S.PICKED_UP and p.code_hmac is None and comp_state(db, "A03") == S.FREE
    assert [e for _op, e, _ in outbox_events(db)] == ["DEPOSITED", None, "PICKED_UP"]
    with db.transaction() as s:
        actions = [a for (a,) in s.execute(select(AuditRecord.action).order_by(AuditRecord.seq))]
        assert verify(s).ok
    for a in (
        "cabinet.door_opening",
        "cabinet.door_opened",
        "cabinet.door_closed",
        "cabinet.deposited",
        "cabinet.code_attempt",
        "cabinet.picked_up",
    ):
        assert a in actions
    assert_consistent(db)


def test_pickup_by_identity_and_single_use_code(cabinet: Cabinet, sim, db) -> None:
    h = cabinet.start_deposit(case(2), actor="staff:7", size="S")
    sim.put_item(0, 1)
    sim.close_door(0, 1)
    code = cabinet.wait_closed(h).code
    with pytest.raises(NothingToPickUp):
        cabinet.start_pickup_by_identity(person(2))
    assert [v.case_number for v in cabinet.parcels_for(person(1))] == [case(2)]
    h2 = cabinet.start_pickup_by_identity(person(1))
    assert h2.label == "A01"
    sim.take_item(0, 1)
    sim.close_door(0, 1)
    assert cabinet.wait_closed(h2).outcome == "picked_up"
    from kiosk.errors import WrongPickupCode

    with pytest.raises(WrongPickupCode):
        cabinet.start_pickup_by_code(code)  # single use
    assert_consistent(db)


def test_deposit_with_explicit_applicant_and_no_platform(db, bus, cab_cfg, clock, sim) -> None:
    from tests.cabinet.cabinet_support import make_cabinet

    cab = make_cabinet(db, bus, cab_cfg, clock)
    cab.start()
    from kiosk.errors import FlowError

    with pytest.raises(FlowError):
        cab.start_deposit(case(3), actor="cli")
    with pytest.raises(ValidationError):
        cab.start_deposit(case(3), actor="cli", applicant=person(1).__class__("123", "x", "resident_id"))
    with pytest.raises(ValidationError):
        cab.start_deposit("bad case", actor="cli", applicant=person(1))
    h = cab.start_deposit(case(3), actor="cli", applicant=person(5))
    sim.put_item(0, 3)
    sim.close_door(0, 3)
    r = cab.wait_closed(h)
    assert parcel(db, r.parcel_id).owner_id_masked.endswith(person(5).id_number[-4:])
    with pytest.raises(Exception, match="already in the cabinet"):
        cab.start_deposit(case(3), actor="cli", applicant=person(5))


def test_best_fit_by_size(cabinet: Cabinet, sim, db) -> None:
    labels = []
    for i, size in enumerate(["S", "S", "S", "M", "L"]):
        h = cabinet.start_deposit(case(10 + i), actor="staff", size=size)
        labels.append(h.label)
        sim.put_item(0, int(h.label[1:]))
        sim.close_door(0, int(h.label[1:]))
        cabinet.wait_closed(h)
    # S, S, then the smallest that fits (M), M, L: the L one is kept for the L parcel as long as possible
    assert labels == ["A01", "A02", "A03", "A04", "A05"]
    with pytest.raises(NoFreeCompartment):
        cabinet.start_deposit(case(20), actor="staff", size="S")
    assert_consistent(db)


def test_best_fit_skips_smaller_and_out_of_service(cabinet: Cabinet, sim) -> None:
    cabinet.disable("A03", actor="staff", reason="broken shelf")
    h = cabinet.start_deposit(case(30), actor="staff", size="M")
    assert h.label == "A04"
    sim.put_item(0, 4)
    sim.close_door(0, 4)
    cabinet.wait_closed(h)
    h = cabinet.start_deposit(case(31), actor="staff", size="M")
    assert h.label == "A05"  # only L left that fits
    sim.put_item(0, 5)
    sim.close_door(0, 5)
    cabinet.wait_closed(h)
    assert cabinet.enable("A03", actor="tech") == S.FREE


def test_dropoff_and_collect(cabinet: Cabinet, sim, db) -> None:
    with pytest.raises(ValidationError):
        cabinet.start_dropoff(person(3))
    h = cabinet.start_dropoff(person(3), case_number=case(40), size="S")
    assert h.label == "A01"
    sim.put_item(0, 1)
    sim.close_door(0, 1)
    r = cabinet.wait_closed(h)
    assert r.outcome == "dropped_off" and r.receipt_number and r.receipt_number.startswith("DO")
    h = cabinet.start_dropoff(person(4), matter_code="M-0001", matter_name="材料补交", size="S")
    sim.put_item(0, 2)
    sim.close_door(0, 2)
    r2 = cabinet.wait_closed(h)
    assert r2.receipt_number != r.receipt_number
    assert [v.label for v in cabinet.collectable()] == ["A01", "A02"]

    def close_after_taking(handle) -> None:
        ch = int(handle.label[1:])
        sim.take_item(0, ch)
        sim.close_door(0, ch)

    results = cabinet.run_collect(actor="staff:9", on_open=close_after_taking)
    assert [x.outcome for x in results] == ["collected", "collected"]
    assert comp_state(db, "A01") == S.FREE and comp_state(db, "A02") == S.FREE
    # Only the drop-off with a case number can be reported to the platform.
    assert [e for op, e, _ in outbox_events(db) if op == "ReportDelivery"] == ["DROPOFF_RECEIVED"]
    assert cabinet.collectable() == []
    assert_consistent(db)


def test_status_reads_doors_and_items(cabinet: Cabinet, sim) -> None:
    h = cabinet.start_deposit(case(50), actor="staff", size="S")
    st = {c.label: c for c in cabinet.status()}
    assert (
        st["A01"].state == S.RESERVED
        and st["A01"].door_closed is False
        and st["A01"].parcel.state == S.DEPOSITING
    )
    assert st["A02"].state == S.FREE and st["A02"].door_closed is True and st["A02"].item_present is False
    sim.put_item(0, 1)
    sim.close_door(0, 1)
    cabinet.wait_closed(h)
    st = {c.label: c for c in cabinet.status()}
    assert st["A01"].item_present is True and st["A01"].parcel.owner_id_masked.startswith("110105")
    sim.silence(0)
    st = cabinet.status()
    assert all(c.door_closed is None and c.bus_error for c in st)


def test_technician_open_is_audited(cabinet: Cabinet, sim, db) -> None:
    r = cabinet.technician_open("a04", actor="tech:3")
    assert r.outcome == "opened" and sim.is_open(0, 4)
    with db.transaction() as s:
        actions = [a for (a,) in s.execute(select(AuditRecord.action).where(AuditRecord.subject == "A04"))]
    assert actions[:3] == ["cabinet.technician_open", "cabinet.door_opening", "cabinet.door_opened"]
    from kiosk.cabinet import UnknownCompartment

    with pytest.raises(UnknownCompartment):
        cabinet.technician_open("Z99", actor="tech:3")
    assert_consistent(db)


def test_two_kiosks_never_take_the_same_compartment(db, bus, cab_cfg, clock, platform, sim) -> None:
    """Five deposits at once from five Cabinet instances on one database: five different doors."""
    import threading

    from tests.cabinet.cabinet_support import make_cabinet

    cabs = [make_cabinet(db, bus, cab_cfg, clock, platform=platform) for _ in range(5)]
    cabs[0].start()
    barrier = threading.Barrier(5)
    labels: list[str] = []
    errors: list[BaseException] = []

    def run(i: int) -> None:
        barrier.wait()
        try:
            labels.append(cabs[i].start_deposit(case(60 + i), actor=f"staff:{i}", size="S").label)
        except BaseException as err:  # collected for the assertion below
            errors.append(err)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and sorted(labels) == ["A01", "A02", "A03", "A04", "A05"]
    with db.transaction() as s:
        assert s.execute(select(Compartment.state).distinct()).scalars().all() == [S.RESERVED]
