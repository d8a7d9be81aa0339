"""Fault 5: a door found open at start-up is watched by the running kiosk and settled by its item sensor once
shut; a staff task only when it stays open past close_timeout_s or the board has no item sensor. Real
SerialLockBus on the shipped simulator through a pty; the earlier process's flow is left as a crash leaves it."""

from __future__ import annotations

from sqlalchemy import select

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
)


def _deposited(cab, sim) -> str:
    h = cab.start_deposit(case(1), actor="staff", size="S")
    sim.put_item(0, 1)
    sim.close_door(0, 1)
    return cab.wait_closed(h).code


def test_a_deposit_found_open_gets_its_code_and_sms_once_shut(
    cabinet, sim, bus, db, cab_cfg, clock, platform
) -> None:
    h = cabinet.start_deposit(case(1), actor="staff", size="S")  # the process then dies with the door open
    kiosk = make_cabinet(db, bus, cab_cfg, clock, platform=platform)
    report = kiosk.start()
    assert report.watched == [h.flow_id] and report.staff_tasks == [] and kiosk.tasks() == []
    assert kiosk.settle_open_flows() == []  # still open, within its timeout: nothing to say yet
    sim.put_item(0, 1)
    sim.close_door(0, 1)
    [r] = kiosk.settle_open_flows()
    assert r.outcome == "deposited" and parcel(db, h.parcel_id).state == S.READY
    assert [op for op, _e, pid in outbox_events(db) if pid == h.parcel_id] == [
        "ReportDelivery",
        "NotifyApplicant",
    ]
    assert kiosk.tasks() == [] and kiosk.settle_open_flows() == []
    assert_consistent(db)


def test_a_pickup_found_open_and_shut_on_its_parcel_rolls_back(
    cabinet, sim, bus, db, cab_cfg, clock, platform
) -> None:
    code = _deposited(cabinet, sim)
    h = cabinet.start_pickup_by_code(code)
    kiosk = make_cabinet(db, bus, cab_cfg, clock, platform=platform)
    assert kiosk.start().watched == [h.flow_id]
    sim.close_door(0, 1)  # shut with the parcel still inside: nothing changed hands
    [r] = kiosk.settle_open_flows()
    assert r.outcome == "not_picked_up" and parcel(db, h.parcel_id).state == S.READY
    assert kiosk.tasks() == []
    h2 = kiosk.start_pickup_by_code(code)  # the code works again
    sim.take_item(0, 1)
    sim.close_door(0, 1)
    assert kiosk.wait_closed(h2).outcome == "picked_up"
    assert_consistent(db)


def test_a_door_found_open_and_left_open_raises_one_task(
    cabinet, sim, bus, db, cab_cfg, clock, platform
) -> None:
    h = cabinet.start_deposit(case(1), actor="staff", size="S")
    kiosk = make_cabinet(db, bus, cab_cfg, clock, platform=platform)
    kiosk.start()
    clock.advance(cab_cfg.close_timeout_s + 1)
    kiosk.settle_open_flows()
    kiosk.settle_open_flows()
    tasks = kiosk.tasks()
    assert [(t.kind, t.flow_id) for t in tasks] == [(S.TASK_DOOR_LEFT_OPEN, h.flow_id)]
    sim.put_item(0, 1)
    sim.close_door(0, 1)
    [r] = kiosk.settle_open_flows()
    assert r.outcome == "deposited" and kiosk.tasks() == []  # the task ended with the flow
    assert_consistent(db)


def test_a_command_line_start_leaves_the_open_flow_alone(
    cabinet, sim, bus, db, cab_cfg, clock, platform
) -> None:
    """A CLI door command starts the core but never watches: the flow stays open for the kiosk to settle."""
    h = cabinet.start_deposit(case(1), actor="staff", size="S")
    cli = make_cabinet(db, bus, cab_cfg, clock, platform=platform)
    cli.start()  # and it never calls settle_open_flows
    sim.put_item(0, 1)
    sim.close_door(0, 1)
    with db.transaction() as s:
        flow = s.get(Flow, h.flow_id)
        assert (flow.state, flow.finished_at) == (S.DOOR_OPEN, None)
        assert s.execute(select(AuditRecord).where(AuditRecord.action == "cabinet.door_found_open")).first()
    assert comp_state(db, "A01") == S.RESERVED and cli.tasks() == []
    kiosk = make_cabinet(db, bus, cab_cfg, clock, platform=platform)
    report = kiosk.start()  # the kiosk's own start: now closed with the item inside, so it completes
    assert report.completed == [h.flow_id] and parcel(db, h.parcel_id).state == S.READY
    assert_consistent(db)


def test_a_door_found_open_on_a_board_without_item_sensor_is_a_task_at_once(db, clock, platform) -> None:
    cfg = cab_config(item_sensors=False)
    sim, path = make_sim(cfg)
    bus = make_bus(cfg, path)
    try:
        cab = make_cabinet(db, bus, cfg, clock, platform=platform)
        cab.start()
        h = cab.start_deposit(case(1), actor="staff", size="S")
        report = make_cabinet(db, bus, cfg, clock, platform=platform).start()
        assert report.watched == [] and len(report.staff_tasks) == 1 and "no item sensor" in report.lines[0]
        assert parcel(db, h.parcel_id).state == S.ATTENTION
        assert_consistent(db)
    finally:
        bus.close()
        sim.stop()
