"""Build the kiosk from its configuration: storage, secret, lock buses, card readers, platform.

Drivers are chosen by name from the config; a simulator is never a silent
fallback: it is chosen by the config ("sim") and announced in the log.
"""

from __future__ import annotations

import logging
from functools import cached_property
from typing import Any

from hallkiosk.instance import InstanceLock
from kiosk.audit import append as audit_append
from kiosk.clock import Clock, SystemClock
from kiosk.config import Config
from kiosk.datadir import open_database
from kiosk.hall_secret import open_hall_secret
from kiosk.ports import CardReader, LockBus, Platform
from kiosk.storage.db import Database

log = logging.getLogger(__name__)


class App:
    """Everything one kiosk process uses, built lazily so a CLI command opens only what it needs."""

    def __init__(self, cfg: Config, clock: Clock | None = None) -> None:
        self.cfg = cfg
        self.clock = clock or SystemClock(cfg.kiosk.tz)
        self._closers: list[Any] = []
        self.instance = InstanceLock(cfg.data_dir)

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
            bus = build_bus(cab)
            by_url[cab.bus] = bus
            self._closers.append(bus)
            out[cab.id] = bus
            if getattr(bus, "sim", None) is not None:
                self._seed_sim(cab.id, bus.sim)  # type: ignore[attr-defined]
        return out

    def _seed_sim(self, cabinet_id: str, sim: Any) -> None:
        """A simulated cabinet starts with what the database says is inside, as a real one would after a restart."""
        from sqlalchemy import select

        from kiosk.cabinet.states import OCCUPIED
        from kiosk.storage.models import Compartment

        with self.db.transaction() as s:
            full = s.execute(select(Compartment.board, Compartment.channel)
                             .where(Compartment.cabinet_id == cabinet_id, Compartment.state == OCCUPIED)).all()
        for board, channel in full:
            if board >= 0:
                sim.put_item(board, channel)

    @cached_property
    def card_readers(self) -> list[CardReader]:
        from drivers.cardreader import build_reader

        self.instance.acquire()
        readers = [build_reader(rc) for rc in self.cfg.card_readers]
        self._closers.extend(r for r in readers if hasattr(r, "close"))
        return readers

    @cached_property
    def platform(self) -> Platform:
        from backend_client import build_platform

        platform = build_platform(self.cfg.platform, kiosk_id=self.cfg.kiosk.id, password=self.cfg.platform_password())
        if hasattr(platform, "close"):
            self._closers.append(platform)
        return platform

    @property
    def simulated(self) -> list[str]:
        """Which parts run on simulators (for the log and the SIMULATED HARDWARE band)."""
        parts = [f"lock bus {c.id}" for c in self.cfg.cabinets if c.bus == "sim"]
        parts += [f"card reader {r.name or r.kind}" for r in self.cfg.card_readers if r.kind == "sim"]
        if self.cfg.platform.endpoint == "sim":
            parts.append("platform")
        if self.cfg.printer.kind == "sim":
            parts.append("printer")
        return parts

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
