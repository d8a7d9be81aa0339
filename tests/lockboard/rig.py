"""Shared test parts: short timeouts, board addresses, and the Rig (a simulator plus the driver on it)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from drivers.lockboard.bus import SerialLockBus
from drivers.lockboard.frames import Family
from drivers.lockboard.sim import SimLockBoard

# Short timeouts keep the suite fast; the family defaults are tested separately.
FAST: dict[str, Any] = {
    "reply_timeout_s": 0.1,
    "open_timeout_s": 0.3,
    "open_poll_interval_s": 0.01,
    "retries": 1,
}
BOARDS: dict[str, tuple[int, int]] = {"kerong-cu": (0, 1), "generic-8a": (1, 2)}
ABSENT: dict[str, int] = {"kerong-cu": 7, "generic-8a": 9}


@dataclass
class Rig:
    """One simulated bus and the driver on it."""

    family: Family
    sim: SimLockBoard
    bus: SerialLockBus
    a: int  # first board
    b: int  # second board
    where: str


RigFactory = Callable[..., Rig]
