"""A result that leaves the cabinet takes its pickup SMS with it: a text not sent yet never goes out with a dead code,
and an "SMS not sent" task closes. Real parts throughout: the SerialLockBus and the shipped lock-board simulator on a
pty, the production PlatformClient and OutboxSender against the platform simulator over HTTP.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from backend_client.client import PlatformClient
from backend_client.sim import PlatformSim
from drivers.lockboard import SerialLockBus
from drivers.lockboard.sim import SimLockBoard
from kiosk import outbox
from kiosk.audit import verify
from kiosk.cabinet import Cabinet
from kiosk.cabinet import states as S
from kiosk.clock import FakeClock
from kiosk.config import CabinetConfig, PlatformConfig
from kiosk.errors import WrongPickupCode
from kiosk.outbox_sender import OutboxSender
from kiosk.outbox_tasks import TASK_SMS_NOT_SENT
from kiosk.platform_models import Applicant
from kiosk.storage.db import Database
from kiosk.storage.models import AuditRecord, OutboxMessage, Parcel, StaffTask
from tests.cabinet.cabinet_support import (
    assert_consistent,
    cab_config,
    id_number,
    make_bus,
    make_cabinet,
    make_sim,
    person,
)

USER, PASSWORD, KIOSK = "kiosk-test", "test-password-not-a-secret", "TEST-KIOSK-01"
OWNER = Applicant("RESIDENT_ID", id_number(1), "张三丰", "13800138000")  # cabinet_support's person(1)
PCFG = PlatformConfig(
    timeout_s=3, connect_timeout_s=1, outbox_backoff_initial_s=0.05, outbox_backoff_max_s=0.4
)


@pytest.fixture
def psim() -> Iterator[PlatformSim]:
    s = PlatformSim(users={USER: (PASSWORD, [KIOSK])}, seed_demo=False).start()
    yield s
    s.stop()


@pytest.fixture
def client(psim: PlatformSim) -> Iterator[PlatformClient]:
    c = PlatformClient(
        psim.url, USER, PASSWORD, KIOSK, timeout_s=PCFG.timeout_s, connect_timeout_s=PCFG.connect_timeout_s
    )
    yield c
    c.close()


@pytest.fixture
def cab(
    db: Database, bus: SerialLockBus, cab_cfg: CabinetConfig, clock: FakeClock, client: PlatformClient
) -> Cabinet:
    c = make_cabinet(db, bus, cab_cfg, clock, platform=client)
    c.start()
    return c


def _sender(db: Database, platform: Any, clock: FakeClock) -> OutboxSender:
    from tests.cabinet.cabinet_support import SECRET

    return OutboxSender(db, platform, SECRET, clock, PCFG)


def _drain(sender: OutboxSender, clock: FakeClock) -> None:
    """Let every backoff run out (fake time), then send what is due."""
    clock.advance(60)
    sender.resume()
    sender.run_once()


def _deposit(cab: Cabinet, sim: SimLockBoard, psim: PlatformSim) -> tuple[int, str, int]:
    """A finished LOCKER case put in the cabinet by staff; (parcel id, pickup code, channel)."""
    number = psim.backoffice.create_case(OWNER, "GA-HUKOU-CERT", status="APPROVED").number
    h = cab.start_deposit(number, actor="staff:7", size="S")  # the owner comes from GetDeliveryTicket
    ch = int(h.label[1:])
    sim.put_item(0, ch)
    sim.close_door(0, ch)
    r = cab.wait_closed(h)
    assert r.outcome == "deposited" and r.code
    return r.parcel_id, r.code, ch


def _sms_row(db: Database, pid: int) -> OutboxMessage:
    with db.transaction() as s:
        return s.execute(
            select(OutboxMessage).where(
                OutboxMessage.operation == "NotifyApplicant", OutboxMessage.ref_id == pid
            )
        ).scalar_one()


def _leave(cab: Cabinet, sim: SimLockBoard, pid: int, ch: int, how: str) -> str:
    """The result leaves the cabinet: staff take it back, or its owner picks it up with their ID card."""
    if how == "taken_back":
        h = cab.start_collect(pid, actor="staff:1", reason="wrong case")
    else:
        h = cab.start_pickup_by_identity(person(1))
    sim.take_item(0, ch)
    sim.close_door(0, ch)
    r = cab.wait_closed(h)
    return r.outcome


def _audit(db: Database, action: str) -> list[AuditRecord]:
    with db.transaction() as s:
        return list(
            s.execute(
                select(AuditRecord).where(AuditRecord.action == action).order_by(AuditRecord.seq)
            ).scalars()
        )


@pytest.mark.parametrize(
    ("how", "outcome", "event"),
    [("taken_back", S.RETURNED, "RETURNED_TO_CENTRE"), ("picked_up", "picked_up", "PICKED_UP")],
)
def test_sms_queued_when_the_result_leaves_is_never_sent(
    how: str,
    outcome: str,
    event: str,
    db: Database,
    cab: Cabinet,
    sim: SimLockBoard,
    psim: PlatformSim,
    client: PlatformClient,
    clock: FakeClock,
) -> None:
    pid, code, ch = _deposit(cab, sim, psim)
    sender = _sender(db, client, clock)
    psim.faults.http500(
        times=None, operation="NotifyApplicant"
    )  # the SMS gateway is down: the report goes, the SMS not
    counts = sender.run_once()
    assert (counts.sent, counts.retried) == (1, 1)
    row = _sms_row(db, pid)
    assert (
        row.state == outbox.PENDING and row.attempts == 1 and row.last_error
    )  # waiting for its next attempt
    assert _leave(cab, sim, pid, ch, how) == outcome
    row = _sms_row(db, pid)
    assert row.state == outbox.CANCELLED and row.payload == outbox.SCRUBBED  # the sealed code is gone too
    assert f"parcel {pid}" in (row.last_error or "")
    [rec] = _audit(db, "outbox.cancelled")
    assert rec.subject == f"outbox:{row.id}" and rec.detail["ref"] == f"parcel:{pid}"
    assert code not in str(rec.detail)
    psim.faults.clear()  # the platform is back
    _drain(sender, clock)
    _drain(sender, clock)
    assert psim.backoffice.sms == []  # no text with a dead code reached the applicant
    assert [d.event for d in psim.backoffice.deliveries] == ["DEPOSITED", event]
    assert _sms_row(db, pid).state == outbox.CANCELLED
    with db.transaction() as s:
        assert s.get(Parcel, pid).code_hmac is None
    with pytest.raises(WrongPickupCode):
        cab.start_pickup_by_code(code)  # the code is dead
    with db.transaction() as s, pytest.raises(ValueError, match="cancelled"):  # nor can staff send it by hand
        outbox.retry(s, clock.now(), row.id, actor="staff:1")
    with db.transaction() as s:
        assert verify(s).ok
    assert_consistent(db)


class _Gate:
    """The production client with a door in front of NotifyApplicant: the test holds the call on the wire."""

    def __init__(self, client: PlatformClient) -> None:
        self.client = client
        self.entered = threading.Event()
        self.release = threading.Event()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)

    def notify_applicant(self, *args: Any, **kwargs: Any) -> Any:
        self.entered.set()
        assert self.release.wait(10)
        return self.client.notify_applicant(*args, **kwargs)


def test_sms_on_the_wire_is_left_alone_then_cancelled_before_its_retry(
    db: Database, cab: Cabinet, sim: SimLockBoard, psim: PlatformSim, client: PlatformClient, clock: FakeClock
) -> None:
    pid, _code, ch = _deposit(cab, sim, psim)
    gate = _Gate(client)
    sender = _sender(db, gate, clock)
    psim.faults.http500(times=1, operation="NotifyApplicant")  # this attempt will fail once it is let through
    worker = threading.Thread(target=sender.run_once)
    worker.start()
    try:
        assert gate.entered.wait(10), "the sender never reached NotifyApplicant"
        # Taken back while the sender is sending the SMS: cancelling it now could not stop the call.
        assert _leave(cab, sim, pid, ch, "taken_back") == S.RETURNED
        with db.transaction() as s:
            row = s.execute(
                select(OutboxMessage).where(
                    OutboxMessage.ref_id == pid, OutboxMessage.operation == "NotifyApplicant"
                )
            ).scalar_one()
            assert row.state == outbox.PENDING and outbox.in_flight(row, clock.now())
        assert _audit(db, "outbox.cancelled") == []
    finally:
        gate.release.set()
        worker.join(15)
    row = _sms_row(db, pid)
    assert (
        row.state == outbox.PENDING and row.last_error and not outbox.in_flight(row, clock.now())
    )  # failed: retry
    _drain(
        sender, clock
    )  # its retry falls due: the sender sees the parcel has gone and cancels instead of sending
    row = _sms_row(db, pid)
    assert (
        row.state == outbox.CANCELLED and row.payload == outbox.SCRUBBED and "dead" in (row.last_error or "")
    )
    [rec] = _audit(db, "outbox.cancelled")
    assert rec.actor == "outbox" and rec.subject == f"outbox:{row.id}"
    assert psim.backoffice.sms == []
    assert [d.event for d in psim.backoffice.deliveries] == ["DEPOSITED", "RETURNED_TO_CENTRE"]


def test_sms_on_the_wire_that_gets_through_is_recorded_sent(
    db: Database, cab: Cabinet, sim: SimLockBoard, psim: PlatformSim, client: PlatformClient, clock: FakeClock
) -> None:
    """What the platform did is kept: a call that went through while the parcel was taken back stays "sent"."""
    pid, _code, ch = _deposit(cab, sim, psim)
    gate = _Gate(client)
    sender = _sender(db, gate, clock)
    worker = threading.Thread(target=sender.run_once)
    worker.start()
    try:
        assert gate.entered.wait(10)
        assert _leave(cab, sim, pid, ch, "taken_back") == S.RETURNED
    finally:
        gate.release.set()
        worker.join(15)
    row = _sms_row(db, pid)
    assert row.state == outbox.SENT and row.result and row.result.get("accepted") is True
    assert len(psim.backoffice.sms) == 1 and _audit(db, "outbox.cancelled") == []


def test_sms_not_sent_task_closes_when_the_owner_picks_up_with_their_card(
    db: Database, cab: Cabinet, sim: SimLockBoard, psim: PlatformSim, client: PlatformClient, clock: FakeClock
) -> None:
    pid, _code, ch = _deposit(cab, sim, psim)
    psim.faults.platform_fault("UNKNOWN_CASE", operation="NotifyApplicant")  # refused: dead at once
    sender = _sender(db, client, clock)
    assert sender.run_once().dead == 1
    [task] = cab.tasks()
    assert task.kind == TASK_SMS_NOT_SENT and task.parcel_id == pid
    # The applicant comes anyway (the desk phoned them) and picks up with the ID card.
    assert _leave(cab, sim, pid, ch, "picked_up") == "picked_up"
    assert cab.tasks() == []
    with db.transaction() as s:
        t = s.get(StaffTask, task.id)
        assert t.resolved_at is not None and t.resolved_by == "kiosk"
        assert t.detail.endswith(f"[parcel {pid} was picked up (via identity): nothing left to do]")
    [rec] = [r for r in _audit(db, "cabinet.task_resolved") if r.subject == f"task {task.id}"]
    assert rec.detail["kind"] == TASK_SMS_NOT_SENT and rec.detail["parcel"] == pid
    assert_consistent(db)


def test_collect_notes_why_it_closed_the_parcels_tasks(
    db: Database, cab: Cabinet, sim: SimLockBoard, psim: PlatformSim, client: PlatformClient, clock: FakeClock
) -> None:
    pid, _code, ch = _deposit(cab, sim, psim)
    psim.faults.platform_fault("UNKNOWN_CASE", operation="NotifyApplicant")
    assert _sender(db, client, clock).run_once().dead == 1
    [task] = cab.tasks()
    assert _leave(cab, sim, pid, ch, "taken_back") == S.RETURNED  # what the task told staff to do
    assert cab.tasks() == []
    with db.transaction() as s:
        t = s.get(StaffTask, task.id)
        assert t.resolved_by == "staff:1" and t.detail.endswith(f"[parcel {pid} taken out by staff:1]")


def test_no_item_sensor_cabinet_still_cancels_the_sms(
    db: Database, clock: FakeClock, psim: PlatformSim, client: PlatformClient
) -> None:
    """Cancelling follows the parcel leaving, not the sensor: a result taken back is taken back."""
    cfg = cab_config(item_sensors=False)
    sim, path = make_sim(cfg)
    bus = make_bus(cfg, path)
    try:
        cab = make_cabinet(db, bus, cfg, clock, platform=client)
        cab.start()
        pid, _code, ch = _deposit(cab, sim, psim)
        assert _leave(cab, sim, pid, ch, "taken_back") == S.RETURNED
        assert _sms_row(db, pid).state == outbox.CANCELLED
        _drain(_sender(db, client, clock), clock)
        assert psim.backoffice.sms == []
    finally:
        bus.close()
        sim.stop()
