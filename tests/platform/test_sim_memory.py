"""The platform simulator runs for months in a demo: what it remembers has an owner and a bound (issue 16)."""

from __future__ import annotations

import datetime as dt

import pytest

from backend_client.client import PlatformClient
from backend_client.sim import DEMO_KIOSK_ID, DEMO_PASSWORD, DEMO_USERNAME, PlatformSim
from backend_client.sim import server as sim_server
from kiosk.clock import FakeClock


def test_nonces_are_forgotten_after_fifteen_minutes() -> None:
    clock = FakeClock(dt.datetime.now(dt.UTC))
    with (
        PlatformSim(clock=clock) as sim,
        PlatformClient(sim.url, DEMO_USERNAME, DEMO_PASSWORD, DEMO_KIOSK_ID, clock=clock) as c,
    ):
        for _ in range(5):
            c.heartbeat("1", [])
        assert sim.tokens.remembered() == 5
        clock.advance(14 * 60)
        c.heartbeat("1", [])
        assert sim.tokens.remembered() == 6, "a nonce younger than 15 minutes is still refused if replayed"
        clock.advance(2 * 60)
        c.heartbeat("1", [])
        assert sim.tokens.remembered() == 2  # the five from 16 minutes ago are gone


def test_request_log_keeps_the_newest(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sim_server, "REQUEST_LOG", 20)
    with PlatformSim() as sim, PlatformClient(sim.url, DEMO_USERNAME, DEMO_PASSWORD, DEMO_KIOSK_ID) as c:
        for i in range(60):
            c.heartbeat(str(i), [])
        log = sim.requests()
        assert 20 <= len(log) <= 22
        assert log[-1].operation == "Heartbeat" and sim.count("Heartbeat") == len(log)
