"""Storage on SQLite and PostgreSQL: migrations, durability settings, refusal of a newer schema."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select, text

from kiosk.errors import SchemaTooNew, StorageError
from kiosk.storage.db import Database
from kiosk.storage.models import Compartment, OutboxMessage


def test_migrations_reach_head(db: Database) -> None:
    assert db.current_revision() == db.head_revision() != ""
    db.upgrade()  # a second upgrade is a no-op
    assert db.current_revision() == db.head_revision()


def test_utc_datetimes_round_trip(db: Database) -> None:
    cst = dt.timezone(dt.timedelta(hours=8))
    at = dt.datetime(2026, 11, 25, 10, 30, 15, 123456, tzinfo=cst)
    with db.transaction() as s:
        s.add(
            Compartment(
                cabinet_id="CAB-01", label="A01", size="S", board=0, channel=1, state="free", updated_at=at
            )
        )
    with db.transaction() as s:
        c = s.execute(select(Compartment)).scalar_one()
        assert c.updated_at == at
        assert c.updated_at.utcoffset() == dt.timedelta(0)


def test_naive_datetimes_are_refused(db: Database) -> None:
    with pytest.raises(Exception, match="naive datetime"), db.transaction() as s:
        s.add(
            Compartment(
                cabinet_id="C",
                label="A01",
                size="S",
                board=0,
                channel=1,
                state="free",
                updated_at=dt.datetime(2026, 1, 1),
            )
        )
        s.flush()


def test_failed_transaction_leaves_nothing(db: Database) -> None:
    now = dt.datetime.now(dt.UTC)
    with pytest.raises(RuntimeError), db.transaction() as s:
        s.add(
            OutboxMessage(
                request_id="r1", operation="ReportDelivery", payload={}, next_attempt_at=now, created_at=now
            )
        )
        s.flush()
        raise RuntimeError("power cut")
    with db.transaction() as s:
        assert s.execute(select(OutboxMessage)).first() is None


def test_unique_request_id_enforced(db: Database) -> None:
    now = dt.datetime.now(dt.UTC)
    with pytest.raises(Exception, match=r"(?i)unique"), db.transaction() as s:
        for _ in range(2):
            s.add(
                OutboxMessage(
                    request_id="same",
                    operation="ReportDelivery",
                    payload={},
                    next_attempt_at=now,
                    created_at=now,
                )
            )
        s.flush()


def test_sqlite_durability_pragmas(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'k.db'}")
    with db.engine.connect() as c:
        assert c.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert c.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
        assert c.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert c.exec_driver_sql("PRAGMA busy_timeout").scalar() == 5000
    db.dispose()


def test_schema_from_a_newer_version_is_refused(db: Database) -> None:
    with db.engine.begin() as c:
        c.execute(text("UPDATE alembic_version SET version_num = '9999_future'"))
    with pytest.raises(SchemaTooNew, match="9999_future"):
        db.upgrade()


def test_data_dir_that_is_a_file(tmp_path: Path) -> None:
    f = tmp_path / "file"
    f.write_text("x")
    with pytest.raises(StorageError, match="cannot create"):
        Database(f"sqlite:///{f / 'sub' / 'k.db'}")


def test_migrations_match_the_models(db: Database) -> None:
    """A model change without a migration shows up here, on both backends."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from kiosk.storage.models import Base

    with db.engine.connect() as c:
        diff = compare_metadata(MigrationContext.configure(c), Base.metadata)
    # Server defaults and type affinities differ harmlessly between backends; tables, columns and indexes must not.
    diff = [
        d for d in diff if not (isinstance(d, list) and d and d[0][0] in ("modify_default", "modify_type"))
    ]
    # The schema history is written by the migration environment, not a model (kiosk.storage.db).
    diff = [d for d in diff if not (d[0] == "remove_table" and d[1].name == "kiosk_schema_history")]
    assert diff == []


def test_empty_database_has_no_revision(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'empty.db'}")
    assert db.current_revision() is None
    db.dispose()


def test_reading_the_revision_does_not_fill_the_statement_cache(db: Database) -> None:
    """The heartbeat's diagnostics read the revision every minute for months: one cache entry, not one per read."""
    cache = db.engine._compiled_cache  # SQLAlchemy's LRU of compiled statements; no public size accessor
    db.current_revision()
    before = len(cache)
    for _ in range(200):
        assert db.current_revision() == db.head_revision()
    assert len(cache) == before
