"""A damaged audit log: unreadable records are named, not crashed on; removal of the newest records shows."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from sqlalchemy import text

from kiosk import audit
from kiosk.clock import FakeClock
from kiosk.storage.db import Database
from kiosk.storage.models import KeyValue
from tests.conftest import init_kiosk
from tests.support.cli import run_cli

REPO = Path(__file__).resolve().parents[2]

# Values each backend accepts into the column but the kiosk cannot read back. PostgreSQL checks json and
# timestamptz syntax on write, so its damage is the kind that passes those checks: 'infinity' (psycopg
# cannot load it) and a lone UTF-16 surrogate (json accepts it, nothing can hash it).
BOTH = [
    ("at = 'infinity'", "at is not a timestamp"),
    ('detail = \'{"x": "\\ud800"}\'', "cannot be hashed"),
]
SQLITE_ONLY = [
    ("detail = 'garbage'", "detail is not JSON"),
    ("at = 'garbage'", "at is not a timestamp"),
    ("actor = CAST(X'FF' AS TEXT)", "actor is not UTF-8 text"),
    ("detail = X'FF'", "detail is not UTF-8 text"),
]


def _damage(db: Database) -> list[tuple[str, str]]:
    return BOTH + SQLITE_ONLY if db.is_sqlite else BOTH


def _fill(db: Database, clock: FakeClock, n: int = 5) -> None:
    for i in range(n):
        with db.transaction() as s:
            audit.append(
                s, clock.now(), "staff:badge-04A1", "door.open", f"A0{i}", outcome="opened", ms=120 + i
            )
        clock.advance(1.5)


def _sql(db: Database, sql: str) -> None:
    with db.engine.begin() as c:
        c.execute(text(sql))


def _verify(db: Database) -> audit.VerifyResult:
    with db.transaction() as s:
        return audit.verify(s)


def test_each_kind_of_damage_is_named(db: Database, clock: FakeClock) -> None:
    """verify reports the record as altered, naming what cannot be read; tail shows it as unreadable."""
    for set_, what in _damage(db):
        _sql(db, "DELETE FROM audit_log")
        _sql(db, "DELETE FROM kv")
        _fill(db, clock)
        _sql(db, f"UPDATE audit_log SET {set_} WHERE seq = 3")
        res = _verify(db)
        assert not res.ok and res.broken_seq == 3, (set_, res)
        assert "record 3 was altered" in res.reason and what in res.reason, (set_, res.reason)
        with db.transaction() as s:
            rows = audit.tail(s, 10)
        assert [r.seq for r in rows] == [1, 2, 3, 4, 5]
        assert [bool(r.error) for r in rows] == [False, False, True, False, False], set_
        assert what in rows[2].error and rows[1].action == "door.open" and rows[1].detail["ms"] == 121


def test_corrupt_last_record_does_not_block_appends(db: Database, clock: FakeClock) -> None:
    """The newest record is unreadable: the next append (a door opening) still commits, and verify names it."""
    for set_, what in _damage(db):
        _sql(db, "DELETE FROM audit_log")
        _sql(db, "DELETE FROM kv")
        _fill(db, clock, 3)
        _sql(db, f"UPDATE audit_log SET {set_} WHERE seq = 3")
        with db.transaction() as s:
            rec = audit.append(s, clock.now(), "citizen", "door.open", "A07", outcome="opened")
        assert rec.seq == 4
        res = _verify(db)
        assert not res.ok and res.broken_seq == 3 and what in res.reason, (set_, res)
        with db.transaction() as s:
            assert [(r.seq, r.action, bool(r.error)) for r in audit.tail(s, 2)] == [
                (3, "door.open", True),
                (4, "door.open", False),
            ]


def test_sqlite_seq_that_is_not_a_number(db: Database, clock: FakeClock) -> None:
    """SQLite keeps text written into the integer seq: appends go on from the last numbered record, both show."""
    if not db.is_sqlite:
        pytest.skip("PostgreSQL refuses text in an integer column")
    _fill(db, clock, 3)
    _sql(db, "UPDATE audit_log SET seq = 'x' WHERE seq = 3")
    with db.transaction() as s:
        assert audit.append(s, clock.now(), "citizen", "door.open", "A07").seq == 3
    res = _verify(db)
    assert (
        not res.ok
        and res.broken_seq == 4
        and "after record 3 was altered: its seq is not a number" in res.reason
    )
    with db.transaction() as s:
        rows = audit.tail(s, 10)
    assert [(r.seq, bool(r.error)) for r in rows] == [(1, False), (2, False), (3, False), (None, True)]
    assert "seq is not a number" in rows[-1].error


@pytest.mark.parametrize(
    ("delete", "broken", "reason"),
    [
        ("seq = 5", 5, "record 5 missing at the end"),
        ("seq >= 3", 3, "records 3..5 missing at the end"),
        ("1 = 1", 1, "records 1..5 missing at the end"),
    ],
)
def test_deleted_newest_records_are_named(
    db: Database, clock: FakeClock, delete: str, broken: int, reason: str
) -> None:
    _fill(db, clock)
    assert _verify(db).ok
    _sql(db, f"DELETE FROM audit_log WHERE {delete}")
    res = _verify(db)
    assert not res.ok and res.broken_seq == broken and reason in res.reason, res


def test_replaced_newest_record_is_named(db: Database, clock: FakeClock) -> None:
    """A self-consistent forgery of the newest record has no next record to break: the anchor catches it."""
    _fill(db, clock)
    with db.engine.begin() as c:
        row = c.execute(text("SELECT id FROM audit_log WHERE seq = 5")).scalar_one()
    with db.transaction() as s:
        from kiosk.storage.models import AuditRecord

        r = s.get(AuditRecord, row)
        assert r is not None
        r.subject = "A99"
        r.hash = audit.record_hash(r)
    res = _verify(db)
    assert not res.ok and res.broken_seq == 5 and "replaced" in res.reason, res


def test_records_added_past_the_anchor_are_named(db: Database, clock: FakeClock) -> None:
    """Records chained correctly but appended without moving the anchor (not by the kiosk) are named."""
    _fill(db, clock, 3)
    with db.transaction() as s:
        before = s.get(KeyValue, audit.HEAD_KEY)
        assert before is not None
        saved = before.value
        audit.append(s, clock.now(), "someone", "door.open", "A01")
        audit.append(s, clock.now(), "someone", "door.open", "A02")
    with db.transaction() as s:
        row = s.get(KeyValue, audit.HEAD_KEY)
        assert row is not None
        row.value = saved
    res = _verify(db)
    assert not res.ok and res.broken_seq == 4 and "records 4..5 inserted at the end" in res.reason, res


def test_database_without_anchor_verifies_and_the_next_append_writes_it(
    db: Database, clock: FakeClock
) -> None:
    """A log written before the anchor existed: verify passes (saying so), and the next append anchors it."""
    _fill(db, clock, 3)
    _sql(db, "DELETE FROM kv")
    res = _verify(db)
    assert res.ok and res.checked == 3 and not res.anchored
    _fill(db, clock, 1)
    res = _verify(db)
    assert res.ok and res.checked == 4 and res.anchored
    _sql(db, "DELETE FROM audit_log WHERE seq = 4")
    assert "record 4 missing at the end" in _verify(db).reason


def test_unreadable_anchor_is_named_and_does_not_block_appends(db: Database, clock: FakeClock) -> None:
    _fill(db, clock, 2)
    _sql(db, f"UPDATE kv SET value = 'garbage' WHERE key = '{audit.HEAD_KEY}'")
    res = _verify(db)
    assert not res.ok and res.broken_seq is None and "head anchor" in res.reason
    _fill(db, clock, 1)  # append never reads the anchor, only overwrites it
    assert _verify(db).ok


def test_concurrent_appends_keep_the_anchor_at_the_head(db: Database, clock: FakeClock) -> None:
    """Appends from several threads (kiosks sharing a database) leave one chain and the anchor at its end."""
    errors: list[BaseException] = []

    def worker(k: int) -> None:
        try:
            for i in range(8):
                with db.transaction() as s:
                    audit.append(s, clock.now(), f"kiosk-{k}", "door.open", f"A0{i}")
        except BaseException as err:  # reported by the assert below, not lost in the thread
            errors.append(err)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    res = _verify(db)
    assert res.ok and res.checked == 32 and res.anchored, res
    with db.transaction() as s:
        row = s.get(KeyValue, audit.HEAD_KEY)
        assert row is not None and json.loads(row.value)["seq"] == 32


# --- the command line and diagnostics, on both backends ------------------------------------------


def _config(tmp_path: Path, db_url: str) -> Path:
    text_ = (REPO / "kiosk" / "default.toml").read_text(encoding="utf-8")
    text_ = text_.replace('data_dir = "~/.local/share/hall-kiosk"', f'data_dir = "{tmp_path / "data"}"')
    p = tmp_path / "kiosk.toml"
    p.write_text(f'{text_}\n[storage]\nurl = "{db_url}"\n', encoding="utf-8")
    return p


def _storage_audit(config: Path) -> dict:
    r = run_cli(config, "diag", "--json", "--only", "storage")
    return next(c for c in json.loads(r.out)["checks"] if c["id"] == "storage.audit")


def test_cli_and_diag_name_an_unreadable_record(
    db: Database, db_url: str, clock: FakeClock, tmp_path: Path
) -> None:
    config = _config(tmp_path, db_url)
    init_kiosk(config)  # audit record 1: db.init
    _fill(db, clock, 3)
    assert _storage_audit(config)["finding"] == "4 audit records, chain intact"
    _sql(db, "UPDATE audit_log SET at = 'infinity' WHERE seq = 2")
    r = run_cli(config, "audit", "verify")
    assert r.code == 6, (r.out, r.err)
    assert (
        "audit chain broken at record 2: record 2 was altered: it cannot be read (at is not a timestamp)"
        in r.err
    )
    r = run_cli(config, "audit", "tail")
    assert r.code == 0, r.err
    lines = r.out.splitlines()
    assert (
        len(lines) == 4
        and "UNREADABLE RECORD (at is not a timestamp)" in lines[1]
        and "door.open" in lines[2]
    )
    r = run_cli(config, "audit", "tail", "--json")
    assert r.code == 0 and json.loads(r.out.splitlines()[1]) == {
        "seq": 2,
        "unreadable": "at is not a timestamp",
    }
    check = _storage_audit(config)
    assert check["status"] == "FAULT" and check["data"]["broken_seq"] == 2
    assert check["finding"] == (
        "audit chain broken at record 2: record 2 was altered: it cannot be read (at is not a timestamp)"
    )


def test_cli_and_diag_name_deleted_newest_records(
    db: Database, db_url: str, clock: FakeClock, tmp_path: Path
) -> None:
    config = _config(tmp_path, db_url)
    init_kiosk(config)  # audit record 1: db.init
    _fill(db, clock, 16)
    _sql(db, "DELETE FROM audit_log WHERE seq = 17")
    r = run_cli(config, "audit", "verify")
    assert r.code == 6 and "audit chain broken at record 17: record 17 missing at the end" in r.err, (
        r.out,
        r.err,
    )
    check = _storage_audit(config)
    assert check["status"] == "FAULT" and "record 17 missing at the end" in check["finding"]
    _sql(db, f"DELETE FROM kv WHERE key = '{audit.HEAD_KEY}'")  # as a database from before the anchor
    r = run_cli(config, "audit", "verify")
    assert r.code == 0 and r.out.startswith("ok: 16 audit records, chain intact (no head anchor yet"), (
        r.out,
        r.err,
    )
