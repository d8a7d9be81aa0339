"""Fixtures for the 1.1 core services: the real platform simulator over HTTP, the production client, the outbox."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from backend_client.sim import PlatformSim
from tests.support.platform import (  # noqa: F401 - fixtures, used by name
    KIOSK,
    PASSWORD,
    USER,
    catalog,
    client,
    make_client,
    pcfg,
    real_clock,
    sender,
    start_sim,
)


@pytest.fixture
def sim() -> Iterator[PlatformSim]:
    s = start_sim()
    yield s
    s.stop()
