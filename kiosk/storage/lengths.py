"""Text lengths checked before the database, the same on SQLite and PostgreSQL.

SQLite stores 100,000 characters in a ``VARCHAR(64)``; PostgreSQL refuses them with
an error (formerly a traceback printing the SQL parameters, a masked ID among them).
Every flush is checked here first: a value longer than its column is refused with
:class:`~kiosk.errors.InputTooLong` naming the column and the limit, never the value;
only *derived* masked forms (columns named ``*_masked``) are cut to fit, since they
are made by the kiosk from a longer original that is stored as a hash.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import String, event, inspect
from sqlalchemy.orm import Session, sessionmaker

from kiosk.errors import InputTooLong

DERIVED_SUFFIX = "_masked"


def _check(session: Session, _ctx: Any, _instances: Any) -> None:
    for obj in (*session.new, *session.dirty):
        mapper = inspect(obj).mapper
        for attr in mapper.column_attrs:
            col = attr.columns[0]
            if not isinstance(col.type, String) or not col.type.length:
                continue
            value = getattr(obj, attr.key, None)
            if not isinstance(value, str) or len(value) <= col.type.length:
                continue
            if col.name.endswith(DERIVED_SUFFIX):
                setattr(obj, attr.key, value[: col.type.length])
                continue
            raise InputTooLong(f"{col.table.name}.{col.name}", col.type.length, len(value))


def install(factory: sessionmaker[Session]) -> None:
    event.listen(factory, "before_flush", _check)
