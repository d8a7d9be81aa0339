"""The outbox table itself: enqueue/seal, staff listing, retry, backoff arithmetic, catalog JSON."""

from __future__ import annotations

import datetime as dt
import json
import random

import pytest

from kiosk import audit, outbox
from kiosk.catalog import catalog_from_json, catalog_to_json
from kiosk.clock import FakeClock
from kiosk.config import PlatformConfig
from kiosk.outbox_sender import OutboxSender
from kiosk.storage.db import Database
from kiosk.storage.models import OutboxMessage

from .helpers import SAMPLE_CATALOG


def test_sealed_payload_is_not_readable_at_rest(db: Database, clock: FakeClock, secret: bytes) -> None:
    with db.transaction() as s:
        msg = outbox.enqueue(
            s,
            clock.now(),
            "SubmitApplication",
            {"applicant": {"id_number": "110105195803121232", "name": "张三"}},
            secret=secret,
            sensitive=True,
        )
    with db.transaction() as s:
        row = s.get(OutboxMessage, msg.id)
        raw = json.dumps(row.payload, ensure_ascii=False)
        assert "110105195803121232" not in raw and "张三" not in raw
        assert outbox.payload_of(row, secret)["applicant"]["name"] == "张三"
        d = outbox.describe(row)
        assert d["sealed"] and "payload" not in d


def test_retry_dead_row_is_audited_and_due_now(db: Database, clock: FakeClock) -> None:
    with db.transaction() as s:
        msg = outbox.enqueue(s, clock.now(), "SubmitEvaluation", {"evaluation": {"rating": 5}})
        msg.state, msg.attempts, msg.last_error = "dead", 7, "UNKNOWN_MATTER: gone"
    clock.advance(3600)
    with db.transaction() as s:
        outbox.retry(s, clock.now(), msg.id, actor="staff:wang")
    with db.transaction() as s:
        row = s.get(OutboxMessage, msg.id)
        assert (row.state, row.attempts, row.next_attempt_at) == ("pending", 0, clock.now())
        assert row.request_id == msg.request_id  # a retry is the same logical request
        rec = audit.tail(s, 1)[0]
        assert (rec.action, rec.subject, rec.actor) == ("outbox.retry", f"outbox:{msg.id}", "staff:wang")
        assert outbox.next_due(s, None) == clock.now()
        assert [m.id for m in outbox.list_messages(s)] == [msg.id]


def test_retry_refuses_sent_and_missing(db: Database, clock: FakeClock) -> None:
    with db.transaction() as s:
        msg = outbox.enqueue(s, clock.now(), "SubmitEvaluation", {"evaluation": {"rating": 5}})
        msg.state = "sent"
    with db.transaction() as s, pytest.raises(ValueError):
        outbox.retry(s, clock.now(), msg.id, actor="staff")
    with db.transaction() as s, pytest.raises(LookupError):
        outbox.retry(s, clock.now(), 9999, actor="staff")
    with db.transaction() as s:
        assert outbox.list_messages(s) == []
        assert [m.id for m in outbox.list_messages(s, include_sent=True)] == [msg.id]
        assert outbox.counts(s) == {"sent": 1}


def test_backoff_is_exponential_jittered_and_capped() -> None:
    cfg = PlatformConfig(outbox_backoff_initial_s=2, outbox_backoff_max_s=60)
    sender = OutboxSender(None, None, b"k" * 32, FakeClock(), cfg, rng=random.Random(1))  # type: ignore[arg-type]
    for attempt, full in [(1, 2), (2, 4), (3, 8), (5, 32), (6, 60), (50, 60), (10_000, 60)]:
        for _ in range(20):
            d = sender.backoff_s(attempt)
            assert full / 2 <= d <= full, (attempt, d)


def test_catalog_json_round_trip() -> None:
    data = catalog_to_json(SAMPLE_CATALOG)
    assert catalog_from_json(json.loads(json.dumps(data))) == SAMPLE_CATALOG


def test_jsonable_results() -> None:
    from kiosk.platform_models import SubmitResult

    r = SubmitResult(
        "ZW20261125000001", "RECEIVED", dt.datetime(2026, 11, 25, 2, tzinfo=dt.UTC), dt.date(2026, 11, 30)
    )
    assert outbox.jsonable(r) == {
        "case_number": "ZW20261125000001",
        "status": "RECEIVED",
        "accepted_at": "2026-11-25T02:00:00+00:00",
        "promised_date": "2026-11-30",
        "message": None,
    }


def test_cancel_pending_takes_only_the_waiting_rows_it_names(
    db: Database, clock: FakeClock, secret: bytes
) -> None:
    sms = {"case_number": "ZW1", "template": "PICKUP_READY", "params": {"code": "482913"}}
    with db.transaction() as s:
        mine = outbox.enqueue(
            s, clock.now(), "NotifyApplicant", sms, secret=secret, sensitive=True, ref_kind="parcel", ref_id=7
        )
        other = outbox.enqueue(
            s, clock.now(), "NotifyApplicant", sms, secret=secret, sensitive=True, ref_kind="parcel", ref_id=8
        )
        report = outbox.enqueue(
            s, clock.now(), "ReportDelivery", {"event": "RETURNED_TO_CENTRE"}, ref_kind="parcel", ref_id=7
        )
        sent = outbox.enqueue(
            s, clock.now(), "NotifyApplicant", sms, secret=secret, sensitive=True, ref_kind="parcel", ref_id=7
        )
        sent.state = outbox.SENT
        leased = outbox.enqueue(
            s, clock.now(), "NotifyApplicant", sms, secret=secret, sensitive=True, ref_kind="parcel", ref_id=7
        )
        leased.result = outbox.lease_of(
            clock.now() + dt.timedelta(seconds=20)
        )  # as a sender's claim leaves it
        expired = outbox.enqueue(
            s, clock.now(), "NotifyApplicant", sms, secret=secret, sensitive=True, ref_kind="parcel", ref_id=7
        )
        expired.result = outbox.lease_of(clock.now() - dt.timedelta(seconds=1))  # its sender died mid-send
    with db.transaction() as s:
        done = outbox.cancel_pending(
            s, clock.now(), "parcel", 7, "NotifyApplicant", "parcel 7 was taken back", actor="kiosk"
        )
    assert done == [mine.id, expired.id]
    with db.transaction() as s:
        states = {m.id: m.state for m in s.query(OutboxMessage)}
        assert states == {
            mine.id: "cancelled",
            other.id: "pending",
            report.id: "pending",
            sent.id: "sent",
            leased.id: "pending",
            expired.id: "cancelled",
        }
        row = s.get(OutboxMessage, mine.id)
        assert row.payload == outbox.SCRUBBED and row.last_error == "cancelled: parcel 7 was taken back"
        assert outbox.describe(row)["last_error"] == "cancelled: parcel 7 was taken back"
        assert outbox.counts(s)["cancelled"] == 2
        # Staff listing what waits to be sent do not see them; with the delivered ones, they do.
        assert mine.id not in [m.id for m in outbox.list_messages(s)]
        assert mine.id in [m.id for m in outbox.list_messages(s, include_sent=True)]
        recs = [r for r in audit.tail(s, 5) if r.action == "outbox.cancelled"]
        assert [(r.subject, r.detail["ref"]) for r in recs] == [
            (f"outbox:{mine.id}", "parcel:7"),
            (f"outbox:{expired.id}", "parcel:7"),
        ]
        assert "482913" not in json.dumps([r.detail for r in recs])
        with pytest.raises(ValueError, match="cancelled"):
            outbox.retry(s, clock.now(), mine.id, actor="staff:1")
