"""Every outcome path of the sender, against the real simulator through the production client."""

from __future__ import annotations

import datetime as dt
import json
import time

import pytest
from sqlalchemy import select

from backend_client.sim import PlatformSim
from kiosk import audit, outbox
from kiosk.applications import ApplicationService
from kiosk.catalog import CatalogService
from kiosk.clock import FakeClock
from kiosk.config import PlatformConfig
from kiosk.errors import PlatformRejected, ValidationError
from kiosk.evaluations import EvaluationService
from kiosk.heartbeat import AUTH_ALARM_KEY, HeartbeatService, auth_alarm
from kiosk.outbox_sender import OutboxSender
from kiosk.sealing import seal
from kiosk.storage.db import Database
from kiosk.storage.models import DeviceEvent, KeyValue, OutboxMessage, Submission

from .helpers import SENIOR, YOUNG

ELDER = "MZ-ELDER-CARD"


def _apps(
    db: Database, secret: bytes, catalog: CatalogService, sender: OutboxSender | None
) -> ApplicationService:
    return ApplicationService(db, secret, sender.clock if sender else catalog.clock, catalog, sender)


def _row(db: Database, mid: int) -> OutboxMessage:
    with db.transaction() as s:
        return s.get(OutboxMessage, mid)


def _submission(db: Database, sid: int) -> Submission:
    with db.transaction() as s:
        return s.get(Submission, sid)


def _enqueue_app(db: Database, clock, secret: bytes, applicant=SENIOR) -> int:
    payload = {
        "applicant": {
            "id_type": applicant.id_type,
            "id_number": applicant.id_number,
            "name": applicant.name,
            "phone": applicant.phone,
        },
        "matter_code": ELDER,
        "fields": {"phone": "13800138000"},
        "delivery_mode": "LOCKER",
    }
    with db.transaction() as s:
        return outbox.enqueue(s, clock.now(), "SubmitApplication", payload, secret=secret, sensitive=True).id


def test_fast_path_files_at_once_and_scrubs(
    db: Database, secret: bytes, sim: PlatformSim, sender: OutboxSender, catalog: CatalogService
) -> None:
    r = _apps(db, secret, catalog, sender).submit(
        SENIOR, ELDER, {"phone": "13800138000", "address": ""}, "LOCKER"
    )
    assert r.state == "filed" and r.case_number and r.case_number.startswith("ZW")
    assert r.applicant_id_masked == "110105********1232" and r.applicant_name_masked == "张*"
    # 5 working days (interface 1.1: promised dates skip weekends), counted from today in China
    day, left = dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).date(), 5
    while left:
        day += dt.timedelta(days=1)
        left -= day.weekday() < 5
    assert r.promised_date == day.isoformat()
    case = sim.backoffice.case(r.case_number)
    assert case.applicant.id_number == SENIOR.id_number and case.fields == {"phone": "13800138000"}
    with db.transaction() as s:
        (msg,) = outbox.by_ref(s, "submission", [r.submission_id])
        assert msg.state == "sent" and msg.payload == outbox.SCRUBBED  # the sealed ID number is gone
        assert msg.result["case_number"] == r.case_number
        sub = s.get(Submission, r.submission_id)
        assert sub.state == "filed" and sub.filed_at is not None and sub.case_number == r.case_number
        raw = json.dumps([msg.payload, msg.result, sub.applicant_id_masked], ensure_ascii=False)
        assert SENIOR.id_number not in raw and SENIOR.name not in raw
        assert [a.action for a in audit.tail(s, 5)] == ["application.queued"]
    assert sim.count("SubmitApplication") == 1


def test_refused_case_is_recorded(
    db: Database, secret: bytes, sender: OutboxSender, catalog: CatalogService
) -> None:
    # (An under-60 applicant for the senior card is now stopped before filing: tests/services/test_filing.py.)
    r = _apps(db, secret, catalog, sender).submit(
        YOUNG, "RS-SSC-REISSUE", {"reason": "信息变更", "phone": "13900139000"}, "WINDOW"
    )
    assert r.state == "refused" and r.case_number and "窗口" in (r.message or "")


def test_unavailable_backs_off_with_the_same_request_id(
    db: Database, secret: bytes, sim: PlatformSim, client, pcfg: PlatformConfig
) -> None:
    clock = FakeClock(dt.datetime.now(dt.UTC))
    sender = OutboxSender(db, client, secret, clock, pcfg)
    mid = _enqueue_app(db, clock, secret)
    sim.faults.http500(times=1)
    sim.faults.reset(times=1)
    sim.faults.garbage(times=1)
    delays = []
    for _ in range(3):
        counts = sender.run_once()
        assert (counts.retried, counts.sent) == (1, 0)
        row = _row(db, mid)
        delays.append((row.next_attempt_at - clock.now()).total_seconds())
        assert sender.run_once().attempted == 0  # paused: nothing is tried before the backoff ends
        clock.advance(1)
    assert sender.run_once().sent == 1
    row = _row(db, mid)
    assert (row.state, row.attempts) == ("sent", 4)
    # Exponential with 50-100 % jitter: 0.05, 0.1, 0.2 nominal.
    for d, full in zip(delays, (0.05, 0.1, 0.2), strict=True):
        assert full / 2 <= d <= full
    ids = {r.request_id for r in sim.requests() if r.operation == "SubmitApplication"}
    assert ids == {row.request_id} and sim.count("SubmitApplication") == 4
    assert sim.backoffice.count_cases() == 1
    with db.transaction() as s:
        events = (
            s.execute(
                select(DeviceEvent.state).where(DeviceEvent.device == "platform").order_by(DeviceEvent.id)
            )
            .scalars()
            .all()
        )
    assert events == ["FAULT", "OK"]  # logged once down, once back, not per attempt


@pytest.mark.parametrize("code", ["MAINTENANCE", "RATE_LIMITED"])
def test_retry_after_is_honoured(
    db: Database, secret: bytes, sim: PlatformSim, client, pcfg, code: str
) -> None:
    clock = FakeClock(dt.datetime.now(dt.UTC))
    sender = OutboxSender(db, client, secret, clock, pcfg)
    mid = _enqueue_app(db, clock, secret)
    _enqueue_app(db, clock, secret)
    sim.faults.platform_fault(code, retry_after_s=120)
    counts = sender.run_once()
    assert (counts.retried, counts.sent) == (1, 0)  # stopped at the first: the platform said wait
    assert _row(db, mid).next_attempt_at >= clock.now() + dt.timedelta(seconds=120)
    assert sender.paused_for_s() >= 120
    clock.advance(100)
    assert sender.run_once().attempted == 0 and sim.count("SubmitApplication") == 1
    clock.advance(30)
    assert sender.run_once().sent == 2
    assert sim.backoffice.count_cases() == 2


def test_rejected_goes_dead_visible_to_staff(
    db: Database, secret: bytes, sim: PlatformSim, sender: OutboxSender, real_clock
) -> None:
    with db.transaction() as s:
        mid = outbox.enqueue(
            s,
            real_clock.now(),
            "ReportDelivery",
            {
                "case_number": "ZW20260000000099",
                "event": "DEPOSITED",
                "cabinet_id": "CAB-01",
                "compartment": "A01",
                "occurred_at": real_clock.now().isoformat(),
            },
        ).id
    counts = sender.run_once()
    assert (counts.dead, counts.retried) == (1, 0)
    row = _row(db, mid)
    assert row.state == "dead" and row.last_error.startswith("UNKNOWN_CASE")
    assert sender.run_once().attempted == 0  # never retried by itself
    with db.transaction() as s:
        assert [m.id for m in outbox.list_messages(s)] == [mid]
        rec = audit.tail(s, 1)[0]
        assert (rec.action, rec.subject) == ("outbox.dead", f"outbox:{mid}")


def test_fast_path_invalid_field_reports_the_field(
    db: Database, secret: bytes, sim: PlatformSim, sender: OutboxSender, catalog: CatalogService
) -> None:
    apps = _apps(db, secret, catalog, sender)
    apps.check(ELDER, {"phone": "13800138000"}, "LOCKER")  # the catalog is cached now
    sim.faults.platform_fault(
        "INVALID_FIELD", field="address", message="地址不在本区", operation="SubmitApplication"
    )
    with pytest.raises(ValidationError) as err:
        apps.submit(SENIOR, ELDER, {"phone": "13800138000", "address": "外省某地"}, "LOCKER")
    assert err.value.field == "address" and "地址" in err.value.message
    with db.transaction() as s:
        sub = s.execute(select(Submission)).scalar_one()
        assert sub.state == "failed" and "INVALID_FIELD" in sub.message
        (msg,) = outbox.by_ref(s, "submission", [sub.id])
        assert msg.state == "dead"


def test_unknown_matter_refreshes_the_catalog(
    db: Database, secret: bytes, sim: PlatformSim, sender: OutboxSender, catalog: CatalogService
) -> None:
    apps = _apps(db, secret, catalog, sender)
    old = catalog.current()
    assert old is not None and any(m.code == ELDER for m in old.matters)
    new_version = sim.backoffice.withdraw_matter(ELDER)
    with pytest.raises(PlatformRejected) as err:
        apps.submit(SENIOR, ELDER, {"phone": "13800138000"}, "LOCKER")
    assert err.value.code == "UNKNOWN_MATTER"
    assert catalog.cached().version == new_version
    with pytest.raises(ValidationError) as verr:
        catalog.matter(ELDER)
    assert verr.value.field == "matter_code"


def test_conflict_is_dead_not_retried(
    db: Database, secret: bytes, sim: PlatformSim, sender: OutboxSender, real_clock, caplog
) -> None:
    mid = _enqueue_app(db, real_clock, secret)
    assert sender.run_once().sent == 1
    with db.transaction() as s:  # simulate the bug: the same requestId sent again with another body
        msg = s.get(OutboxMessage, mid)
        body = {
            "applicant": {"id_type": "RESIDENT_ID", "id_number": YOUNG.id_number, "name": YOUNG.name},
            "matter_code": ELDER,
            "fields": {"phone": "13900139000"},
            "delivery_mode": "WINDOW",
        }
        msg.payload = {"sealed": seal(secret, body)}
        msg.state, msg.next_attempt_at = "pending", real_clock.now()
    other = mid
    assert sender.run_once().dead == 1
    row = _row(db, other)
    assert row.state == "dead" and row.last_error.startswith("CONFLICT")
    assert any("CONFLICT" in r.getMessage() and r.levelname == "ERROR" for r in caplog.records)


def test_auth_failure_raises_alarm_and_stops_sending(
    db: Database, secret: bytes, sim: PlatformSim, make_client, pcfg: PlatformConfig, real_clock
) -> None:
    bad = OutboxSender(db, make_client(password="wrong"), secret, real_clock, pcfg)
    m1, m2 = _enqueue_app(db, real_clock, secret), _enqueue_app(db, real_clock, secret)
    counts = bad.run_once()
    assert counts.blocked and counts.attempted == 0
    with db.transaction() as s:
        alarm = auth_alarm(s)
        assert alarm is not None and "AUTH_FAILED" in alarm["detail"]
        assert s.get(KeyValue, AUTH_ALARM_KEY) is not None
        ev = s.execute(select(DeviceEvent).where(DeviceEvent.device == "platform.auth")).scalar_one()
        assert ev.state == "FAULT"
        assert audit.tail(s, 1)[0].action == "platform.auth_alarm"
    assert _row(db, m1).attempts == 0 and _row(db, m1).state == "pending"
    n = sim.count()
    good_client = make_client()
    good = OutboxSender(db, good_client, secret, real_clock, pcfg)
    assert good.run_once().blocked  # even a sender with good credentials waits for the alarm to clear
    assert sim.count() == n
    # A heartbeat that gets through (credentials fixed) clears the alarm and sending resumes.
    hb = HeartbeatService(db, good_client, real_clock, pcfg, on_alarm_cleared=good.resume)
    assert hb.beat_once().ok
    assert good.run_once().sent == 2
    assert {_row(db, m).state for m in (m1, m2)} == {"sent"}
    with db.transaction() as s:
        assert auth_alarm(s) is None
        assert audit.tail(s, 1)[0].action == "platform.auth_alarm_cleared"


def test_evaluation_goes_through_the_outbox(
    db: Database, secret: bytes, sim: PlatformSim, sender: OutboxSender, real_clock
) -> None:
    ev = EvaluationService(db, secret, real_clock, sender)
    q1 = ev.submit(1, matter_code=ELDER, reasons=["too_slow", "other"], comment="请联系我 13800138000")
    q2 = ev.submit(5, matter_code=ELDER)
    sealed = _row(db, q1.outbox_id)
    assert sealed.sensitive and "13800138000" not in json.dumps(sealed.payload)
    assert sender.run_once().sent == 2
    assert _row(db, q1.outbox_id).payload == outbox.SCRUBBED
    assert [e["rating"] for e in sim.backoffice.evaluations] == [1, 5]
    assert sim.backoffice.evaluations[0]["reasons"] == ["办理时间过长", "其他"]
    assert _row(db, q2.outbox_id).result["evaluation_id"].startswith("EV")


def test_background_worker_and_poke(
    db: Database, secret: bytes, sim: PlatformSim, sender: OutboxSender, real_clock
) -> None:
    sender.poll_interval_s = 60  # only a poke can wake it quickly
    sender.start()
    time.sleep(0.2)
    mid = _enqueue_app(db, real_clock, secret)
    sender.poke()
    deadline = time.monotonic() + 10
    while _row(db, mid).state != "sent" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _row(db, mid).state == "sent"
    sender.stop()
