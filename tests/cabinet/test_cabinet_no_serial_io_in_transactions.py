"""No serial I/O inside a database transaction, and a crash between the steps of an allocation.

The bus is the real SerialLockBus talking to the shipped SimLockBoard on a pty; before each request a probe
opens a second connection and asks for what another kiosk process (or another kiosk on a shared PostgreSQL)
would need: SQLite's write lock, PostgreSQL's audit advisory lock and the compartment rows. Any of them still
held while the board is being asked means a silent board would stall every other writer for its timeout."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select, text

from drivers.lockboard import SerialLockBus
from kiosk.cabinet import Cabinet
from kiosk.cabinet import states as S
from kiosk.clock import FakeClock
from kiosk.config import CabinetConfig, PickupConfig
from kiosk.errors import StorageError
from kiosk.storage.db import Database
from kiosk.storage.models import Flow, Parcel
from tests.cabinet.cabinet_support import (
    CAB_ID,
    KIOSK_ID,
    SECRET,
    assert_consistent,
    case,
    comp_state,
    make_cabinet,
)


class Crash(BaseException):
    """Stands for the power going off: nothing after it runs, no except clause catches it."""


class ProbingBus:
    """The real bus; before each request, a second connection checks that this kiosk holds no database lock."""

    def __init__(self, bus: SerialLockBus, db_url: str) -> None:
        self.bus = bus
        self.other = Database(db_url, busy_timeout_ms=200)  # another writer that will not wait long
        self.probes: list[str] = []
        self.blocked: list[str] = []
        self.crash_on_read = False

    def _probe(self, what: str) -> None:
        self.probes.append(what)
        try:
            with self.other.transaction() as s:
                if self.other.is_sqlite:
                    s.execute(text("SELECT 1"))  # BEGIN IMMEDIATE: needs the one write lock
                else:
                    s.execute(text("SET LOCAL lock_timeout = '200ms'"))
                    s.execute(text("SELECT pg_advisory_xact_lock(4242)"))  # what every audit append takes
                    s.execute(text("SELECT id FROM compartments FOR UPDATE"))  # any compartment row lock
        except StorageError as err:
            self.blocked.append(f"{what}: {err}")

    def door_state(self, board: int, channel: int) -> Any:
        self._probe(f"door_state {board}/{channel}")
        if self.crash_on_read:
            raise Crash("power cut while the item sensor is read")
        return self.bus.door_state(board, channel)

    def open(self, board: int, channel: int) -> Any:
        self._probe(f"open {board}/{channel}")
        return self.bus.open(board, channel)

    def board_state(self, board: int) -> Any:
        self._probe(f"board_state {board}")
        return self.bus.board_state(board)

    def scan(self, *a: Any, **kw: Any) -> Any:
        return self.bus.scan(*a, **kw)

    def close(self) -> None:
        self.other.dispose()


@pytest.fixture
def probing(bus: SerialLockBus, db_url: str) -> Iterator[ProbingBus]:
    p = ProbingBus(bus, db_url)
    yield p
    p.close()


def _cabinet(
    db: Database, probing: ProbingBus, cab_cfg: CabinetConfig, clock: FakeClock, platform: Any
) -> Cabinet:
    cab = Cabinet(
        db,
        {CAB_ID: probing},
        [cab_cfg],
        PickupConfig(),
        clock,
        SECRET,
        KIOSK_ID,  # type: ignore[dict-item]
        platform=platform,
        close_poll_interval_s=0.02,
    )
    cab.start()
    return cab


def test_allocation_reads_the_item_sensor_with_no_transaction_open(
    db, probing, cab_cfg, clock, platform, sim
) -> None:
    cab = _cabinet(db, probing, cab_cfg, clock, platform)
    h = cab.start_deposit(case(1), actor="staff:1", size="S")
    assert h.label == "A01"
    assert "door_state 0/1" in probing.probes  # the sensor of the chosen door was read ...
    assert probing.blocked == []  # ... and no lock another writer needs was held meanwhile
    sim.put_item(0, 1)
    sim.close_door(0, 1)
    assert cab.wait_closed(h).outcome == "deposited"
    assert probing.blocked == []
    assert_consistent(db)


def test_moving_on_after_a_door_fault_reads_the_next_sensor_with_no_transaction_open(
    db, probing, cab_cfg, clock, platform, sim
) -> None:
    cab = _cabinet(db, probing, cab_cfg, clock, platform)
    sim.jam(0, 1)
    h = cab.start_deposit(case(1), actor="staff:1", size="S")
    assert h.label == "A02" and comp_state(db, "A01") == S.FAULTY
    assert "door_state 0/2" in probing.probes  # the next door's sensor, read after the fault was recorded
    assert probing.blocked == []
    sim.put_item(0, 2)
    sim.close_door(0, 2)
    assert cab.wait_closed(h).outcome == "deposited"
    assert_consistent(db)


def test_a_stray_found_and_a_dropoff_read_no_sensor_inside_a_transaction(
    db, probing, cab_cfg, clock, platform, sim
) -> None:
    from tests.cabinet.cabinet_support import person

    cab = _cabinet(db, probing, cab_cfg, clock, platform)
    sim.put_item(0, 1)
    h = cab.start_dropoff(person(2), case_number=case(2), size="S")
    assert h.label == "A02" and comp_state(db, "A01") == S.DISABLED
    assert probing.probes[:2] == ["door_state 0/1", "door_state 0/2"] and probing.blocked == []


def test_a_crash_while_the_sensor_is_read_leaves_a_reservation_start_up_frees(
    db, probing, bus, cab_cfg, clock, platform, sim
) -> None:
    cab = _cabinet(db, probing, cab_cfg, clock, platform)
    probing.crash_on_read = True
    with pytest.raises(Crash):
        cab.start_deposit(case(1), actor="staff:1", size="S")
    # What the power cut left: A01 reserved (so nobody else took it meanwhile), no parcel, no flow.
    assert comp_state(db, "A01") == S.RESERVED
    with db.transaction() as s:
        assert s.execute(select(Flow.id)).first() is None and s.execute(select(Parcel.id)).first() is None
    # The restart's reconciliation frees it, and the next deposit gets it.
    report = make_cabinet(db, bus, cab_cfg, clock, platform=platform).start()
    assert any("A01: reserved by nothing, freed" in line for line in report.lines)
    assert comp_state(db, "A01") == S.FREE
    cab2 = make_cabinet(db, bus, cab_cfg, clock, platform=platform)
    h = cab2.start_deposit(case(1), actor="staff:1", size="S")
    assert h.label == "A01"
    sim.put_item(0, 1)
    sim.close_door(0, 1)
    assert cab2.wait_closed(h).outcome == "deposited"
    assert_consistent(db)


def test_an_error_while_the_sensor_is_read_gives_the_reservation_back(
    db, probing, cab_cfg, clock, platform
) -> None:
    cab = _cabinet(db, probing, cab_cfg, clock, platform)

    def broken(board: int, channel: int) -> Any:
        raise RuntimeError("a bug in a driver")

    probing.door_state = broken  # type: ignore[method-assign]
    with pytest.raises(RuntimeError):
        cab.start_deposit(case(1), actor="staff:1", size="S")
    assert comp_state(db, "A01") == S.FREE  # not left reserved until the next restart
    assert_consistent(db)
