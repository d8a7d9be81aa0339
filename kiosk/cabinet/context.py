"""What every part of the cabinet shares: the database, the buses, the config, the clock, and the little
per-process memory of doors. Parts (the door engine, the flow policies, the starters, the staff desk,
allocation, reconciliation) depend on the narrow :class:`Context` protocol, never on each other's privates.

No serial request is ever sent inside a database transaction: a silent board would hold SQLite's write lock
(or PostgreSQL's audit lock) for its whole timeout. Each step reads what it needs in :meth:`Context.tx`,
commits, then talks to the board through :meth:`Context.bus`, then records the answer in a new transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Protocol

from sqlalchemy.orm import Session

from kiosk.cabinet.codes import CodeGuard
from kiosk.clock import Clock
from kiosk.config import CabinetConfig, PickupConfig
from kiosk.errors import LockBoardError
from kiosk.ports import LockBus, Platform
from kiosk.storage.db import Database


class Context(Protocol):
    """The narrow interface the cabinet's parts are written against."""

    db: Database
    buses: dict[str, LockBus]
    cabinets: dict[str, CabinetConfig]
    pickup: PickupConfig
    clock: Clock
    secret: bytes
    kiosk_id: str
    platform: Platform | None
    guard: CodeGuard
    close_poll_interval_s: float
    open_since: dict[int, float]
    found_open: set[int]
    board_tries: dict[tuple[str, int | None], float]
    unknown_doors: dict[tuple[str, int, int], str]

    def tx(self) -> AbstractContextManager[tuple[Session, dt.datetime]]: ...

    def bus(self, cabinet_id: str) -> LockBus: ...

    def close_timeout_s(self, cabinet_id: str) -> float: ...


class CabinetContext:
    """The one :class:`Context` a :class:`kiosk.cabinet.Cabinet` builds and hands to its parts."""

    def __init__(
        self,
        db: Database,
        buses: Mapping[str, LockBus],
        cabinets: Sequence[CabinetConfig],
        pickup: PickupConfig,
        clock: Clock,
        secret: bytes,
        kiosk_id: str,
        platform: Platform | None = None,
        *,
        close_poll_interval_s: float = 0.2,
    ) -> None:
        self.db = db
        self.buses = dict(buses)
        self.cabinets = {c.id: c for c in cabinets}
        self.pickup = pickup
        self.clock = clock
        self.secret = secret
        self.kiosk_id = kiosk_id
        self.platform = platform
        self.close_poll_interval_s = close_poll_interval_s
        self.guard = CodeGuard(pickup, kiosk_id)
        # flow id -> monotonic time this process saw its door open: how long a door stands open is measured on
        # the monotonic clock, so an NTP step of the wall clock neither flags every open door at once nor never.
        self.open_since: dict[int, float] = {}
        # Flows whose door start-up found open (kiosk.cabinet.reconcile): decided by the start-up table once shut.
        self.found_open: set[int] = set()
        # (cabinet, board) -> monotonic time its "not answering" task was last re-checked (kiosk.cabinet.board_watch)
        self.board_tries: dict[tuple[str, int | None], float] = {}
        # Doors whose state is unknown (only garbled replies after their unlock): cabinet, board, channel -> label.
        # No other door opens until each reads valid again (then it is known, open or shut).
        self.unknown_doors: dict[tuple[str, int, int], str] = {}

    @contextmanager
    def tx(self) -> Iterator[tuple[Session, dt.datetime]]:
        with self.db.transaction() as s:
            yield s, self.clock.now()

    def bus(self, cabinet_id: str) -> LockBus:
        try:
            return self.buses[cabinet_id]
        except KeyError:
            raise LockBoardError(f"no lock bus is configured for cabinet {cabinet_id}") from None

    def close_timeout_s(self, cabinet_id: str) -> float:
        cab = self.cabinets.get(cabinet_id)
        return cab.close_timeout_s if cab else 120.0
