"""The typed registry of the simulators behind this kiosk's parts: the demo's hands and the fault switches.

The builders (``build_bus``, ``build_reader``, ``build_platform``) return each part with its simulator; the
composition root (:class:`hallkiosk.wiring.App`) files the simulator here as it builds the part. Nothing else
asks a part for a simulator. On real hardware every entry is empty.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from backend_client.sim import PlatformSim
    from drivers.cardreader.ga467_sim import Ga467Sim
    from drivers.lockboard.sim import SimLockBoard
    from kiosk.config import Config


def simulated_parts(cfg: Config) -> list[str]:
    """Which parts the config puts on simulators (the log line and the SIMULATED HARDWARE band). From the config
    alone, so the band is on the very first frame, before any part is built."""
    parts = [f"lock bus {c.id}" for c in cfg.cabinets if c.bus == "sim"]
    parts += [f"card reader {r.name or r.kind}" for r in cfg.card_readers if r.kind == "sim"]
    if cfg.platform.endpoint == "sim":
        parts.append("platform")
    if cfg.printer.kind == "sim":
        parts.append("printer")
    return parts


@dataclass
class Simulators:
    """Simulators by what they stand in for, filled as the parts are built (a part not built yet has none here)."""

    boards: dict[str, SimLockBoard] = field(default_factory=dict)  # cabinet id -> its simulated lock boards
    readers: dict[str, Ga467Sim] = field(default_factory=dict)  # reader name -> the GA 467 simulator it reads
    platform: PlatformSim | None = None

    def card(self) -> tuple[str, Ga467Sim] | None:
        """The first simulated card reader's name and simulator (where the demo card goes), or None."""
        return next(iter(self.readers.items()), None)
