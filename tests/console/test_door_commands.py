"""Door commands end to end below the browser: the console's core issues them, the owning kiosk's ConsoleLink
sees them waiting and runs them only on a staff confirmation, through the real cabinet over a simulated lock
board on a pty; stale, duplicate and foreign commands are refused; every step is audited by staff id."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from drivers.lockboard import SerialLockBus
from drivers.lockboard.settings import BusSettings
from drivers.lockboard.sim import SimLockBoard
from hallkiosk.console_link import ConsoleLink
from kiosk import door_commands as dc
from kiosk.cabinet import Cabinet
from kiosk.cabinet_owners import owner_key
from kiosk.clock import FakeClock
from kiosk.config import PickupConfig
from kiosk.storage.db import Database
from kiosk.storage.models import AuditRecord, KeyValue, Parcel
from tests.console.hall import CAB_ID, cabinet_config, deposit

KIOSK = "HALL-PC-01"


@pytest.fixture
def kiosk(db: Database, clock: FakeClock, secret: bytes) -> Iterator[tuple[Cabinet, SimLockBoard]]:
    cfg = cabinet_config()
    sim = SimLockBoard.from_config(cfg)
    bus = SerialLockBus(sim.serve_pty(), BusSettings.from_config(cfg))
    cab = Cabinet(db, {CAB_ID: bus}, [cfg], PickupConfig(), clock, secret, KIOSK, close_poll_interval_s=0.02)
    cab.start()
    with (
        db.transaction() as s
    ):  # what cabinet_owners.claim writes when this kiosk starts on the hall database
        s.add(KeyValue(key=owner_key(CAB_ID), value=json.dumps({"kiosk": KIOSK})))
    deposit(cab, sim, "LS202600000101", 1, "张三丰")
    yield cab, sim
    sim.stop()


def issue(
    db: Database, clock: FakeClock, label: str, kind: str = dc.TAKE_BACK, **kw: object
) -> dc.CommandView:
    with db.transaction() as s:
        return dc.issue(s, clock.now(), label=label, kind=kind, reason="overdue", requester="STAFF1", **kw)  # type: ignore[arg-type]


def stored_label(db: Database) -> str:
    with db.transaction() as s:
        p = s.execute(select(Parcel).where(Parcel.case_number == "LS202600000101")).scalar_one()
        from kiosk.storage.models import Compartment

        return s.get(Compartment, p.compartment_id).label  # type: ignore[union-attr]


def test_take_back_waits_for_a_confirmation_then_opens_the_door(
    db: Database, clock: FakeClock, kiosk: tuple[Cabinet, SimLockBoard]
) -> None:
    cab, sim = kiosk
    label = stored_label(db)
    ch = int(label[1:])
    cmd = issue(db, clock, label)
    assert (cmd.kiosk_id, cmd.state, cmd.parcel_id is not None) == (KIOSK, dc.PENDING, True)
    link = ConsoleLink(db, cab, KIOSK, clock, poll_s=0.05)
    seen: list[list[int]] = []
    link.on_change = lambda cmds: seen.append([c.id for c in cmds])
    assert [c.id for c in link.poll()] == [cmd.id] and seen == [[cmd.id]]
    assert not sim.is_open(0, ch)  # waiting: nothing moved without a confirmation at the kiosk
    ran = link.confirm(cmd.id, "ADMIN1")
    done = ran.command
    assert done.state == dc.DONE and done.confirmed_by == "ADMIN1" and label in (done.result or "")
    assert sim.is_open(0, ch)
    sim.take_item(0, ch)
    sim.close_door(0, ch)
    assert ran.flow_id is not None
    flows = cab.wait_closed(ran.flow_id, 5)
    with db.transaction() as s:
        p = s.execute(select(Parcel).where(Parcel.case_number == "LS202600000101")).scalar_one()
        actions = [
            (r.actor, r.action)
            for r in s.execute(
                select(AuditRecord).where(AuditRecord.action.like("door_command.%")).order_by(AuditRecord.seq)
            ).scalars()
        ]
    assert p.state != "ready", flows
    assert actions == [
        ("staff:STAFF1", "door_command.issued"),
        ("staff:ADMIN1", "door_command.confirmed"),
        ("staff:ADMIN1", "door_command.done"),
    ]
    assert link.poll() == []
    with pytest.raises(dc.CommandRefused):  # run once only
        link.confirm(cmd.id, "ADMIN1")


def test_duplicate_stale_and_foreign_commands_are_refused(
    db: Database, clock: FakeClock, kiosk: tuple[Cabinet, SimLockBoard]
) -> None:
    cab, sim = kiosk
    label = stored_label(db)
    cmd = issue(db, clock, label, ttl=dt.timedelta(minutes=5))
    with pytest.raises(dc.CommandRefused, match="still waiting"):
        issue(db, clock, label)
    with pytest.raises(dc.CommandRefused, match="no parcel"):
        issue(db, clock, "A08")  # an empty door has nothing to take back
    other = ConsoleLink(db, cab, "KIOSK-OTHER", clock)
    assert other.poll() == []
    with pytest.raises(dc.CommandRefused, match="no command"):
        other.confirm(cmd.id, "ADMIN1")
    clock.advance(301)
    link = ConsoleLink(db, cab, KIOSK, clock)
    with pytest.raises(dc.CommandRefused, match="expired"):
        link.confirm(cmd.id, "ADMIN1")
    assert not sim.is_open(0, int(label[1:]))
    with db.transaction() as s:
        assert dc.recent(s, label=label)[0].state == dc.EXPIRED
    again = issue(db, clock, label)  # once the stale one expired, the console may ask again
    assert link.poll()[0].id == again.id


def test_inspection_opens_an_empty_door_and_a_jammed_one_fails(
    db: Database, clock: FakeClock, kiosk: tuple[Cabinet, SimLockBoard]
) -> None:
    cab, sim = kiosk
    link = ConsoleLink(db, cab, KIOSK, clock)
    ok = link.confirm(issue(db, clock, "A08", dc.INSPECT).id, "TECH1")
    assert ok.command.state == dc.DONE and ok.flow_id is not None and sim.is_open(0, 8)
    sim.close_door(0, 8)
    cab.wait_closed(ok.flow_id, 5)
    sim.jam(0, 7)
    bad = link.confirm(issue(db, clock, "A07", dc.INSPECT).id, "TECH1")
    assert bad.command.state == dc.FAILED and bad.command.result and bad.flow_id is None
    assert not sim.is_open(0, 7)


def test_sensor_readings_are_stored_while_idle_and_yield_to_an_open_door(
    db: Database, clock: FakeClock, kiosk: tuple[Cabinet, SimLockBoard]
) -> None:
    from kiosk import sensor_readings

    cab, sim = kiosk
    label = stored_label(db)
    link = ConsoleLink(db, cab, KIOSK, clock)
    assert link.read_sensors()
    with db.transaction() as s:
        got = sensor_readings.latest(s)
    assert (got[f"{CAB_ID}:{label}"].door_closed, got[f"{CAB_ID}:{label}"].item_present) == (True, True)
    assert (got[f"{CAB_ID}:A08"].door_closed, got[f"{CAB_ID}:A08"].item_present) == (True, False) and got[
        f"{CAB_ID}:A08"
    ].age_s < 60
    h = cab.start_collect(
        next(v.id for v in cab.collectable(include_ready=True) if v.label == label), actor="t"
    )
    assert not link.read_sensors()  # a door is open for a flow: the bus is its own until it shuts
    sim.take_item(0, int(label[1:]))
    sim.close_door(0, int(label[1:]))
    cab.wait_closed(h, 5)
    assert link.read_sensors()
    with db.transaction() as s:
        assert sensor_readings.latest(s)[f"{CAB_ID}:{label}"].item_present is False
