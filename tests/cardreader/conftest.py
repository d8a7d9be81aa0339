"""Fixtures for the card reader tests: a private pcscd with the vpcd driver, event collection.

How the private pcscd works (mount namespace + PCSCLITE_CSOCK_NAME): see drivers/cardreader/vpcd_daemon.py.
"""

from __future__ import annotations

import os
import queue
import time
from collections.abc import Iterator

import pytest

from drivers.cardreader.vpcd_daemon import (  # noqa: F401 - re-exported for the test modules
    READER0,
    READER1,
    PrivatePcscd,
    start_private,
    wait_card_state,
)
from kiosk.ports import CardEvent


@pytest.fixture(scope="session")
def pcscd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrivatePcscd]:
    """A private pcscd with vpcd for the whole session; FAILS (not skips) under CI when it cannot run."""
    try:
        daemon = start_private(tmp_path_factory.mktemp("pcscd"))
    except (RuntimeError, OSError) as err:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"cannot start a private pcscd with vsmartcard-vpcd: {err}")
        pytest.skip(f"no private pcscd: {err}")
    yield daemon
    daemon.stop()


class Events:
    """Collects card events from a driver thread; ``wait_for`` returns the first of a kind."""

    def __init__(self) -> None:
        self.q: queue.Queue[CardEvent] = queue.Queue()
        self.seen: list[CardEvent] = []

    def __call__(self, ev: CardEvent) -> None:
        self.q.put(ev)

    def wait_for(self, kind: str, timeout_s: float = 5.0) -> CardEvent:
        deadline = time.monotonic() + timeout_s
        for ev in self.seen:
            if ev.kind == kind:
                self.seen.remove(ev)
                return ev
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(
                    f"no {kind!r} event within {timeout_s} s; saw {[e.kind for e in self.seen]}"
                )
            try:
                ev = self.q.get(timeout=left)
            except queue.Empty:
                continue
            if ev.kind == kind:
                return ev
            self.seen.append(ev)

    def kinds(self, settle_s: float = 0.0) -> list[str]:
        time.sleep(settle_s)
        while not self.q.empty():
            self.seen.append(self.q.get())
        return [e.kind for e in self.seen]


@pytest.fixture
def events() -> Events:
    return Events()
