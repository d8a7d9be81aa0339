"""A cheap change counter over the hall's database, for live pages across processes.

Every change that a page shows is audited in the same transaction (a task raised or resolved, a door, a
parcel, a staff action), so the audit log's newest ``seq`` moves whenever one of them does; kiosk status
rows are not audited (they are written every few seconds) and have their own mark, the newest
``last_seen_at``. Both are single index lookups, so one console process can poll them twice a second
whatever the size of the hall. Works the same on SQLite (several processes on one file) and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select

from kiosk.storage.db import Database
from kiosk.storage.models import AuditRecord, KioskStatus


@dataclass(frozen=True)
class Marks:
    audit_seq: int
    kiosks_seen: dt.datetime | None
    kiosks: int


def marks(db: Database) -> Marks:
    # One short transaction (on SQLite every transaction here is BEGIN IMMEDIATE, held for well under a ms).
    with db.transaction() as s:
        seq = s.execute(select(func.max(AuditRecord.seq))).scalar_one_or_none()
        seen, n = s.execute(select(func.max(KioskStatus.last_seen_at), func.count())).one()
    if isinstance(seen, str):  # SQLite returns max() of a datetime column as its stored text
        seen = dt.datetime.fromisoformat(seen)
    return Marks(audit_seq=int(seq or 0), kiosks_seen=seen, kiosks=int(n))
