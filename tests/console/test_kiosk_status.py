"""Kiosk status rows (kiosk.kiosk_status) and the change marks (kiosk.changes), on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import update

from kiosk import changes, outbox
from kiosk.clock import FakeClock
from kiosk.kiosk_status import StatusReport, StatusWriter, db_now, kiosks, offline_after_s
from kiosk.platform_models import DeviceHealth
from kiosk.storage.db import Database
from kiosk.storage.models import KioskStatus


def report(kiosk_id: str, **kw: object) -> StatusReport:
    base: dict[str, object] = {
        "kiosk_id": kiosk_id,
        "hall": "演示大厅",
        "software_version": "0.9",
        "screen": "start",
        "devices": [DeviceHealth("printer", "OK")],
        "platform_reachable": True,
        "interval_s": 5.0,
    }
    base.update(kw)
    return StatusReport(**base)  # type: ignore[arg-type]


def test_db_now_is_the_database_clock(db: Database) -> None:
    with db.transaction() as s:
        t = db_now(s)
    assert t.tzinfo is not None and abs((t - dt.datetime.now(dt.UTC)).total_seconds()) < 5


def test_two_writers_two_rows_online(db: Database) -> None:
    StatusWriter(db).report(report("K-01"))
    StatusWriter(db).report(
        report(
            "K-02",
            devices=[
                DeviceHealth("lockboard", "FAULT", "board 0 silent"),
                DeviceHealth("printer", "DEGRADED"),
            ],
            platform_reachable=False,
            screen="pickup",
        )
    )
    rows = {r.kiosk_id: r for r in kiosks(db)}
    assert set(rows) == {"K-01", "K-02"}
    assert rows["K-01"].online and rows["K-01"].health == "OK" and rows["K-01"].seen_ago_s < 5
    assert rows["K-02"].health == "FAULT" and rows["K-02"].platform_reachable is False
    assert rows["K-02"].screen == "pickup" and rows["K-02"].devices[0]["detail"] == "board 0 silent"


def test_offline_is_judged_on_the_database_clock_not_a_flag(db: Database) -> None:
    w = StatusWriter(db)
    w.report(report("K-01"))
    # The kiosk stopped writing 20 s ago (by the database's clock): offline, with nothing else changed.
    with db.transaction() as s:
        s.execute(
            update(KioskStatus).values(last_seen_at=db_now(s) - dt.timedelta(seconds=offline_after_s(5) + 1))
        )
    (row,) = kiosks(db)
    assert not row.online and row.seen_ago_s > offline_after_s(5)
    w.report(report("K-01"))
    assert kiosks(db)[0].online


def test_outbox_backlog_and_its_oldest_age(db: Database) -> None:
    clock = FakeClock(start=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=10))
    with db.transaction() as s:
        outbox.enqueue(s, clock.now(), "ReportDelivery", {"case_number": "LS1", "event": "DEPOSITED"})
        outbox.enqueue(s, clock.now() + dt.timedelta(minutes=5), "ReportDelivery", {"case_number": "LS2"})
    StatusWriter(db).report(report("K-01"))
    (row,) = kiosks(db)
    assert row.outbox_pending == 2 and row.outbox_dead == 0
    assert row.outbox_oldest_age_s is not None and 590 < row.outbox_oldest_age_s < 660


def test_personal_data_in_a_device_detail_is_masked(db: Database) -> None:
    StatusWriter(db).report(
        report("K-01", devices=[DeviceHealth("card", "DEGRADED", "read 110105198001010018")])
    )
    assert "110105********0018" in kiosks(db)[0].devices[0]["detail"]


def test_change_marks_move_with_the_audit_and_the_status_rows(db: Database) -> None:
    from kiosk.audit import append

    m0 = changes.marks(db)
    with db.transaction() as s:
        append(s, dt.datetime.now(dt.UTC), "kiosk", "test.event")
    m1 = changes.marks(db)
    assert m1.audit_seq == m0.audit_seq + 1 and m1.kiosks == 0
    StatusWriter(db).report(report("K-01"))
    m2 = changes.marks(db)
    assert m2.kiosks == 1 and m2.kiosks_seen is not None and m2.audit_seq == m1.audit_seq
