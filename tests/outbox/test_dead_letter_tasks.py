"""Dead letters that leave a person waiting become staff tasks, against the real simulator through the real client."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from backend_client.sim import PlatformSim
from backend_client.sim.backoffice import DEMO_APPLICANT_2
from kiosk import audit, outbox
from kiosk.applications import ApplicationService
from kiosk.cabinet import Cabinet
from kiosk.cabinet.store import notify_pickup_ready, report_delivery
from kiosk.catalog import CatalogService
from kiosk.config import PickupConfig, PlatformConfig
from kiosk.evaluations import EvaluationService
from kiosk.outbox_sender import OutboxSender
from kiosk.outbox_tasks import TASK_APPLICATION_NOT_FILED, TASK_DELIVERY_NOT_REPORTED, TASK_SMS_NOT_SENT
from kiosk.storage.db import Database
from kiosk.storage.models import Compartment, OutboxMessage, Parcel, StaffTask

from .helpers import SENIOR

CODE = "482913"  # the pickup code in the SMS: must never reach a task
PERSONAL = (
    SENIOR.id_number,
    SENIOR.name,
    SENIOR.phone,
    CODE,
    DEMO_APPLICANT_2.id_number,
    DEMO_APPLICANT_2.name,
)


def _parcel_with_sms(db: Database, now: dt.datetime, secret: bytes, case_number: str) -> tuple[int, int]:
    """A result in compartment A07 whose PICKUP_READY SMS is queued, as a deposit leaves it; (parcel id, message id)."""
    with db.transaction() as s:
        comp = Compartment(
            cabinet_id="CAB-01", label="A07", size="M", board=0, channel=7, state="occupied", updated_at=now
        )
        s.add(comp)
        s.flush()
        parcel = Parcel(
            kind="result",
            state="ready",
            case_number=case_number,
            compartment_id=comp.id,
            owner_id_hash="ab" * 32,
            owner_id_masked="110105********1232",
            owner_name_masked="张*",
            created_at=now,
            stored_at=now,
            expires_at=now + dt.timedelta(days=7),
        )
        s.add(parcel)
        s.flush()
        notify_pickup_ready(s, now, secret, parcel, comp, CODE, dt.UTC)
        (msg,) = outbox.by_ref(s, "parcel", [parcel.id])
        return parcel.id, msg.id


def _tasks(db: Database) -> list[StaffTask]:
    with db.transaction() as s:
        return list(s.execute(select(StaffTask).order_by(StaffTask.id)).scalars())


def _no_personal_data(text: str) -> None:
    for secret_text in PERSONAL:
        if secret_text:
            assert secret_text not in text, f"{secret_text!r} leaked into {text!r}"


def test_dead_pickup_sms_raises_one_staff_task_without_personal_data(
    db: Database, secret: bytes, sim: PlatformSim, sender: OutboxSender, real_clock
) -> None:
    # A case number the platform does not know: UNKNOWN_CASE is final, the SMS goes dead at once.
    pid, mid = _parcel_with_sms(db, real_clock.now(), secret, "ZW20260000000099")
    assert sender.run_once().dead == 1
    (task,) = _tasks(db)
    assert task.kind == TASK_SMS_NOT_SENT and task.resolved_at is None
    assert task.parcel_id == pid and task.compartment_id is not None
    assert "ZW20260000000099" in task.detail and "A07" in task.detail and "UNKNOWN_CASE" in task.detail
    assert "platform desk" in task.detail and "hand it over at the desk" in task.detail
    assert task.detail.endswith(f"[outbox {mid}]")
    assert "kiosk outbox retry" not in task.detail  # a refusal is final: retrying would get the same answer
    _no_personal_data(task.detail)
    # The existing staff task list (staff screen, `kiosk cabinet tasks`) shows it, with the compartment's label.
    (view,) = Cabinet(db, {}, [], PickupConfig(), real_clock, secret, "TEST").tasks()
    assert (view.id, view.kind, view.label, view.parcel_id) == (task.id, TASK_SMS_NOT_SENT, "A07", pid)
    with db.transaction() as s:
        raised, dead = audit.tail(s, 2)
        assert (raised.action, raised.subject, raised.detail["outbox"]) == (
            "outbox.task_raised",
            f"task {task.id}",
            mid,
        )
        assert (dead.action, dead.detail["task"]) == ("outbox.dead", task.id)
        _no_personal_data(str(raised.detail) + str(dead.detail))


def test_retry_that_gets_through_closes_the_task(
    db: Database, secret: bytes, sim: PlatformSim, sender: OutboxSender, real_clock
) -> None:
    case = sim.backoffice.create_case(SENIOR, "GA-HUKOU-CERT", status="APPROVED").number
    _pid, mid = _parcel_with_sms(db, real_clock.now(), secret, case)
    sim.faults.platform_fault(
        "UNKNOWN_CASE", operation="NotifyApplicant"
    )  # the platform's records lagged behind
    assert sender.run_once().dead == 1
    with db.transaction() as s:
        outbox.retry(s, real_clock.now(), mid, actor="staff:0001")
    assert sender.run_once().sent == 1
    (task,) = _tasks(db)
    assert task.resolved_at is not None and task.resolved_by == "outbox"
    assert "Delivered on retry" in task.detail
    assert [m.params["code"] for m in sim.backoffice.sms] == [CODE]  # the code went where it belongs, once
    assert Cabinet(db, {}, [], PickupConfig(), real_clock, secret, "TEST").tasks() == []  # no longer open
    with db.transaction() as s:
        assert audit.tail(s, 1)[0].action == "outbox.task_resolved"


def test_giving_up_suggests_a_retry_and_a_second_death_updates_the_same_task(
    db: Database, secret: bytes, sim: PlatformSim, client, real_clock
) -> None:
    cfg = PlatformConfig(
        timeout_s=2,
        connect_timeout_s=1,
        outbox_backoff_initial_s=0.01,
        outbox_backoff_max_s=0.01,
        outbox_max_attempts=1,
    )
    sender = OutboxSender(db, client, secret, real_clock, cfg)
    case = sim.backoffice.create_case(SENIOR, "GA-HUKOU-CERT", status="APPROVED").number
    _pid, mid = _parcel_with_sms(db, real_clock.now(), secret, case)
    sim.faults.http500(times=2)
    assert sender.run_once().dead == 1
    (task,) = _tasks(db)
    assert "gave up after 1 attempts" in task.detail and f"kiosk outbox retry {mid}" in task.detail
    with db.transaction() as s:
        outbox.retry(s, real_clock.now(), mid, actor="staff:0001")
    sender.resume()
    assert sender.run_once().dead == 1
    (again,) = _tasks(db)  # one task, not two
    assert again.id == task.id and again.resolved_at is None
    _no_personal_data(again.detail)


def test_sms_the_platform_could_not_send_is_a_task(
    db: Database, secret: bytes, sim: PlatformSim, sender: OutboxSender, real_clock
) -> None:
    case = sim.backoffice.create_case(DEMO_APPLICANT_2, "GA-HUKOU-CERT", status="APPROVED").number  # no phone
    _parcel_with_sms(db, real_clock.now(), secret, case)
    assert sender.run_once().sent == 1
    (task,) = _tasks(db)
    assert task.kind == TASK_SMS_NOT_SENT and "accepted=false" in task.detail and case in task.detail
    _no_personal_data(task.detail)


def test_no_task_when_the_parcel_was_collected_meanwhile(
    db: Database, secret: bytes, sim: PlatformSim, sender: OutboxSender, real_clock
) -> None:
    pid, mid = _parcel_with_sms(db, real_clock.now(), secret, "ZW20260000000099")
    with db.transaction() as s:
        s.get(
            Parcel, pid
        ).finished_at = real_clock.now()  # picked up with the ID card before the SMS was tried
    # Its code died with the pickup: the sender cancels the SMS instead of sending it, so it never dies either.
    assert sender.run_once().attempted == 0
    assert _tasks(db) == [] and sim.backoffice.sms == []
    with db.transaction() as s:
        msg = s.get(OutboxMessage, mid)
        assert msg.state == outbox.CANCELLED and msg.payload == outbox.SCRUBBED and "dead" in msg.last_error
        assert audit.tail(s, 1)[0].action == "outbox.cancelled"


def test_queued_application_refused_later_names_the_receipt(
    db: Database, secret: bytes, sim: PlatformSim, sender: OutboxSender, catalog: CatalogService
) -> None:
    apps = ApplicationService(db, secret, sender.clock, catalog, sender)
    receipt = apps.submit(SENIOR, "MZ-ELDER-CARD", {"phone": "13800138000"}, "LOCKER", send_now=False)
    assert receipt.state == "queued"  # the citizen left with this receipt
    # A platform message that echoes the values back: neither reaches the task.
    sim.faults.platform_fault(
        "INVALID_FIELD",
        field="phone",
        operation="SubmitApplication",
        message=f"手机号 {SENIOR.phone} 与身份证 {SENIOR.id_number} 不符",
    )
    assert sender.run_once().dead == 1
    (task,) = _tasks(db)
    assert task.kind == TASK_APPLICATION_NOT_FILED
    assert (
        receipt.receipt_number in task.detail and "counter" in task.detail and "INVALID_FIELD" in task.detail
    )
    assert "手机号 *********** 与身份证 110105********1232" in task.detail
    _no_personal_data(task.detail)


def test_refusal_on_the_fast_path_is_the_citizens_not_a_task(
    db: Database, secret: bytes, sim: PlatformSim, sender: OutboxSender, catalog: CatalogService
) -> None:
    apps = ApplicationService(db, secret, sender.clock, catalog, sender)
    apps.check("MZ-ELDER-CARD", {"phone": "13800138000"}, "LOCKER")  # the catalog is cached
    sim.faults.platform_fault("CONFLICT", operation="SubmitApplication")
    with pytest.raises(Exception, match="CONFLICT"):
        apps.submit(SENIOR, "MZ-ELDER-CARD", {"phone": "13800138000"}, "LOCKER")
    with db.transaction() as s:
        assert s.execute(select(OutboxMessage.state)).scalar_one() == "dead"
    assert _tasks(db) == []  # the screen told the citizen; no receipt promises anything


def test_dead_delivery_report_is_a_task(
    db: Database, secret: bytes, sim: PlatformSim, sender: OutboxSender, real_clock
) -> None:
    pid, _mid = _parcel_with_sms(db, real_clock.now(), secret, "ZW20260000000042")
    with db.transaction() as s:
        parcel = s.get(Parcel, pid)
        report_delivery(s, real_clock.now(), parcel, "PICKED_UP", s.get(Compartment, parcel.compartment_id))
        parcel.finished_at = (
            real_clock.now()
        )  # picked up: the SMS is moot (cancelled, not sent), the report is not
    assert sender.run_once().dead == 1
    (task,) = _tasks(db)
    assert task.kind == TASK_DELIVERY_NOT_REPORTED and "ZW20260000000042" in task.detail
    assert "picked up" in task.detail and "A07" in task.detail and "desk system" in task.detail


@pytest.mark.parametrize(("rating", "tasks"), [(1, 1), (5, 0)])
def test_only_a_lost_low_rating_is_a_task(
    db: Database, secret: bytes, sim: PlatformSim, sender: OutboxSender, rating: int, tasks: int
) -> None:
    ev = EvaluationService(db, secret, sender.clock, sender)
    ev.submit(
        rating,
        case_number="ZW20260000000099",
        reasons=["too_slow"] if rating <= 2 else [],
        comment="请联系我 13800138000",
    )  # a comment is sealed and never copied into a task
    assert sender.run_once().dead == 1  # UNKNOWN_CASE
    found = _tasks(db)
    assert len(found) == tasks
    for t in found:
        assert "1-star" in t.detail and "ZW20260000000099" in t.detail and "办理时间过长" in t.detail
        assert "13800138000" not in t.detail and "请联系我" not in t.detail
