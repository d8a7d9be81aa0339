"""Start-up reconciliation of every unfinished state, crashing in-process at each crash point."""

from __future__ import annotations

import pytest

from kiosk.cabinet import crashpoints
from kiosk.cabinet import states as S
from kiosk.storage.models import Compartment
from tests.cabinet.cabinet_support import (
    assert_consistent,
    cab_config,
    case,
    comp_state,
    make_bus,
    make_cabinet,
    make_sim,
)
from tests.cabinet.crash_scenarios import (
    act,
    after_crash,
    check,
    expected,
    finish_watched,
    prepare,
    scenarios,
    start,
)


class Crash(BaseException):
    """Stands for the power going off: nothing after it runs, no except clause catches it."""


def _crash_at(monkeypatch: pytest.MonkeyPatch, point: str) -> None:
    real = crashpoints.hit

    def hit(name: str) -> None:
        real(name)
        if name == point:
            raise Crash(name)

    monkeypatch.setattr(crashpoints, "hit", hit)


@pytest.mark.parametrize(("kind", "step", "world"), scenarios())
def test_reconcile_after_crash(
    kind: str, step: str, world: str, db, cabinet, sim, bus, cab_cfg, clock, platform, monkeypatch
) -> None:
    parcel_id, code = prepare(cabinet, sim, kind)
    _crash_at(monkeypatch, f"{kind}.{step}")
    with pytest.raises(Crash):
        h = start(cabinet, kind, parcel_id, code)
        act(sim, kind)
        cabinet.wait_closed(h)
    monkeypatch.undo()
    after_crash(sim, kind, step, world)
    cab = make_cabinet(db, bus, cab_cfg, clock, platform=platform)
    report = cab.start()
    outcome = expected(step, world)
    check(db, kind, parcel_id, outcome)
    if step != "done":
        assert len(report.completed + report.rolled_back + report.watched) + len(report.staff_tasks) == 1
    if outcome == "watched":
        check(db, kind, parcel_id, finish_watched(cab, sim, kind))
    assert_consistent(db)


@pytest.mark.parametrize("kind", ["deposit", "pickup", "dropoff", "collect"])
def test_no_item_sensor_means_staff_task(kind: str, db, clock, platform, monkeypatch) -> None:
    cfg = cab_config(item_sensors=False)
    sim, path = make_sim(cfg)
    bus = make_bus(cfg, path)
    try:
        cab = make_cabinet(db, bus, cfg, clock, platform=platform)
        cab.start()
        parcel_id, code = prepare(cab, sim, kind)
        _crash_at(monkeypatch, f"{kind}.door_open")
        with pytest.raises(Crash):
            start(cab, kind, parcel_id, code)
        monkeypatch.undo()
        act(sim, kind)
        report = make_cabinet(db, bus, cfg, clock, platform=platform).start()
        assert len(report.staff_tasks) == 1
        check(db, kind, parcel_id, "task")
        assert_consistent(db)
    finally:
        bus.close()
        sim.stop()


def test_board_silent_at_startup_means_staff_task(
    db, cabinet, sim, bus, cab_cfg, clock, platform, monkeypatch
) -> None:
    _crash_at(monkeypatch, "deposit.door_open")
    with pytest.raises(Crash):
        cabinet.start_deposit(case(1), actor="staff", size="S")
    monkeypatch.undo()
    sim.silence(0)
    report = make_cabinet(db, bus, cab_cfg, clock, platform=platform).start()
    assert len(report.staff_tasks) == 1 and "did not answer" in report.lines[0]
    assert comp_state(db, "A01") == S.RESERVED  # held: nobody else is given it
    assert_consistent(db)


def test_technician_open_interrupted_is_closed_off(
    db, cabinet, sim, bus, cab_cfg, clock, platform, monkeypatch
) -> None:
    _crash_at(monkeypatch, "tech_open.after_unlock")
    with pytest.raises(Crash):
        cabinet.technician_open("A02", actor="tech")
    monkeypatch.undo()
    report = make_cabinet(db, bus, cab_cfg, clock, platform=platform).start()
    assert report.completed and comp_state(db, "A02") == S.FREE
    assert_consistent(db)


def test_orphan_reservation_is_freed(db, cabinet, clock) -> None:
    with db.transaction() as s:
        comp = s.query(Compartment).filter_by(label="A04").one()
        comp.state = S.RESERVED
    report = cabinet.start()
    assert comp_state(db, "A04") == S.FREE and any("A04" in line for line in report.lines)
