"""A simulator of either family served on a real pty, and the real driver opened on it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from drivers.lockboard.bus import SerialLockBus
from drivers.lockboard.frames import FAMILIES, Family
from drivers.lockboard.polarity import Polarity
from drivers.lockboard.settings import BusSettings
from drivers.lockboard.sim import SimLockBoard

from .rig import BOARDS, FAST, Rig, RigFactory


@pytest.fixture(params=FAMILIES)
def family(request: pytest.FixtureRequest) -> Family:
    return request.param


@pytest.fixture
def make_rig(family: Family) -> Iterator[RigFactory]:
    """Build rigs of the test's family; all are stopped afterwards."""
    made: list[Rig] = []

    def make(
        *,
        sim_polarity: Polarity | None = None,
        bus_polarity: Polarity | None = None,
        tcp: bool = False,
        sim_kwargs: dict[str, Any] | None = None,
        **settings: Any,
    ) -> Rig:
        a, b = BOARDS[family]
        kw: dict[str, Any] = {"open_reply_delay_s": 0.02, **(sim_kwargs or {})}
        sim = SimLockBoard(family, [a, b], 16, polarity=sim_polarity, **kw)
        where = sim.serve_tcp(0) if tcp else sim.serve_pty()
        opts = {**FAST, **settings}
        if bus_polarity is not None:
            opts["polarity"] = bus_polarity
        bus = SerialLockBus(where, BusSettings.for_family(family, **opts))
        rig = Rig(family, sim, bus, a, b, where)
        made.append(rig)
        return rig

    yield make
    for rig in made:
        rig.bus.close()
        rig.sim.stop()


@pytest.fixture
def rig(make_rig: RigFactory) -> Rig:
    return make_rig()
