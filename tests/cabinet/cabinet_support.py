"""Shared by the cabinet tests and the crash-test subprocess: a cabinet config, a platform double, helpers."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import select

from drivers.lockboard import SerialLockBus
from drivers.lockboard.settings import BusSettings
from drivers.lockboard.sim import SimLockBoard
from kiosk.cabinet import Cabinet
from kiosk.cabinet import states as S
from kiosk.clock import Clock
from kiosk.config import CabinetConfig, PickupConfig
from kiosk.identity import Identity, check_digit
from kiosk.platform_models import Applicant, DeliveryTicket
from kiosk.storage.db import Database
from kiosk.storage.models import Compartment, Flow, OutboxMessage, Parcel, StaffTask

CAB_ID = "CAB-01"
KIOSK_ID = "TEST-KIOSK-01"
SECRET = b"s" * 32


def id_number(seq: int = 1) -> str:
    """A valid resident ID number (check digit right) for test person ``seq``."""
    first17 = f"11010519800101{seq:03d}"
    return first17 + check_digit(first17)


def person(seq: int = 1, name: str = "张三丰") -> Identity:
    return Identity(id_number=id_number(seq), name=name, card_kind="resident_id")


def case(n: int = 1) -> str:
    return f"LS2026{n:08d}"


def cab_config(*, item_sensors: bool = True, sizes: str = "SSMML") -> CabinetConfig:
    """One kerong-cu board, compartments A01.. with the given sizes; short timeouts so faults are quick."""
    comps = [
        {"label": f"A{i + 1:02d}", "size": sz, "board": 0, "channel": i + 1} for i, sz in enumerate(sizes)
    ]
    return CabinetConfig.model_validate(
        {
            "id": CAB_ID,
            "bus": "sim",
            "family": "kerong-cu",
            "boards": [0],
            "has_item_sensors": item_sensors,
            "reply_timeout_s": 0.3,
            "open_timeout_s": 0.4,
            "retries": 1,
            "close_timeout_s": 10,
            "compartments": comps,
        }
    )


def make_sim(cab: CabinetConfig) -> tuple[SimLockBoard, str]:
    sim = SimLockBoard.from_config(cab)
    return sim, sim.serve_pty()


def make_bus(cab: CabinetConfig, path: str) -> SerialLockBus:
    return SerialLockBus(path, BusSettings.from_config(cab))


class FakePlatform:
    """GetDeliveryTicket only: every case belongs to test person 1 unless mapped otherwise."""

    def __init__(self) -> None:
        self.owners: dict[str, int] = {}
        self.calls: list[str] = []

    def get_delivery_ticket(self, case_number: str) -> DeliveryTicket:
        self.calls.append(case_number)
        seq = self.owners.get(case_number, 1)
        return DeliveryTicket(
            case_number,
            "居住证签注",
            Applicant("RESIDENT_ID", id_number(seq), "张三丰"),
            "LOCKER",
            "APPROVED",
        )


def make_cabinet(
    db: Database,
    bus: SerialLockBus,
    cab: CabinetConfig,
    clock: Clock,
    *,
    pickup: PickupConfig | None = None,
    platform: object | None = None,
) -> Cabinet:
    return Cabinet(
        db,
        {CAB_ID: bus},
        [cab],
        pickup or PickupConfig(),
        clock,
        SECRET,
        KIOSK_ID,
        platform=platform,
        close_poll_interval_s=0.02,
    )  # type: ignore[arg-type]


def parcel(db: Database, pid: int) -> Parcel:
    with db.transaction() as s:
        p = s.get(Parcel, pid)
        assert p is not None
        return p


def comp_state(db: Database, label: str) -> str:
    with db.transaction() as s:
        return s.execute(select(Compartment.state).where(Compartment.label == label)).scalar_one()


def outbox_events(db: Database) -> list[tuple[str, str | None, int | None]]:
    """(operation, event, parcel id) per outbox row."""
    with db.transaction() as s:
        rows = s.execute(select(OutboxMessage).order_by(OutboxMessage.id)).scalars().all()
        return [(m.operation, m.payload.get("event"), m.ref_id) for m in rows]


def assert_consistent(db: Database) -> None:
    """The cabinet's invariants: nothing lost, nothing doubly assigned, nothing left half-done."""
    with db.transaction() as s:
        assert s.execute(select(Flow).where(Flow.finished_at.is_(None))).first() is None, (
            "an unfinished flow is left"
        )
        live = s.execute(select(Parcel).where(Parcel.state.in_(S.LIVE))).scalars().all()
        per_comp = Counter(p.compartment_id for p in live)
        assert all(n == 1 for n in per_comp.values()), f"doubly assigned: {per_comp}"
        comps = {c.id: c for c in s.execute(select(Compartment)).scalars()}
        for p in live:
            assert p.compartment_id is not None, f"parcel {p.id} is live but in no compartment"
            state = comps[p.compartment_id].state
            assert state != S.FREE, (
                f"parcel {p.id} ({p.state}) sits in free compartment {comps[p.compartment_id].label}"
            )
            assert p.state in (S.READY, S.DROPPED_OFF, S.ATTENTION), (
                f"parcel {p.id} left in transient state {p.state}"
            )
            if p.state == S.ATTENTION:
                open_tasks = s.execute(
                    select(StaffTask).where(StaffTask.parcel_id == p.id, StaffTask.resolved_at.is_(None))
                ).first()
                assert open_tasks is not None, f"parcel {p.id} needs attention but has no open task"
        for c in comps.values():
            if c.state in (S.RESERVED, S.OCCUPIED):
                assert per_comp.get(c.id) == 1, f"{c.label} is {c.state} with no live parcel"
        events = Counter(
            (m.operation, m.payload.get("event"), m.ref_id)
            for m in s.execute(select(OutboxMessage)).scalars()
        )
        assert all(n == 1 for n in events.values()), f"an outbox message was written twice: {events}"
