"""The collect reason code in the audit chain, codes after a change of code_digits, doors left open
across a wall-clock step, and a code or card used at the wrong kiosk. Real SerialLockBus on the shipped
SimLockBoard through a pty; two kiosks sharing one database where it matters."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select

from drivers.lockboard.sim import SimLockBoard
from kiosk.cabinet import Cabinet, MalformedPickupCode
from kiosk.cabinet import states as S
from kiosk.clock import FakeClock
from kiosk.config import CabinetConfig, PickupConfig
from kiosk.errors import FlowError, WrongPickupCode
from kiosk.storage.models import AuditRecord, CodeAttempt
from tests.cabinet.cabinet_support import (
    KIOSK_ID,
    SECRET,
    assert_consistent,
    case,
    comp_state,
    make_bus,
    make_cabinet,
    make_sim,
    parcel,
    person,
)


def _deposit(cab: Cabinet, sim: SimLockBoard, n: int, board: int = 0) -> tuple[str, int, str]:
    h = cab.start_deposit(case(n), actor="staff", size="S")
    ch = int(h.label[1:])
    sim.put_item(board, ch)
    sim.close_door(board, ch)
    r = cab.wait_closed(h)
    return r.code, r.parcel_id, h.label


def _audit(db, action: str) -> list[AuditRecord]:
    with db.transaction() as s:
        return list(
            s.execute(
                select(AuditRecord).where(AuditRecord.action == action).order_by(AuditRecord.seq)
            ).scalars()
        )


# --- 4: the staff's reason for a collect -------------------------------------------------------------------
# Typed reasons are staff notes (kiosk.notes, issue 11 item 12): tests/cabinet/test_staff_notes.py.
def test_collect_reason_of_the_staff_screen_is_kept_as_its_code(cabinet: Cabinet, sim, db) -> None:
    _code, pid, _ = _deposit(cabinet, sim, 1)
    cabinet.start_collect(pid, actor="staff:7", reason="citizen_at_desk")
    [rec] = _audit(db, "cabinet.collect_requested")
    assert rec.detail["reason"] == "citizen_at_desk" and "note" not in rec.detail


# --- 5: codes already texted when code_digits changes -------------------------------------------------------
def test_codes_texted_before_code_digits_changed_still_work(db, bus, cab_cfg, clock, sim, platform) -> None:
    cab6 = make_cabinet(db, bus, cab_cfg, clock, platform=platform)
    cab6.start()
    code, pid, label = _deposit(cab6, sim, 1)
    assert len(code) == 6
    # The site raises code_digits to 8 and restarts; the citizen types the 6-digit code from the text message.
    cab8 = make_cabinet(
        db, bus, cab_cfg, clock, pickup=PickupConfig(code_digits=8, free_wrong_codes=5), platform=platform
    )
    cab8.start()
    h = cab8.start_pickup_by_code(code)
    assert h.label == label
    sim.take_item(0, int(label[1:]))
    sim.close_door(0, int(label[1:]))
    assert cab8.wait_closed(h).outcome == "picked_up" and parcel(db, pid).state == S.PICKED_UP


def test_any_allowed_length_counts_toward_the_lockout_others_are_malformed(
    db, bus, cab_cfg, clock, platform
) -> None:
    cab = make_cabinet(
        db, bus, cab_cfg, clock, pickup=PickupConfig(code_digits=8, free_wrong_codes=5), platform=platform
    )
    cab.start()
    for wrong in ("000000", "0000000", "0000000000"):  # 6, 7 and 10 digits: codes, just not right ones
        with pytest.raises(WrongPickupCode):
            cab.start_pickup_by_code(wrong)
    for bad in ("00000", "00000000000", "0000a000"):  # 5 and 11 digits, a letter: not codes at all
        with pytest.raises(MalformedPickupCode, match="a pickup code has 8 digits"):
            cab.start_pickup_by_code(bad)
    with db.transaction() as s:
        assert s.execute(select(func.count()).select_from(CodeAttempt)).scalar_one() == 3


# --- 6: doors left open, measured on the monotonic clock -----------------------------------------------------
class SteppedClock(FakeClock):
    """A fake clock whose wall time can be stepped (NTP) without the monotonic clock moving."""

    def step_wall(self, seconds: float) -> None:
        self._now += dt.timedelta(seconds=seconds)


@pytest.fixture
def stepped(db, bus, cab_cfg, platform) -> tuple[Cabinet, SteppedClock]:
    clock = SteppedClock()
    cab = make_cabinet(db, bus, cab_cfg, clock, platform=platform)
    cab.start()
    return cab, clock


def _open_pickup(cab: Cabinet, sim: SimLockBoard) -> int:
    code, _pid, _label = _deposit(cab, sim, 1)
    return cab.start_pickup_by_code(code).flow_id


def test_a_wall_clock_step_forward_flags_no_open_door(stepped, sim) -> None:
    cab, clock = stepped
    _open_pickup(cab, sim)
    clock.step_wall(86400)  # NTP corrects a day-slow clock while the citizen stands at the open door
    assert cab.settle_open_flows() == [] and cab.tasks() == []
    clock.advance(11)  # close_timeout_s is 10
    cab.settle_open_flows()
    assert [t.kind for t in cab.tasks()] == [S.TASK_DOOR_LEFT_OPEN]


def test_a_wall_clock_step_back_still_flags_a_door_left_open(stepped, sim) -> None:
    cab, clock = stepped
    _open_pickup(cab, sim)
    clock.step_wall(-86400)
    clock.advance(11)
    cab.settle_open_flows()
    assert [t.kind for t in cab.tasks()] == [S.TASK_DOOR_LEFT_OPEN]


def test_a_door_open_before_a_restart_is_timed_from_its_recorded_opening_once(
    stepped, db, bus, cab_cfg, sim, platform
) -> None:
    cab, clock = stepped
    _open_pickup(cab, sim)
    clock.advance(5)
    again = make_cabinet(
        db, bus, cab_cfg, clock, platform=platform
    )  # a new process: it never saw the door open
    assert again.settle_open_flows() == [] and again.tasks() == []  # 5 s by the wall clock: not yet
    clock.step_wall(86400)  # from now on its monotonic clock counts
    assert again.settle_open_flows() == [] and again.tasks() == []
    clock.advance(6)
    again.settle_open_flows()
    assert [t.kind for t in again.tasks()] == [S.TASK_DOOR_LEFT_OPEN]


# --- 7: a code or card used at the wrong kiosk (a shared database) ------------------------------------------
def _other_cabinet() -> CabinetConfig:
    comps = [{"label": f"B{i:02d}", "size": "S", "board": 0, "channel": i} for i in (1, 2)]
    return CabinetConfig.model_validate(
        {
            "id": "CAB-02",
            "bus": "sim",
            "family": "kerong-cu",
            "boards": [0],
            "reply_timeout_s": 0.3,
            "open_timeout_s": 0.4,
            "retries": 1,
            "close_timeout_s": 10,
            "compartments": comps,
        }
    )


@pytest.fixture
def other_kiosk(db, clock, platform) -> Iterator[Cabinet]:
    """A second kiosk on the same database with its own cabinet CAB-02 (same kiosk secret: a hall-wide one)."""
    cfg = _other_cabinet()
    sim2, path = make_sim(cfg)
    bus2 = make_bus(cfg, path)
    cab = Cabinet(
        db,
        {cfg.id: bus2},
        [cfg],
        PickupConfig(),
        clock,
        SECRET,
        KIOSK_ID + "-B",
        platform=platform,
        close_poll_interval_s=0.02,
    )
    cab.start()
    yield cab
    bus2.close()
    sim2.stop()


def test_a_code_typed_at_the_wrong_kiosk_names_the_cabinet_and_touches_nothing(
    cabinet: Cabinet, other_kiosk: Cabinet, sim, db
) -> None:
    code, pid, label = _deposit(cabinet, sim, 1)
    with pytest.raises(FlowError, match="in cabinet CAB-01") as exc:
        other_kiosk.start_pickup_by_code(code)
    assert type(exc.value).__name__ == "ParcelInOtherCabinet" and exc.value.cabinet_id == "CAB-01"
    assert label not in exc.value.message  # the cabinet, not the compartment
    assert exc.value.citizen_key == "error.parcel_in_other_cabinet"
    assert comp_state(db, label) == S.OCCUPIED and parcel(db, pid).state == S.READY
    assert cabinet.tasks() == [] and _audit(db, "cabinet.door_fault") == []
    with db.transaction() as s:  # a right code: not a guess, not counted toward the other kiosk's lockout
        assert s.execute(select(CodeAttempt.ok)).scalars().all() == [True]
    h = cabinet.start_pickup_by_code(code)  # and it still works at the right kiosk
    sim.take_item(0, 1)
    sim.close_door(0, 1)
    assert cabinet.wait_closed(h).outcome == "picked_up"
    assert_consistent(db)


def test_a_card_at_the_wrong_kiosk_names_the_cabinet(cabinet: Cabinet, other_kiosk: Cabinet, sim, db) -> None:
    _code, pid, label = _deposit(cabinet, sim, 1)
    with pytest.raises(FlowError, match="in cabinet CAB-01") as exc:
        other_kiosk.start_pickup_by_identity(person(1))
    assert exc.value.cabinet_id == "CAB-01" and parcel(db, pid).state == S.READY
    with pytest.raises(FlowError, match="in cabinet CAB-01"):
        other_kiosk.start_pickup_by_identity(person(1), parcel_id=pid)
    assert other_kiosk.parcels_for(person(1)) == []
    from kiosk.cabinet import NothingToPickUp

    with pytest.raises(NothingToPickUp):
        other_kiosk.start_pickup_by_identity(person(2))  # nothing anywhere: as before
    assert comp_state(db, label) == S.OCCUPIED
    assert_consistent(db)
