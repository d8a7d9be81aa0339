"""Cabinet layout rules across cabinets, checked by kiosk.config: ids, locks and shared RS-485 buses.

A hall often chains a main cabinet and its side cabinets on one RS-485 bus with
different board addresses. The kiosk then drives that bus as one port, so the
cabinets on it must agree on how the bus is spoken.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kiosk.config import CabinetConfig

# What one bus driver needs to be the same for every cabinet on it (drivers.lockboard.settings.BusSettings).
BUS_WIDE = (
    "family",
    "baud",
    "channels_per_board",
    "hook_closed_level",
    "item_present_level",
    "has_item_sensors",
    "closed_status",
    "reply_timeout_s",
    "open_timeout_s",
    "open_poll_interval_s",
    "retries",
)


def check_cabinets(cabinets: Sequence[CabinetConfig]) -> None:
    """Raise ValueError ("key path: what is wrong") for the first rule broken."""
    ids = [c.id for c in cabinets]
    for i, cid in enumerate(ids):
        if cid in ids[:i]:
            raise ValueError(f"cabinets[{i}].id: cabinet id {cid} is used twice")
    first_on_bus: dict[str, int] = {}
    for i, cab in enumerate(cabinets):
        if cab.bus == "sim":  # every simulated cabinet gets a simulator of its own
            continue
        j = first_on_bus.setdefault(cab.bus, i)
        for key in BUS_WIDE:
            if getattr(cab, key) != getattr(cabinets[j], key):
                raise ValueError(
                    f"cabinets[{i}].{key}: cabinet {cab.id} shares bus {cab.bus} with cabinet "
                    f"{cabinets[j].id}, whose {key} is {getattr(cabinets[j], key)!r}; one bus is spoken "
                    f"one way, so cabinets on it must agree"
                )
    # Labels are unique within a cabinet (CabinetConfig): two cabinets may both have an A01 (kiosk.cabinet.labels).
    # Across cabinets on one bus too, each lock drives one compartment: the same bus string is the same bus.
    slots: dict[tuple[str, int, int], str] = {}
    for i, cab in enumerate(cabinets):
        for j, comp in enumerate(cab.compartments):
            where = f"cabinets[{i}].compartments[{j}]"
            slot = (cab.bus, comp.board, comp.channel)
            if slot in slots and cab.bus != "sim":
                raise ValueError(
                    f"{where}: board {comp.board} channel {comp.channel} on bus {cab.bus} is already"
                    f" mapped to {slots[slot]}; each lock drives one compartment"
                )
            slots[slot] = f"{comp.label} in cabinet {cab.id}"
