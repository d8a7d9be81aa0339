"""Lock-control boards on RS-485: the codec, the serial bus driver and the shipped simulator."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from drivers.lockboard.bus import SerialLockBus
from drivers.lockboard.settings import FAMILY_DEFAULTS, BusSettings
from kiosk.config import CabinetConfig
from kiosk.ports import Built, LockBus

if TYPE_CHECKING:
    from drivers.lockboard.sim import SimLockBoard

__all__ = ["BusSettings", "SerialLockBus", "build_bus"]

log = logging.getLogger(__name__)


def build_bus(cab: CabinetConfig) -> Built[LockBus, SimLockBoard]:
    """The cabinet's lock bus: a SerialLockBus on ``cab.bus``, or on a simulator's pty (returned with it) for "sim".

    The bus stops its simulator when it closes."""
    if cab.bus != "sim":
        return Built(SerialLockBus.from_config(cab))
    from drivers.lockboard.sim import SimLockBoard

    settings = BusSettings.from_config(cab)
    # A generic-8a board answers an open after ~1 s; keep that inside a shortened open timeout.
    reply_delay = min(FAMILY_DEFAULTS[cab.family].open_reply_delay_s, settings.open_timeout_s / 2)
    sim = SimLockBoard.from_config(cab, open_reply_delay_s=reply_delay, baud=settings.baud)
    path = sim.serve_pty()
    try:
        bus = SerialLockBus(path, settings)  # the real driver, through a real pseudo-terminal
    except BaseException:
        sim.stop()
        raise
    bus.simulated = True
    bus.add_close_hook(sim.stop)
    log.warning(
        "SIMULATED lock boards: cabinet %s (%s boards %s) runs on the built-in simulator at %s",
        cab.id,
        cab.family,
        list(cab.boards),
        path,
    )
    return Built(bus, sim)
