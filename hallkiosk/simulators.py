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


@dataclass
class Simulators:
    """Simulators by what they stand in for, filled as the parts are built (a part not built yet has none here)."""

    boards: dict[str, SimLockBoard] = field(default_factory=dict)  # cabinet id -> its simulated lock boards
    readers: dict[str, Ga467Sim] = field(default_factory=dict)  # reader name -> the GA 467 simulator it reads
    platform: PlatformSim | None = None

    def card(self) -> tuple[str, Ga467Sim] | None:
        """The first simulated card reader's name and simulator (where the demo card goes), or None."""
        return next(iter(self.readers.items()), None)
