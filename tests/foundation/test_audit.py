"""The audit chain: appends link, verify names the first altered, missing or inserted record."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import text

from kiosk import audit
from kiosk.clock import FakeClock
from kiosk.config import Config
from kiosk.storage.db import Database
from tests.support.cli import run_cli
from tests.support.config import write_config


def _fill(db: Database, clock: FakeClock, n: int = 5) -> None:
    for i in range(n):
        with db.transaction() as s:
            audit.append(
                s, clock.now(), "staff:badge-04A1", "door.open", f"A0{i}", outcome="opened", ms=120 + i
            )
        clock.advance(1.5)


def test_chain_verifies(db: Database, clock: FakeClock) -> None:
    _fill(db, clock)
    with db.transaction() as s:
        res = audit.verify(s)
    assert res.ok and res.checked == 5


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE audit_log SET subject = 'A09' WHERE seq = 3",
        "UPDATE audit_log SET actor = 'staff:badge-04A2' WHERE seq = 3",
    ],
)
def test_altered_record_is_named(db: Database, clock: FakeClock, sql: str) -> None:
    _fill(db, clock)
    with db.engine.begin() as c:
        c.execute(text(sql))
    with db.transaction() as s:
        res = audit.verify(s)
    assert not res.ok and res.broken_seq == 3 and "altered" in res.reason


def test_deleted_record_is_named(db: Database, clock: FakeClock) -> None:
    _fill(db, clock)
    with db.engine.begin() as c:
        c.execute(text("DELETE FROM audit_log WHERE seq = 2"))
    with db.transaction() as s:
        res = audit.verify(s)
    assert not res.ok and res.broken_seq == 2 and "missing" in res.reason


def test_rewritten_tail_breaks_the_link(db: Database, clock: FakeClock) -> None:
    """Someone replaces record 4 with a self-consistent forgery: its hash holds but record 5's link does not."""
    _fill(db, clock)
    with db.transaction() as s:
        rec = s.execute(text("SELECT id FROM audit_log WHERE seq = 4")).scalar_one()
        from kiosk.storage.models import AuditRecord

        r = s.get(AuditRecord, rec)
        r.subject = "A99"
        r.hash = audit.record_hash(r)
    with db.transaction() as s:
        res = audit.verify(s)
    assert not res.ok and res.broken_seq == 5 and "link" in res.reason


def test_personal_data_never_enters_the_chain(db: Database, clock: FakeClock) -> None:
    with db.transaction() as s:
        audit.append(s, clock.now(), "citizen", "pickup.by_card", "A01", note="id 11010519491231002X matched")
    with db.engine.connect() as c:
        raw = json.dumps([list(r) for r in c.execute(text("SELECT * FROM audit_log"))], default=str)
    assert "11010519491231002X" not in raw
    assert "110105********002X" in raw


def test_cli_verify_names_a_one_byte_edit(cfg: Config, clock: FakeClock) -> None:
    """Edit one byte of one stored record: `kiosk audit verify` fails with exit 6 and names it."""
    db = Database(cfg.storage_url)
    db.upgrade()
    _fill(db, clock, 4)
    ok = run_cli(cfg.source, "audit", "verify", own_process=True)
    assert ok.code == 0, ok.err
    assert "5 audit records" in ok.out  # db.init (the cfg fixture) + 4
    with db.engine.begin() as c:
        detail = c.execute(text("SELECT detail FROM audit_log WHERE seq = 3")).scalar_one()
        tampered = (
            detail.replace("121", "129")
            if isinstance(detail, str)
            else json.dumps(detail).replace("121", "129")
        )
        assert tampered != detail
        c.execute(text("UPDATE audit_log SET detail = :d WHERE seq = 3"), {"d": tampered})
    db.dispose()
    bad = run_cli(cfg.source, "audit", "verify", own_process=True)
    assert bad.code == 6
    assert "record 3" in bad.err
    tail = run_cli(cfg.source, "audit", "tail", "--json", own_process=True)
    assert tail.code == 0 and len(tail.out.splitlines()) == 5


def test_unwritable_data_dir_via_cli(tmp_path: Path) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where the data directory should be")
    p = write_config(tmp_path, kiosk={"hall": "x", "data_dir": blocker / "data"})
    r = run_cli(p, "db", "upgrade", own_process=True)
    assert r.code == 4, r.err
    assert "data directory" in r.err and "cannot create" in r.err
