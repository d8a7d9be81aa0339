"""Lock-board family facts (docs/spec hardware lockboards.md), in one place.

Read by the config (address and channel checks), the driver (defaults, frame limits, which commands exist) and
the diagnostics (which addresses to scan, default timeouts). Pure data: the core may import it (no serial code).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Family = Literal["kerong-cu", "generic-8a"]
Command = Literal["status", "unlock", "unlock_all", "open", "query_one", "query_all"]


@dataclass(frozen=True)
class FamilyFacts:
    """What one family of boards is: addresses, channels, timing defaults and its command set."""

    name: Family
    min_address: int
    max_address: int
    channel_counts: tuple[int, ...]  # channels a board of this family may have
    max_channels: int  # the most a frame can address
    baud: int
    reply_timeout_s: float
    open_timeout_s: float
    open_reply_delay_s: float  # how long the board takes to answer an open (the simulator models it)
    commands: frozenset[Command]
    has_item_sensors: bool  # whether the family reports an item sensor at all

    @property
    def addresses(self) -> range:
        return range(self.min_address, self.max_address + 1)

    def can(self, command: Command) -> bool:
        return command in self.commands


KERONG_CU = FamilyFacts(
    name="kerong-cu",
    min_address=0,
    max_address=15,
    channel_counts=(16,),
    max_channels=16,
    baud=19200,
    reply_timeout_s=1.0,
    open_timeout_s=1.5,
    open_reply_delay_s=0.0,
    commands=frozenset({"status", "unlock", "unlock_all"}),
    has_item_sensors=True,
)
GENERIC_8A = FamilyFacts(
    name="generic-8a",
    min_address=1,
    max_address=64,
    channel_counts=(12, 16, 24, 48),
    max_channels=48,
    baud=9600,
    reply_timeout_s=0.5,
    open_timeout_s=2.0,
    open_reply_delay_s=1.0,
    commands=frozenset({"open", "query_one", "query_all"}),
    has_item_sensors=False,
)

FAMILY: dict[str, FamilyFacts] = {f.name: f for f in (KERONG_CU, GENERIC_8A)}
FAMILIES: tuple[Family, ...] = (KERONG_CU.name, GENERIC_8A.name)
# The widest limits over every family: what a config field can hold before its family's own range is checked.
MIN_ADDRESS = min(f.min_address for f in FAMILY.values())
MAX_ADDRESS = max(f.max_address for f in FAMILY.values())
MAX_CHANNELS = max(f.max_channels for f in FAMILY.values())
