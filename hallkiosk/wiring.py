"""Build the kiosk from its configuration: storage, secret, lock buses, card readers, platform.

Drivers are chosen by name from the config; a simulator is never a silent
fallback: it is chosen by the config ("sim") and announced in the log.
"""

from __future__ import annotations

import logging
from functools import cached_property
from typing import TYPE_CHECKING, Any

from hallkiosk.instance import InstanceLock
from hallkiosk.simulators import Simulators, simulated_parts
from kiosk.audit import append as audit_append
from kiosk.clock import Clock, SystemClock
from kiosk.config import Config
from kiosk.datadir import open_database
from kiosk.hall_secret import open_hall_secret
from kiosk.ports import CardReader, LockBus, Platform
from kiosk.storage.db import Database

if TYPE_CHECKING:
    from drivers.lockboard.sim import SimLockBoard

log = logging.getLogger(__name__)


class App:
    """Everything one kiosk process uses, built lazily so a CLI command opens only what it needs."""

    def __init__(self, cfg: Config, clock: Clock | None = None) -> None:
        self.cfg = cfg
        self.clock = clock or SystemClock(cfg.kiosk.tz)
        self._closers: list[Any] = []
        self.instance = InstanceLock(cfg.data_dir)
        self.sims = Simulators()  # filled as simulated parts are built

    @cached_property
    def db(self) -> Database:
        # Checked against the data directory's marker first: a lost database is refused, never re-created empty.
        return open_database(self.cfg)

    @cached_property
    def secret(self) -> bytes:
        # The hall's one secret, checked against the fingerprint in the database (kiosk.hall_secret).
        return open_hall_secret(self.cfg, self.db)

    def audit(self, actor: str, action: str, subject: str = "", **detail: Any) -> None:
        """Write one audit record in its own transaction."""
        with self.db.transaction() as s:
            audit_append(s, self.clock.now(), actor, action, subject, **detail)

    @cached_property
    def buses(self) -> dict[str, LockBus]:
        from drivers.lockboard import build_bus

        self.instance.acquire()  # before any door can move: one owner per kiosk
        from kiosk.cabinet_owners import claim

        claim(self.db, self.cfg)  # and one kiosk per cabinet, before a compartment is synced
        out: dict[str, LockBus] = {}
        by_url: dict[str, LockBus] = {}
        for cab in self.cfg.cabinets:
            if cab.bus != "sim" and cab.bus in by_url:
                # Cabinets chained on one RS-485 bus share its one port (the config made them agree on it).
                out[cab.id] = by_url[cab.bus]
                continue
            built = build_bus(cab)
            bus = built.part
            by_url[cab.bus] = bus
            self._closers.append(bus)
            out[cab.id] = bus
            if built.sim is not None:
                self._seed_sim(cab.id, built.sim)
                self.sims.boards[cab.id] = built.sim
        return out

    def _seed_sim(self, cabinet_id: str, sim: SimLockBoard) -> None:
        """A simulated cabinet starts with what the database says is inside, as a real one would after a restart."""
        from sqlalchemy import select

        from kiosk.cabinet.states import OCCUPIED
        from kiosk.storage.models import Compartment

        with self.db.transaction() as s:
            full = s.execute(
                select(Compartment.board, Compartment.channel).where(
                    Compartment.cabinet_id == cabinet_id, Compartment.state == OCCUPIED
                )
            ).all()
        for board, channel in full:
            if board >= 0:
                sim.put_item(board, channel)

    @cached_property
    def card_readers(self) -> list[CardReader]:
        from drivers.cardreader import build_reader

        self.instance.acquire()
        readers: list[CardReader] = []
        for rc in self.cfg.card_readers:
            built = build_reader(rc)
            readers.append(built.part)
            self._closers.append(built.part)
            if built.sim is not None:
                self.sims.readers[built.part.name] = built.sim
        return readers

    @cached_property
    def platform(self) -> Platform:
        from backend_client import build_platform

        built = build_platform(
            self.cfg.platform, kiosk_id=self.cfg.kiosk.id, password=self.cfg.platform_password()
        )
        platform = built.part
        if hasattr(platform, "close"):
            self._closers.append(platform)
        self.sims.platform = built.sim
        return platform

    @property
    def simulated(self) -> list[str]:
        """Which parts run on simulators (for the log and the SIMULATED HARDWARE band)."""
        return simulated_parts(self.cfg)

    def close(self) -> None:
        for c in reversed(self._closers):
            try:
                c.close()
            except Exception:  # closing must never mask the real outcome
                log.exception("error while closing %r", c)
        self._closers.clear()
        self.instance.release()
        if "db" in self.__dict__:
            self.db.dispose()
