"""Fixtures for the outbox tests: the real platform simulator over HTTP (no demo data) and the production client."""

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
    s = start_sim(seed_demo=False)
    yield s
    s.stop()
