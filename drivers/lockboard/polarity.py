"""Site polarity: what a hook bit, item bit or status byte means on this cabinet (lockboards.md "site setting").

The values come from the configuration (kiosk.config.CabinetConfig), checked by a
technician on the installed hardware; nothing here assumes a wiring.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from drivers.lockboard.frames import (
    G_OPEN_HDR,
    G_QUERY_HDR,
    G_ST_VALUES,
    KR_CHANNELS,
    GenericBoardState,
    GenericLockState,
    KerongStatus,
)
from kiosk.ports import DoorStatus


@dataclass(frozen=True)
class Polarity:
    """The site settings that say what a bit or status byte means on this cabinet."""

    hook_closed_level: int = 1
    item_present_level: int = 1
    has_item_sensors: bool = True
    closed_status: int = 0x11
    lock_reply_headers: tuple[int, ...] = (G_OPEN_HDR, G_QUERY_HDR)

    def __post_init__(self) -> None:
        if self.hook_closed_level not in (0, 1) or self.item_present_level not in (0, 1):
            raise ValueError("hook_closed_level and item_present_level must be 0 or 1")
        if self.closed_status not in G_ST_VALUES:
            raise ValueError("closed_status must be 0x11 or 0x00")

    @property
    def closed_bit(self) -> int:
        """The query-all bit value meaning closed: the bit reads like the ST byte (1 for 11)."""
        return 1 if self.closed_status == 0x11 else 0

    @property
    def open_status(self) -> int:
        """The ST byte meaning open."""
        return 0x00 if self.closed_status == 0x11 else 0x11


def _bit(mask: int, channel: int) -> int:
    return (mask >> (channel - 1)) & 1


def kerong_doors(reply: KerongStatus, pol: Polarity, channels: int = KR_CHANNELS) -> dict[int, DoorStatus]:
    """Every channel of a kerong-cu status reply, translated by the site polarity."""
    return dict(_kerong_doors(reply.board, reply.hooks, reply.sensors, pol, channels))


def generic_door(reply: GenericLockState, pol: Polarity) -> DoorStatus:
    """One generic-8a lock reply, translated (these boards have no item sensors)."""
    return DoorStatus(reply.board, reply.lock, closed=reply.status == pol.closed_status)


def generic_doors(reply: GenericBoardState, pol: Polarity) -> dict[int, DoorStatus]:
    """Every channel of a generic-8a query-all reply, translated."""
    return dict(_generic_doors(reply.board, reply.bits, reply.channels, pol))


# A board reports the same few states all day, and building 16 frozen DoorStatus costs more than the rest of a
# status read's Python: the translated (immutable) doors are kept per raw state, and each caller gets a new dict.
@lru_cache(maxsize=512)
def _kerong_doors(
    board: int, hooks: int, sensors: int, pol: Polarity, channels: int
) -> tuple[tuple[int, DoorStatus], ...]:
    return tuple(
        (
            ch,
            DoorStatus(
                board,
                ch,
                closed=_bit(hooks, ch) == pol.hook_closed_level,
                item_present=(_bit(sensors, ch) == pol.item_present_level) if pol.has_item_sensors else None,
            ),
        )
        for ch in range(1, channels + 1)
    )


@lru_cache(maxsize=512)
def _generic_doors(board: int, bits: int, channels: int, pol: Polarity) -> tuple[tuple[int, DoorStatus], ...]:
    return tuple(
        (ch, DoorStatus(board, ch, closed=_bit(bits, ch) == pol.closed_bit)) for ch in range(1, channels + 1)
    )


def kerong_masks(closed: dict[int, bool], items: dict[int, bool], pol: Polarity) -> tuple[int, int]:
    """Hook and sensor masks a kerong-cu board with this polarity would report (the simulator's side)."""
    hooks = sensors = 0
    for ch, is_closed in closed.items():
        if pol.hook_closed_level if is_closed else 1 - pol.hook_closed_level:
            hooks |= 1 << (ch - 1)
    for ch, present in items.items():
        if pol.item_present_level if present else 1 - pol.item_present_level:
            sensors |= 1 << (ch - 1)
    return hooks, sensors


def generic_bits(closed: dict[int, bool], pol: Polarity) -> int:
    """The query-all bits a generic-8a board with this polarity would report."""
    return sum(1 << (ch - 1) for ch, c in closed.items() if (pol.closed_bit if c else 1 - pol.closed_bit))
