"""Fixtures: a real PlatformSim on 127.0.0.1 and the production client talking to it over HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from backend_client.client import PlatformClient
from backend_client.sim import DEMO_KIOSK_ID, DEMO_PASSWORD, DEMO_USERNAME, PlatformSim


@pytest.fixture
def sim() -> Iterator[PlatformSim]:
    s = PlatformSim().start()
    yield s
    s.stop()


@pytest.fixture
def client(sim: PlatformSim) -> Iterator[PlatformClient]:
    # Short timeouts keep the timeout tests fast; nothing else comes near them on loopback.
    c = PlatformClient(
        sim.url, DEMO_USERNAME, DEMO_PASSWORD, DEMO_KIOSK_ID, timeout_s=1.0, connect_timeout_s=1.0
    )
    yield c
    c.close()


@pytest.fixture
def sent(client: PlatformClient) -> list[bytes]:
    """The raw bodies the client put on the wire, captured by a requests hook on its own session."""
    bodies: list[bytes] = []
    client._session.hooks["response"].append(lambda r, *a, **k: bodies.append(r.request.body))
    return bodies
