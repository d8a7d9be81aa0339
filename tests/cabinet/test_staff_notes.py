"""Nothing personal in the append-only audit (issue 11, item 12): staff's typed reasons and notes are staff notes.

A collect, a disable and a task's resolution with typed text leave no trace of the text in any column of any audit
row; the audit records the reason code and the note's id. The note is readable, deletable by staff (audited by
id), purged after the retention period on a fake clock, and the audit chain still verifies afterwards."""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path

import pytest
from sqlalchemy import select, text

from kiosk import notes
from kiosk.audit import verify
from kiosk.cabinet import Cabinet
from kiosk.clock import FakeClock
from kiosk.storage.db import Database
from kiosk.storage.models import AuditRecord, Compartment
from tests.cabinet.cabinet_support import case, person
from tests.conftest import init_kiosk
from tests.support.cli import run_cli
from tests.support.config import write_config

NAME = "王小明"
PHONE = "13912345678"


def _audit_blob(db: Database) -> str:
    """Every column of every audit row, as text (the detail JSON as stored, with its escapes undone)."""
    with db.transaction() as s:
        rows = s.execute(text("SELECT * FROM audit_log")).all()
    raw = " ".join(str(v) for r in rows for v in r)
    return raw + " " + raw.encode("ascii", "backslashreplace").decode("unicode_escape", "ignore")


def _records(db: Database, action: str) -> list[AuditRecord]:
    with db.transaction() as s:
        return list(
            s.execute(
                select(AuditRecord).where(AuditRecord.action == action).order_by(AuditRecord.seq)
            ).scalars()
        )


def _collect(cabinet: Cabinet, sim, reason: str) -> int:
    h = cabinet.start_deposit(case(1), actor="staff", size="S")
    ch = int(h.label[1:])
    sim.put_item(0, ch)
    sim.close_door(0, ch)
    pid = cabinet.wait_closed(h).parcel_id
    h = cabinet.start_collect(pid, actor="staff:7", reason=reason)
    sim.take_item(0, ch)
    sim.close_door(0, ch)
    cabinet.wait_closed(h)
    return pid


def test_a_typed_collect_reason_is_a_note_and_no_audit_column_holds_it(
    cabinet: Cabinet, sim, db: Database, clock: FakeClock
) -> None:
    typed = f"{NAME} came to the desk, phone {PHONE}, ID {person(4).id_number}"
    pid = _collect(cabinet, sim, typed)
    [rec] = _records(db, "cabinet.collect_requested")
    assert rec.detail["reason"] == "other" and isinstance(rec.detail["note"], int)
    blob = _audit_blob(db)
    for needle in (NAME, "came to the desk", PHONE, person(4).id_number):
        assert needle not in blob, needle
    with db.transaction() as s:
        kept = notes.read(s, rec.detail["note"])
    # The note keeps the words (a name cannot be recognised, hence deletable), ID and phone numbers masked.
    assert kept is not None and kept.startswith(f"{NAME} came to the desk") and PHONE not in kept
    assert person(4).id_number not in kept

    # Retention: nothing is purged before its time, everything after, and the chain verifies after the purge.
    with db.transaction() as s:
        assert notes.purge(s, clock.now(), 365) == 0
    clock.advance(366 * 86400)
    with db.transaction() as s:
        assert notes.purge(s, clock.now(), 365) == 1
        assert notes.read(s, rec.detail["note"]) == notes.DELETED
        assert verify(s).ok
    [purged] = _records(db, "notes.purged")
    assert purged.detail["count"] == 1 and purged.detail["first"] == rec.detail["note"]
    assert pid


def test_disable_and_task_notes_are_notes_staff_can_delete(
    cabinet: Cabinet, db: Database, clock: FakeClock
) -> None:
    cabinet.disable("A05", actor="staff:1", reason=f"broken, call {NAME} on {PHONE}")
    [dis] = _records(db, "cabinet.disabled")
    assert "reason" not in dis.detail  # no fixed list of disable reasons: only the note's id
    with db.transaction() as s:
        comp = s.execute(select(Compartment).where(Compartment.label == "A05")).scalar_one()
        assert comp.fault_note_id == dis.detail["note"] and NAME not in (comp.fault_reason or "")
        assert notes.read(s, comp.fault_note_id) == f"broken, call {NAME} on ***********"
    task_id = cabinet.report_problem("A05", "door stuck", actor="staff:1")
    cabinet.resolve_task(task_id, actor="staff:1", note=f"fixed, told {NAME}")
    [res] = _records(db, "cabinet.task_resolved")
    assert NAME not in _audit_blob(db)

    with db.transaction() as s:
        notes.remove(s, clock.now(), res.detail["note"], actor="staff:1")
    with db.transaction() as s:
        assert notes.read(s, res.detail["note"]) == notes.DELETED
        assert notes.read(s, dis.detail["note"]) is not None  # only the one asked for
        with pytest.raises(notes.NoSuchNote):
            notes.remove(s, clock.now(), res.detail["note"], actor="staff:1")
    [gone] = _records(db, "note.deleted")
    assert gone.actor == "staff:1" and gone.detail["note"] == res.detail["note"]
    assert NAME not in _audit_blob(db)
    with db.transaction() as s:
        assert verify(s).ok


def test_empty_reason_makes_no_note(cabinet: Cabinet, db: Database) -> None:
    cabinet.disable("A04", actor="staff:1")
    [dis] = _records(db, "cabinet.disabled")
    assert "note" not in dis.detail


def test_notes_cli_shows_deletes_and_purges(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KIOSK_SECRET_FILE", str(tmp_path / "hall-secret.key"))
    cab = {
        "id": "CAB-01",
        "bus": "sim",
        "family": "kerong-cu",
        "boards": [0],
        "compartments": [{"label": "A01", "size": "M", "board": 0, "channel": 1}],
    }
    p = write_config(tmp_path, storage={"url": db_url, "notes_retention_days": 30}, cabinets=[cab])
    init_kiosk(p)
    assert run_cli(p, "cabinet", "disable", "A01", "--reason", f"hinge, ask {NAME}").code == 0
    db = Database(db_url)
    try:
        [dis] = _records(db, "cabinet.disabled")
        note_id = dis.detail["note"]
        r = run_cli(p, "notes", "show", str(note_id))
        assert r.code == 0 and r.out.strip() == f"hinge, ask {NAME}"
        r = run_cli(p, "notes", "purge")
        assert r.code == 0 and "0 note(s) older than 30 days" in r.out
        r = run_cli(p, "notes", "delete", str(note_id), "--actor", "staff:9")
        assert r.code == 0, r.err
        assert run_cli(p, "notes", "show", str(note_id)).out.strip() == notes.DELETED
        r = run_cli(p, "notes", "delete", str(note_id))
        assert r.code != 0 and f"no note {note_id}" in r.err
        assert NAME not in _audit_blob(db)
    finally:
        db.dispose()
    bad = write_config(tmp_path / "bad", storage={"url": db_url, "notes_retention_days": 0}, cabinets=[cab])
    r = run_cli(bad, "notes", "purge")
    assert r.code != 0 and "notes_retention_days" in r.err and "Traceback" not in r.err


def test_retention_default_is_a_year() -> None:
    from kiosk.config import StorageConfig

    assert StorageConfig().notes_retention_days == notes.DEFAULT_RETENTION_DAYS == 365
    assert dt.timedelta(days=1) == notes.PURGE_EVERY


def test_the_kiosk_purges_at_start_up_then_daily(db: Database, clock: FakeClock) -> None:
    with db.transaction() as s:
        old = notes.add(s, clock.now(), actor="staff:1", subject_kind="parcel", subject_id=1, text=NAME)
    clock.advance(31 * 86400)
    with db.transaction() as s:
        new = notes.add(s, clock.now(), actor="staff:1", subject_kind="parcel", subject_id=2, text="fresh")
    stop = threading.Event()
    stop.set()  # one round (the start-up purge), then it returns instead of waiting a day
    notes.purge_loop(db, clock, 30, stop)
    with db.transaction() as s:
        assert notes.texts(s, [old, new, "x"]) == {old: notes.DELETED, new: "fresh"}
        assert verify(s).ok


def test_a_deleted_note_id_is_never_given_to_another_note(db: Database, clock: FakeClock) -> None:
    """The audit names notes by id: a new note must not take the id of the newest deleted one (SQLite rowids)."""
    with db.transaction() as s:
        first = notes.add(s, clock.now(), actor="staff:1", subject_kind="parcel", subject_id=1, text="old")
    with db.transaction() as s:
        assert first is not None
        notes.remove(s, clock.now(), first, actor="staff:1")
    with db.transaction() as s:
        second = notes.add(s, clock.now(), actor="staff:1", subject_kind="parcel", subject_id=2, text="new")
        assert second is not None and second > first and notes.read(s, first) == notes.DELETED
