"""A stuck item sensor and a silent board or bus must not take a whole cabinet out of
service. Real SerialLockBus on the shipped SimLockBoard through a pty."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from drivers.lockboard import SerialLockBus
from drivers.lockboard.settings import BusSettings
from drivers.lockboard.sim import SimLockBoard
from kiosk.cabinet import Cabinet, PickupDoorFault
from kiosk.cabinet import states as S
from kiosk.config import CabinetConfig
from kiosk.errors import LockBoardError
from kiosk.storage.models import AuditRecord, Compartment, Parcel, StaffTask
from tests.cabinet.cabinet_support import (
    CAB_ID,
    assert_consistent,
    case,
    comp_state,
    make_bus,
    make_cabinet,
    make_sim,
    parcel,
    person,
)

BOARD_TASK = "board_not_answering"
SENSOR_TASK = "item_sensors"


def _deposit(cab: Cabinet, sim: SimLockBoard, n: int, size: str = "S") -> tuple[str, int, str]:
    h = cab.start_deposit(case(n), actor="staff", size=size)
    ch = int(h.label[1:])
    sim.put_item(0, ch)
    sim.close_door(0, ch)
    r = cab.wait_closed(h)
    return r.code, r.parcel_id, h.label


def _open_tasks(db) -> list[StaffTask]:
    with db.transaction() as s:
        return list(
            s.execute(
                select(StaffTask).where(StaffTask.resolved_at.is_(None)).order_by(StaffTask.id)
            ).scalars()
        )


def _states(cab: Cabinet) -> dict[str, str]:
    return {c.label: c.state for c in cab.status()}


# --- 2: item sensors that read "present" everywhere --------------------------------------------------------
def test_stuck_item_sensors_cost_two_compartments_and_one_task_not_the_cabinet(
    cabinet: Cabinet, sim, db
) -> None:
    for ch in range(1, 6):
        sim.put_item(
            0, ch
        )  # every sensor reads "item present" (stuck, or item_present_level set the wrong way)
    h = cabinet.start_deposit(case(1), actor="staff:2", size="S")
    assert (
        h.label == "A03"
    )  # two strays taken out of service, then the sensors are doubted and A03 handed out
    assert [comp_state(db, x) for x in ("A01", "A02", "A03", "A04", "A05")] == [
        S.DISABLED,
        S.DISABLED,
        S.RESERVED,
        S.FREE,
        S.FREE,
    ]
    tasks = _open_tasks(db)
    assert [t.kind for t in tasks] == [S.TASK_ITEM_LEFT, S.TASK_ITEM_LEFT, SENSOR_TASK]
    assert tasks[2].detail.startswith("item sensors look wrong on board 0 (cabinet CAB-01)")
    sim.close_door(0, 3)
    assert cabinet.wait_closed(h).outcome == "deposited"
    # While that task is open the board's sensors take nothing more out of service: the next deposit gets A04.
    h2 = cabinet.start_deposit(case(2), actor="staff:2", size="S")
    assert h2.label == "A04" and len(_open_tasks(db)) == 3
    sim.close_door(0, 4)
    assert cabinet.wait_closed(h2).outcome == "deposited"
    assert_consistent(db)


def test_resolving_the_sensor_task_trusts_the_sensors_again(cabinet: Cabinet, sim, db) -> None:
    for ch in range(1, 6):
        sim.put_item(0, ch)
    h = cabinet.start_deposit(case(1), actor="staff", size="S")
    sim.close_door(0, int(h.label[1:]))
    cabinet.wait_closed(h)
    [sensor_task] = [t for t in _open_tasks(db) if t.kind == SENSOR_TASK]
    cabinet.resolve_task(sensor_task.id, actor="tech:1", note="sensors replaced")
    sim.take_item(0, 5)  # the repaired sensors read A05 empty, A04 still full
    h2 = cabinet.start_deposit(case(2), actor="staff", size="S")  # A04 reads an item, and is believed again
    assert h2.label == "A05" and comp_state(db, "A04") == S.DISABLED


def test_a_single_stray_is_still_taken_out_of_service(cabinet: Cabinet, sim, db) -> None:
    sim.put_item(0, 1)
    h = cabinet.start_deposit(case(1), actor="staff", size="S")
    assert h.label == "A02" and comp_state(db, "A01") == S.DISABLED
    assert [t.kind for t in _open_tasks(db)] == [S.TASK_ITEM_LEFT]


# --- 3: a silent board, a dead bus ----------------------------------------------------------------------------
def test_a_silent_board_ends_the_deposit_with_one_task_and_no_door_marked(cabinet: Cabinet, sim, db) -> None:
    sim.silence(0)
    before = len(sim.requests_to(0))
    t0 = time.monotonic()
    with pytest.raises(LockBoardError, match=r"board 0 \(cabinet CAB-01\) not answering") as exc:
        cabinet.start_deposit(case(1), actor="staff", size="S")
    assert time.monotonic() - t0 < 2.5  # one read's timeout (0.3 s × 2 tries), not one per door
    assert len(sim.requests_to(0)) - before <= 2  # no other door of the dead board was tried
    assert (exc.value.cabinet_id, exc.value.board) == ("CAB-01", 0)
    sim.revive(0)
    assert set(_states(cabinet).values()) == {S.FREE}  # the board, not each door, was at fault
    [task] = _open_tasks(db)
    assert task.kind == BOARD_TASK and task.detail.startswith("board 0 (cabinet CAB-01) not answering")
    # A second attempt while it is still silent adds no second task for the same board.
    sim.silence(0)
    with pytest.raises(LockBoardError):
        cabinet.start_dropoff(person(2), case_number=case(2), size="S")
    assert len(_open_tasks(db)) == 1
    assert_consistent(db)


class _DiesOnUnlock:
    """The real bus; the board goes silent just as the unlock is sent (after the allocation's sensor read)."""

    def __init__(self, bus: SerialLockBus, sim: SimLockBoard) -> None:
        self.bus, self.sim = bus, sim

    def open(self, board: int, channel: int) -> Any:
        self.sim.silence(board)
        return self.bus.open(board, channel)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.bus, name)


def test_a_board_dying_at_the_unlock_does_not_cascade_through_its_doors(
    db, bus, sim, cab_cfg, clock, platform
) -> None:
    cab = make_cabinet(db, bus, cab_cfg, clock, platform=platform)
    cab.start()
    cab.buses[CAB_ID] = _DiesOnUnlock(bus, sim)  # type: ignore[assignment]
    with pytest.raises(LockBoardError, match="not answering") as exc:
        cab.start_deposit(case(1), actor="staff", size="S")
    assert exc.value.board == 0
    sim.revive(0)
    cab.buses[CAB_ID] = bus
    assert set(_states(cab).values()) == {S.FREE}  # A01 back to free; A02-A05 never tried
    [task] = _open_tasks(db)
    assert task.kind == BOARD_TASK and "A01 was not opened" in task.detail
    with db.transaction() as s:
        [p] = s.execute(select(Parcel)).scalars()
        assert (p.state, p.compartment_id) == (S.CANCELLED, None)
        assert (
            s.execute(select(AuditRecord).where(AuditRecord.action == "cabinet.door_fault")).first() is None
        )
    assert_consistent(db)


def test_pickup_on_a_silent_board_leaves_the_compartment_occupied(cabinet: Cabinet, sim, db) -> None:
    code, pid, label = _deposit(cabinet, sim, 1)
    sim.silence(0)
    with pytest.raises(PickupDoorFault, match="not answering"):
        cabinet.start_pickup_by_code(code)
    assert comp_state(db, label) == S.OCCUPIED and parcel(db, pid).state == S.ATTENTION
    [task] = _open_tasks(db)
    assert (
        task.kind == S.TASK_PICKUP_DOOR
        and task.parcel_id == pid
        and "board 0 (cabinet CAB-01)" in task.detail
    )
    assert_consistent(db)


def test_technician_open_on_a_silent_board_marks_nothing_faulty(cabinet: Cabinet, sim, db) -> None:
    sim.silence(0)
    with pytest.raises(LockBoardError, match="not answering"):
        cabinet.technician_open("A04", actor="tech:1")
    assert comp_state(db, "A04") == S.FREE
    assert [t.kind for t in _open_tasks(db)] == [BOARD_TASK]


def _two_boards() -> CabinetConfig:
    comps = [
        {"label": "A01", "size": "S", "board": 0, "channel": 1},
        {"label": "A02", "size": "S", "board": 0, "channel": 2},
        {"label": "A03", "size": "S", "board": 1, "channel": 1},
    ]
    return CabinetConfig.model_validate(
        {
            "id": "CAB-01",
            "bus": "sim",
            "family": "kerong-cu",
            "boards": [0, 1],
            "reply_timeout_s": 0.3,
            "open_timeout_s": 0.4,
            "retries": 1,
            "close_timeout_s": 10,
            "compartments": comps,
        }
    )


@pytest.fixture
def two_boards(db, clock, platform) -> Iterator[tuple[Cabinet, SimLockBoard]]:
    cfg = _two_boards()
    sim, path = make_sim(cfg)
    bus = make_bus(cfg, path)
    cab = make_cabinet(db, bus, cfg, clock, platform=platform)
    cab.start()
    yield cab, sim
    bus.close()
    sim.stop()


def test_a_silent_board_is_passed_over_for_a_door_on_another_board(two_boards, db) -> None:
    cab, sim = two_boards
    sim.silence(0)
    h = cab.start_deposit(case(1), actor="staff", size="S")
    assert h.label == "A03"  # board 1; A02 on the silent board 0 was never tried
    sim.put_item(1, 1)
    sim.close_door(1, 1)
    assert cab.wait_closed(h).outcome == "deposited"
    sim.revive(0)
    assert _states(cab) == {"A01": S.FREE, "A02": S.FREE, "A03": S.OCCUPIED}
    assert [t.kind for t in _open_tasks(db)] == [BOARD_TASK]
    assert_consistent(db)


def test_a_bus_that_is_down_marks_no_door(db, cab_cfg, clock, platform, tmp_path) -> None:
    gone = SerialLockBus(str(tmp_path / "ttyUSB-unplugged"), BusSettings.from_config(cab_cfg))
    cab = make_cabinet(db, gone, cab_cfg, clock, platform=platform)
    cab.sync()
    with pytest.raises(LockBoardError, match="the lock bus of cabinet CAB-01 not answering") as exc:
        cab.start_deposit(case(1), actor="staff", size="S")
    assert exc.value.board is None
    with db.transaction() as s:
        assert set(s.execute(select(Compartment.state)).scalars()) == {S.FREE}
    [task] = _open_tasks(db)
    assert task.kind == BOARD_TASK and task.detail.startswith("the lock bus of cabinet CAB-01 not answering")
    gone.close()
    assert_consistent(db)
