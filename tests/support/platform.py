"""The platform simulator over real HTTP and the production client, for the folders that test core services on it.

A conftest imports the fixtures it uses (``from tests.support.platform import client, ...``) and defines ``sim``
with :func:`start_sim` (with or without the demo data)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from backend_client.client import PlatformClient
from backend_client.sim import PlatformSim
from kiosk.catalog import CatalogService
from kiosk.clock import Clock, SystemClock
from kiosk.config import PlatformConfig
from kiosk.outbox_sender import OutboxSender
from kiosk.storage.db import Database

USER, PASSWORD, KIOSK = "kiosk-test", "test-password-not-a-secret", "LS-HALL-01"


def start_sim(*, seed_demo: bool = True) -> PlatformSim:
    """A simulator that knows the test kiosk's account, listening on a free loopback port."""
    return PlatformSim(users={USER: (PASSWORD, [KIOSK])}, seed_demo=seed_demo).start()


@pytest.fixture
def pcfg() -> PlatformConfig:
    """Short timeouts and backoff so outage tests take seconds, not minutes."""
    return PlatformConfig(
        timeout_s=2, connect_timeout_s=1, outbox_backoff_initial_s=0.05, outbox_backoff_max_s=0.4
    )


@pytest.fixture
def make_client(sim: PlatformSim, pcfg: PlatformConfig) -> Iterator[Callable[..., PlatformClient]]:
    made: list[PlatformClient] = []

    def make(
        version: str = "1.1", *, password: str = PASSWORD, timeout_s: float | None = None
    ) -> PlatformClient:
        c = PlatformClient(
            sim.url,
            USER,
            password,
            KIOSK,
            timeout_s=timeout_s or pcfg.timeout_s,
            connect_timeout_s=pcfg.connect_timeout_s,
            interface_version=version,
        )  # type: ignore[arg-type]
        made.append(c)
        return c

    yield make
    for c in made:
        c.close()


@pytest.fixture
def client(make_client: Callable[..., PlatformClient]) -> PlatformClient:
    return make_client()


@pytest.fixture
def real_clock() -> Clock:
    return SystemClock()


@pytest.fixture
def catalog(db: Database, client: PlatformClient, real_clock: Clock) -> CatalogService:
    return CatalogService(db, client, real_clock)


@pytest.fixture
def sender(
    db: Database,
    client: PlatformClient,
    secret: bytes,
    real_clock: Clock,
    pcfg: PlatformConfig,
    catalog: CatalogService,
) -> Iterator[OutboxSender]:
    s = OutboxSender(db, client, secret, real_clock, pcfg, on_unknown_matter=catalog.refresh)
    yield s
    s.stop()
