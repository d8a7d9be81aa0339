"""Engine set-up, transactions and migrations.

SQLite: WAL, ``synchronous=FULL`` (a power cut loses no committed row),
foreign keys on, a busy timeout, and ``BEGIN IMMEDIATE`` for every write so
two writers never deadlock on a lock upgrade. PostgreSQL: by URL, for halls
whose kiosks share one database; callers use ``FOR UPDATE SKIP LOCKED`` where
two kiosks could take the same row.

Migrations in a fleet: kiosks sharing one PostgreSQL migrate under an advisory
lock (the first applies, the others wait and find the schema current). Each
migration declares ``additive``; the database records it per applied revision
(``kiosk_schema_history``), so a kiosk one release behind, finding a head it
does not know, can tell whether it can still read the schema: it runs on when
every unknown revision was additive and refuses otherwise.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.script import ScriptDirectory
from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Engine,
    MetaData,
    String,
    Table,
    create_engine,
    event,
    func,
    inspect,
    select,
    text,
)
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from kiosk import keyring
from kiosk.errors import DatabaseDamaged, SchemaTooNew, StorageError
from kiosk.filemodes import private_dir, private_file, tighten
from kiosk.storage import lengths

log = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).with_name("migrations")
# pg_advisory_lock key for migrations: any fixed 64-bit number that nothing else in the hall uses.
MIGRATION_LOCK_KEY = 0x4B696F736B4D6967  # "KioskMig"

# Outside the models on purpose: written by env.py for each applied revision, read before any upgrade.
_history_md = MetaData()
SCHEMA_HISTORY = Table(
    "kiosk_schema_history",
    _history_md,
    Column("revision", String(64), primary_key=True),
    Column("additive", Boolean, nullable=False),
    Column("applied_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

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
            check_writable_dir(Path(path).parent)
            _private_database_file(Path(path))
        # hide_parameters: an error's text never carries the SQL parameters (names, masked IDs, codes' hashes).
        engine = create_engine(
            url,
            connect_args={"timeout": busy_timeout_ms / 1000, "check_same_thread": False},
            hide_parameters=True,
        )

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

        @event.listens_for(engine, "handle_error")
        def _damaged(ctx: Any) -> None:
            # Every statement and connect of every command: a damaged file is a storage error with a way out,
            # never a raw DatabaseError traceback (nor, in diag, a "software fault").
            if is_damage(ctx.original_exception):
                raise DatabaseDamaged(
                    f"the database {path or url} is damaged: {ctx.original_exception}"
                ) from None

        return engine
    try:
        return create_engine(url, pool_pre_ping=True, hide_parameters=True)
    except (SQLAlchemyError, ImportError) as err:
        raise StorageError(f"storage.url: cannot use {url.split('@')[-1]}: {err}") from err


def is_damage(err: BaseException | None) -> bool:
    """SQLite's SQLITE_CORRUPT / SQLITE_NOTADB (plain DatabaseError), not a lock, constraint or I/O error."""
    if type(err) is sqlite3.DatabaseError:
        return True
    msg = str(err).lower()
    return isinstance(err, sqlite3.Error) and ("malformed" in msg or "not a database" in msg)


def _private_database_file(path: Path) -> None:
    # Created here 0600 before SQLite opens it: its -wal and -shm then get the same mode (see kiosk.filemodes).
    try:
        if not path.exists():
            private_file(path)
        for f in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
            tighten(f)
    except OSError as err:
        raise StorageError(f"database {path}: cannot create it or set its mode: {err.strerror}") from None


def check_writable_dir(path: Path) -> None:
    try:
        private_dir(path)
    except OSError as err:
        raise StorageError(f"data directory {path}: cannot create it: {err.strerror}") from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise StorageError(
            f"data directory {path}: not writable by this user",
            hint=f"chown the directory to the kiosk's user or set kiosk.data_dir; path: {path}",
        )


KIOSK_ID = "kiosk_id"  # the key of the writing kiosk's id in every session's ``info``


class Database:
    """The kiosk's database: one engine, one session factory."""

    def __init__(
        self,
        url: str,
        *,
        busy_timeout_ms: int = 5000,
        versions: Path | None = None,
        kiosk_id: str | None = None,
    ) -> None:
        self.url = _normalise_url(url)
        self.engine = make_engine(url, busy_timeout_ms=busy_timeout_ms)
        # Which kiosk writes through this handle: outbox rows it queues are stamped with it (kiosk.outbox), so on a
        # hall's shared database each kiosk's sender sends only its own. None: a tool's handle (tests, backups).
        self.kiosk_id = kiosk_id
        self.sessions = sessionmaker(self.engine, expire_on_commit=False, info={KIOSK_ID: kiosk_id})
        lengths.install(self.sessions)
        keyring.install(self.sessions)
        self.versions = versions  # another migrations chain (tests of rolling upgrades); None: this release's
        self.schema_ahead: list[
            str
        ] = []  # newer additive revisions this release runs on without knowing them

    def use_key(self, key_id: str) -> None:
        """Rows written from now on record ``key_id`` as the key of their hashes (kiosk.keyring)."""
        self.sessions.kw["info"][keyring.KEY_ID] = key_id

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
        cfg.attributes["kiosk_id"] = self.kiosk_id  # 0005 stamps the outbox rows queued before it with it
        if self.versions is not None:
            cfg.set_main_option("path_separator", "os")
            cfg.set_main_option("version_locations", str(self.versions))
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
            raise StorageError(
                f"the database records {len(rows)} schema revisions ({', '.join(sorted(rows))}); expected one"
            )
        return rows[0] if rows else None

    def upgrade(self) -> None:
        """Apply every migration not yet applied, one kiosk at a time.

        A database at a revision this release does not know was written by a newer one: it is used as is
        when every revision beyond this release's head was additive, and refused otherwise."""
        with self._migration_lock():
            current = self.current_revision()
            script = ScriptDirectory.from_config(self._alembic())
            if current is not None and not _known(script, current):
                self.schema_ahead = self._readable_newer_schema(script, current)
                log.warning(
                    "database schema %s is newer than this kiosk's (head %s); it only adds to it (%s), "
                    "running on it",
                    current,
                    self.head_revision(),
                    ", ".join(self.schema_ahead),
                )
                return
            command.upgrade(self._alembic(), "head")

    def _readable_newer_schema(self, script: ScriptDirectory, current: str) -> list[str]:
        with self.engine.connect() as c:
            try:
                rows = c.execute(select(SCHEMA_HISTORY.c.revision, SCHEMA_HISTORY.c.additive)).all()
            except SQLAlchemyError:
                rows = []
        newer = {rev: additive for rev, additive in rows if not _known(script, rev)}
        breaking = sorted(rev for rev, additive in newer.items() if not additive)
        head = self.head_revision()
        if current not in newer or breaking:
            why = (
                f"revision(s) {', '.join(breaking)} changed what this version reads"
                if breaking
                else "it records no history of its newer migrations"
            )
            raise SchemaTooNew(
                f"the database is at schema {current}, which this kiosk version (head {head}) "
                f"cannot read: {why}"
            )
        return sorted(newer)

    @contextlib.contextmanager
    def _migration_lock(self) -> Iterator[None]:
        """PostgreSQL: an advisory lock held for the whole upgrade (released by the server if we die).

        SQLite needs none: each migration transaction starts with BEGIN IMMEDIATE."""
        if self.is_sqlite:
            yield
            return
        try:
            conn = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        except OperationalError as err:
            raise StorageError(f"cannot open the database: {err.orig}") from err
        try:
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": MIGRATION_LOCK_KEY})
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": MIGRATION_LOCK_KEY})
        finally:
            conn.close()

    def dispose(self) -> None:
        self.engine.dispose()


def _known(script: ScriptDirectory, rev: str) -> bool:
    try:
        script.get_revision(rev)
        return True
    except Exception:  # alembic raises several types for an unknown revision
        return False
