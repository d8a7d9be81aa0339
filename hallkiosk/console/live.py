"""Live pages: one thread per console process watches the database's change marks and tells every open page.

The kiosks are other processes (on one SQLite file or one PostgreSQL), so nothing in this process knows when
they write. :func:`kiosk.changes.marks` is two index lookups; polling it every ``poll_s`` (0.5 s) costs the
database one tiny query per interval whatever the number of open pages, and puts a kiosk's change on
every page within ``poll_s`` + one fragment fetch (measured in tests/console, and by bench_console in phase 2).
Pages get server-sent events naming the topics that changed and re-fetch those regions; a page whose
event stream breaks falls back to re-fetching every 5 s until it reconnects.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

from kiosk.changes import Marks, marks
from kiosk.storage.db import Database

log = logging.getLogger(__name__)

ALL_TOPICS = ("kiosks", "cabinets", "tasks", "parcels", "audit")
KIOSK_TICK_S = 5.0  # online/offline ages with time alone: kiosk rows are re-sent at least this often
KEEPALIVE_S = 15.0
REWARM_S = 600.0  # a shared page nobody asked for in ten minutes is not re-built on every change


class ChangeFeed:
    def __init__(self, db: Database, *, poll_s: float = 0.5) -> None:
        self.db = db
        self.poll_s = poll_s
        self._subs: set[tuple[asyncio.AbstractEventLoop, asyncio.Queue[str]]] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.last: Marks | None = None
        self.polls = 0
        # Called (on this thread) when the audit seq moved, before the pages are told: PerChange.rewarm.
        self.on_change: Callable[[], None] | None = None

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="console-changes", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)

    def _loop(self) -> None:
        last_tick = time.monotonic()
        failing = False
        while not self._stop.wait(self.poll_s):
            try:
                m = marks(self.db)
            except Exception as err:  # the database may be restarting: say so once, keep trying
                if not failing:
                    log.warning("console: cannot read change marks: %s", err)
                failing = True
                continue
            failing = False
            self.polls += 1
            topics: set[str] = set()
            prev = self.last
            if prev is not None and m.audit_seq != prev.audit_seq:
                topics.update(("cabinets", "tasks", "parcels", "audit"))
            if prev is not None and (m.kiosks_seen, m.kiosks) != (prev.kiosks_seen, prev.kiosks):
                topics.add("kiosks")
            now = time.monotonic()
            if now - last_tick >= KIOSK_TICK_S:
                topics.add("kiosks")
                last_tick = now
            self.last = m
            if "audit" in topics and self.on_change is not None:
                try:
                    self.on_change()
                except Exception:  # a read model that fails to build is built again on request
                    log.exception("console: re-building shared pages failed")
            if topics:
                self.publish(sorted(topics))

    def publish(self, topics: list[str]) -> None:
        msg = json.dumps({"topics": topics, "audit_seq": self.last.audit_seq if self.last else 0})
        with self._lock:
            subs = list(self._subs)
        for loop, q in subs:
            try:
                loop.call_soon_threadsafe(q.put_nowait, msg)
            except RuntimeError:  # that page's loop is closed
                pass

    async def stream(self) -> AsyncIterator[str]:
        """Server-sent events for one page until it goes away."""
        q: asyncio.Queue[str] = asyncio.Queue(maxsize=100)
        sub = (asyncio.get_running_loop(), q)
        with self._lock:
            self._subs.add(sub)
        try:
            yield "retry: 2000\n\n"
            while not self._stop.is_set():
                try:
                    msg = await asyncio.wait_for(q.get(), KEEPALIVE_S)
                except TimeoutError:
                    yield ": keepalive\n\n"
                    continue
                yield f"event: change\ndata: {msg}\n\n"
        finally:
            with self._lock:
                self._subs.discard(sub)


class PerChange:
    """A read model built once per change of the hall, shared by every page that asks for it.

    Every open page re-fetches its region when the feed says something changed, so ten tablets on the
    cabinets page would build the same 2,000-compartment grid ten times per kiosk event. Here the first
    request after a change builds it and the others reuse it, as long as the database's change marks
    (:func:`kiosk.changes.marks`, read afresh on every request: two index lookups) are what they were when
    it was built, and for at most ``max_age_s`` (what depends on the time alone, an overdue parcel, moves
    on without an audited change). The mark is the audit log's newest seq: every change to a compartment,
    parcel or task is audited in its own transaction; kiosk status rows are not (they move every few seconds
    and no cabinet read model depends on them). It is read *before* building, so a value is never older than
    its key claims; a change committed during a build only makes the next request build again.
    """

    def __init__(self, db: Database, *, max_age_s: float = 5.0) -> None:
        self.db = db
        self.max_age_s = max_age_s
        self._entries: dict[str, tuple[int, float, Any]] = {}
        self._asked: dict[str, tuple[Callable[[], Any], float]] = {}
        self._lock = threading.Lock()
        # One build per read model at a time: a page asking while the change feed re-warms it (or while another
        # page builds it) waits for that build instead of starting a second one beside it (two 2,000-compartment
        # builds at once take twice as long each on a 2-core hall PC).
        self._building: dict[str, threading.Lock] = {}
        self.builds = 0

    def rewarm(self) -> None:
        """Build again what pages asked for in the last ``REWARM_S`` (the change feed calls this when the
        audit seq moves, before it tells the pages): the pages' re-fetch then finds it built."""
        now = time.monotonic()
        with self._lock:
            wanted = [(n, b) for n, (b, at) in self._asked.items() if now - at < REWARM_S]
        for name, build in wanted:
            self.get(name, build, asked=False)

    def get(self, name: str, build: Callable[[], Any], *, asked: bool = True) -> Any:
        key = marks(self.db).audit_seq
        with self._lock:
            if asked:
                self._asked[name] = (build, time.monotonic())
            building = self._building.setdefault(name, threading.Lock())
        hit = self._fresh(name, key)
        if hit is not None:
            return hit
        with building:
            hit = self._fresh(name, key)  # built meanwhile by the build this one waited for
            if hit is not None:
                return hit
            at = time.monotonic()
            value = build()
            self.builds += 1
            with self._lock:
                self._entries[name] = (key, at, value)
            return value

    def _fresh(self, name: str, key: int) -> Any | None:
        """The value built for ``key`` or a later audit seq (its key was read before its build), if young enough."""
        with self._lock:
            hit = self._entries.get(name)
        if hit is not None and hit[0] >= key and time.monotonic() - hit[1] < self.max_age_s:
            return hit[2]
        return None
