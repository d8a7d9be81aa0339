"""Engine set-up, transactions and migrations.

SQLite: WAL, ``synchronous=FULL`` (a power cut loses no committed row),
foreign keys on, a busy timeout, and ``BEGIN IMMEDIATE`` for every write so
two writers never deadlock on a lock upgrade. PostgreSQL: by URL, for halls
whose kiosks share one database; callers use ``FOR UPDATE SKIP LOCKED`` where
two kiosks could take the same row.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.script import ScriptDirectory
from sqlalchemy import Column, Engine, MetaData, String, Table, create_engine, event, inspect, select
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from kiosk.errors import SchemaTooNew, StorageError

log = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).with_name("migrations")

# Built once: SQLAlchemy keys its statement cache on the Table object, and alembic's
# MigrationContext makes a new one per call, so a heartbeat that asked it every minute
# filled the cache with duplicates and pushed the kiosk's own statements out.
_VERSION_TABLE = Table("alembic_version", MetaData(), Column("version_num", String(32), primary_key=True))
_SELECT_VERSION = select(_VERSION_TABLE.c.version_num)


def _normalise_url(url: str) -> str:
    # Debian's psycopg 3 is the driver we ship; plain postgresql:// would pick psycopg2.
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def make_engine(url: str, *, busy_timeout_ms: int = 5000) -> Engine:
    """Create an engine with the kiosk's durability settings."""
    url = _normalise_url(url)
    if url.startswith("sqlite"):
        path = url.split("///", 1)[1] if "///" in url else ""
        if path and path != ":memory:":
            _check_writable_dir(Path(path).parent)
        engine = create_engine(url, connect_args={"timeout": busy_timeout_ms / 1000, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            # Let SQLAlchemy, not the sqlite3 module, decide where transactions begin.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=FULL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
            cur.close()

        @event.listens_for(engine, "begin")
        def _begin_immediate(conn: Any) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    try:
        return create_engine(url, pool_pre_ping=True)
    except (SQLAlchemyError, ImportError) as err:
        raise StorageError(f"storage.url: cannot use {url.split('@')[-1]}: {err}") from err


def _check_writable_dir(path: Path) -> None:
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise StorageError(f"data directory {path}: cannot create it: {err.strerror}") from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise StorageError(
            f"data directory {path}: not writable by this user",
            hint=f"chown the directory to the kiosk's user or set kiosk.data_dir; path: {path}",
        )


class Database:
    """The kiosk's database: one engine, one session factory."""

    def __init__(self, url: str, *, busy_timeout_ms: int = 5000) -> None:
        self.url = _normalise_url(url)
        self.engine = make_engine(url, busy_timeout_ms=busy_timeout_ms)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Session]:
        """One unit of work: commits at the end, rolls back on any error."""
        with self.sessions() as session:
            try:
                with session.begin():
                    yield session
            except OperationalError as err:
                raise StorageError(f"database error: {err.orig}") from err

    # --- migrations ------------------------------------------------------------
    def _alembic(self) -> AlembicConfig:
        cfg = AlembicConfig()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        cfg.attributes["engine"] = self.engine
        return cfg

    def head_revision(self) -> str:
        return ScriptDirectory.from_config(self._alembic()).get_current_head() or ""

    def current_revision(self) -> str | None:
        try:
            with self.engine.connect() as conn:
                if not inspect(conn).has_table(_VERSION_TABLE.name):
                    return None
                rows = conn.execute(_SELECT_VERSION).scalars().all()
        except OperationalError as err:
            raise StorageError(f"cannot open the database: {err.orig}") from err
        if len(rows) > 1:  # the chain is linear; several rows mean someone branched it by hand
            raise StorageError(f"the database records {len(rows)} schema revisions ({', '.join(sorted(rows))}); expected one")
        return rows[0] if rows else None

    def upgrade(self) -> None:
        """Apply every migration not yet applied; refuse a database from a newer version."""
        current = self.current_revision()
        script = ScriptDirectory.from_config(self._alembic())
        if current is not None and not _known(script, current):
            raise SchemaTooNew(
                f"the database is at schema {current}, which this kiosk version (head {self.head_revision()}) does not know"
            )
        command.upgrade(self._alembic(), "head")

    def dispose(self) -> None:
        self.engine.dispose()


def _known(script: ScriptDirectory, rev: str) -> bool:
    try:
        script.get_revision(rev)
        return True
    except Exception:  # alembic raises several types for an unknown revision
        return False
