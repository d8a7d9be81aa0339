"""Kiosk status rows: each kiosk says every few seconds how it is; the console reads who is online.

What a row holds: device health as ``kiosk diag``'s passive checks see it, platform reachability, the
outbox backlog and its oldest row, the software version and which screen is showing (its name only:
never who is using it). ``last_seen_at`` is stamped with the **database's** clock, and online/offline is
judged against the database's clock too, so neither a kiosk's nor the console's clock can make a dead
kiosk look alive (or the other way round); nothing stores an "online" flag.

A kiosk is offline once it has not written for three of its intervals and a little (:func:`offline_after_s`).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kiosk import outbox
from kiosk.platform_models import DeviceHealth
from kiosk.privacy import scrub
from kiosk.storage.db import KIOSK_ID, Database
from kiosk.storage.models import KioskStatus, OutboxMessage

log = logging.getLogger(__name__)

OFFLINE_GRACE_S = 2.0  # a busy database or a slow diagnostics pass may delay one write a little
_RANK = {"OK": 0, "DEGRADED": 1, "FAULT": 2}


def db_now(session: Session) -> dt.datetime:
    """The database server's current time (UTC, aware)."""
    if session.get_bind().dialect.name == "sqlite":
        raw = session.execute(select(func.strftime("%Y-%m-%d %H:%M:%f", "now"))).scalar_one()
        return dt.datetime.fromisoformat(raw).replace(tzinfo=dt.UTC)
    value = session.execute(select(func.clock_timestamp())).scalar_one()
    return value.astimezone(dt.UTC)


@dataclass(frozen=True)
class StatusReport:
    """What one kiosk reports about itself."""

    kiosk_id: str
    hall: str
    software_version: str
    screen: str
    devices: Sequence[DeviceHealth]
    platform_reachable: bool | None
    interval_s: float


@dataclass(frozen=True)
class KioskRow:
    """One kiosk as the console shows it; ``online`` and the ages are computed against the database's clock."""

    kiosk_id: str
    hall: str
    online: bool
    last_seen_at: dt.datetime
    seen_ago_s: float
    software_version: str
    screen: str
    health: str
    devices: tuple[dict[str, Any], ...]
    platform_reachable: bool | None
    outbox_pending: int
    outbox_dead: int
    outbox_oldest_age_s: float | None


def worst(devices: Sequence[DeviceHealth]) -> str:
    return max((d.state for d in devices), key=lambda s: _RANK.get(s, 2), default="OK")


def backlog(session: Session) -> tuple[int, int, dt.datetime | None]:
    """(pending, dead, oldest pending created_at) of this kiosk's own rows (the session's kiosk id)."""
    counts = outbox.counts(session)
    oldest = session.execute(
        select(func.min(OutboxMessage.created_at)).where(
            OutboxMessage.state == outbox.PENDING, outbox.of_kiosk(session.info.get(KIOSK_ID))
        )
    ).scalar_one_or_none()
    return counts.get(outbox.PENDING, 0), counts.get(outbox.DEAD, 0), oldest


class StatusWriter:
    """The kiosk side: :meth:`report` writes (or refreshes) this kiosk's row in one short transaction."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._started: dt.datetime | None = None

    def report(self, r: StatusReport) -> None:
        devices = [
            {"name": d.name, "state": d.state, "detail": scrub(d.detail or "")[:200]} for d in r.devices
        ]
        with self.db.transaction() as s:
            now = db_now(s)
            if self._started is None:
                self._started = now
            pending, dead, oldest = backlog(s)
            row = s.get(KioskStatus, r.kiosk_id, with_for_update=True)
            if row is None:
                row = KioskStatus(kiosk_id=r.kiosk_id)
                s.add(row)
            row.hall = r.hall[:80]
            row.last_seen_at = now
            row.started_at = self._started
            row.software_version = r.software_version[:32]
            row.screen = r.screen[:32]
            row.health = worst(r.devices)
            row.devices = devices
            row.platform_reachable = r.platform_reachable
            row.outbox_pending = pending
            row.outbox_dead = dead
            row.outbox_oldest_at = oldest
            row.interval_s = r.interval_s


def offline_after_s(interval_s: float) -> float:
    return 3 * interval_s + OFFLINE_GRACE_S


def kiosks(db: Database) -> list[KioskRow]:
    """Every kiosk that ever reported, by id, judged online against the database's clock."""
    with db.transaction() as s:
        now = db_now(s)
        rows = s.execute(select(KioskStatus).order_by(KioskStatus.kiosk_id)).scalars().all()
        out = []
        for k in rows:
            ago = max(0.0, (now - k.last_seen_at).total_seconds())
            oldest = (now - k.outbox_oldest_at).total_seconds() if k.outbox_oldest_at else None
            out.append(
                KioskRow(
                    kiosk_id=k.kiosk_id,
                    hall=k.hall,
                    online=ago < offline_after_s(k.interval_s),
                    last_seen_at=k.last_seen_at,
                    seen_ago_s=ago,
                    software_version=k.software_version,
                    screen=k.screen,
                    health=k.health,
                    devices=tuple(k.devices or ()),
                    platform_reachable=k.platform_reachable,
                    outbox_pending=k.outbox_pending,
                    outbox_dead=k.outbox_dead,
                    outbox_oldest_age_s=max(0.0, oldest) if oldest is not None else None,
                )
            )
        return out
