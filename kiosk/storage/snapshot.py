"""Long reads that must neither block the kiosks nor see a half-written moment (the console's audit check).

On SQLite every transaction of :class:`kiosk.storage.db.Database` is ``BEGIN IMMEDIATE`` (a write lock), so a
read of a million audit records through it would hold every kiosk's door and audit writes for its whole
length. A snapshot uses its own read-only connection with a deferred ``BEGIN``: in WAL mode that is a
consistent snapshot taken at its first read, and writers go on. On PostgreSQL: a read-only
``REPEATABLE READ`` transaction, the same guarantee.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session

from kiosk.storage.db import Database

_readers: dict[str, Engine] = {}


def _sqlite_reader(url: str, busy_timeout_ms: int = 5000) -> Engine:
    eng = _readers.get(url)
    if eng is None:
        eng = create_engine(url, connect_args={"timeout": busy_timeout_ms / 1000, "check_same_thread": False})

        @event.listens_for(eng, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA query_only=1")
            cur.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
            cur.close()

        @event.listens_for(eng, "begin")
        def _begin(conn: Any) -> None:
            conn.exec_driver_sql("BEGIN")  # deferred: a read snapshot, no write lock

        _readers[url] = eng
    return eng


@contextlib.contextmanager
def snapshot(db: Database) -> Iterator[Session]:
    """A read-only session over one consistent snapshot of the database."""
    if db.is_sqlite:
        with Session(_sqlite_reader(db.url)) as s:
            try:
                yield s
            finally:
                s.rollback()
        return
    with db.engine.connect() as conn:
        conn = conn.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
        with Session(bind=conn) as s:
            try:
                yield s
            finally:
                s.rollback()
