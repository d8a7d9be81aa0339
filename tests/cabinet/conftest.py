"""Cabinet fixtures: the real SerialLockBus talking to the shipped SimLockBoard through a pty."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from drivers.lockboard import SerialLockBus
from drivers.lockboard.sim import SimLockBoard
from kiosk.cabinet import Cabinet
from kiosk.clock import FakeClock
from kiosk.config import CabinetConfig
from kiosk.storage.db import Database
from tests.cabinet.cabinet_support import (
    CAB_ID,
    KIOSK_ID,
    FakePlatform,
    cab_config,
    make_bus,
    make_cabinet,
    make_sim,
)
from tests.conftest import init_kiosk
from tests.support.config import write_config


@pytest.fixture
def cab_cfg() -> CabinetConfig:
    return cab_config()


@pytest.fixture
def sim_pty(cab_cfg: CabinetConfig) -> Iterator[tuple[SimLockBoard, str]]:
    sim, path = make_sim(cab_cfg)
    yield sim, path
    sim.stop()


@pytest.fixture
def sim(sim_pty: tuple[SimLockBoard, str]) -> SimLockBoard:
    return sim_pty[0]


@pytest.fixture
def bus(cab_cfg: CabinetConfig, sim_pty: tuple[SimLockBoard, str]) -> Iterator[SerialLockBus]:
    b = make_bus(cab_cfg, sim_pty[1])
    yield b
    b.close()


@pytest.fixture
def platform() -> FakePlatform:
    return FakePlatform()


@pytest.fixture
def cabinet(
    db: Database, bus: SerialLockBus, cab_cfg: CabinetConfig, clock: FakeClock, platform: FakePlatform
) -> Cabinet:
    cab = make_cabinet(db, bus, cab_cfg, clock, platform=platform)
    cab.start()
    return cab


@pytest.fixture
def pty_toml(tmp_path: Path, db_url: str, cab_cfg, sim_pty) -> Path:
    """The kiosk's config with its lock bus on the simulator's pty (the CLI opens it; the test's bus must not)."""
    comps = [
        {"label": c.label, "size": c.size, "board": c.board, "channel": c.channel}
        for c in cab_cfg.compartments
    ]
    p = write_config(
        tmp_path,
        kiosk={"id": KIOSK_ID},
        storage={"url": db_url},
        cabinets=[
            {
                "id": CAB_ID,
                "bus": sim_pty[1],
                "family": "kerong-cu",
                "boards": [0],
                "reply_timeout_s": 0.3,
                "open_timeout_s": 0.4,
                "retries": 1,
                "compartments": comps,
            }
        ],
    )
    init_kiosk(p)
    return p
