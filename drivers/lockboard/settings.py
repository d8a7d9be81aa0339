"""Bus settings: the cabinet's configuration with each family's defaults filled in."""

from __future__ import annotations

from dataclasses import dataclass, field

from drivers.lockboard.frames import Family
from drivers.lockboard.polarity import Polarity
from kiosk.config import CabinetConfig
from kiosk.lockboard_families import FAMILY, FamilyFacts

# The family facts (defaults used where the configuration leaves a value unset) live in kiosk.lockboard_families.
FAMILY_DEFAULTS: dict[str, FamilyFacts] = FAMILY


@dataclass(frozen=True)
class BusSettings:
    """Everything a SerialLockBus needs besides its URL."""

    family: Family
    baud: int
    channels_per_board: int = 16
    reply_timeout_s: float = 1.0
    open_timeout_s: float = 1.5
    open_poll_interval_s: float = 0.15
    retries: int = 2
    polarity: Polarity = field(default_factory=Polarity)
    name: str = ""  # for the log: the cabinet id

    @classmethod
    def for_family(cls, family: Family, **overrides: object) -> BusSettings:
        """The family's defaults, with keyword overrides."""
        d = FAMILY_DEFAULTS[family]
        values: dict[str, object] = {
            "baud": d.baud,
            "reply_timeout_s": d.reply_timeout_s,
            "open_timeout_s": d.open_timeout_s,
        }
        values.update(overrides)
        return cls(family=family, **values)  # type: ignore[arg-type]

    @classmethod
    def from_config(cls, cab: CabinetConfig) -> BusSettings:
        """Settings for one cabinet's bus; None values take the family's default."""
        d = FAMILY_DEFAULTS[cab.family]
        return cls(
            family=cab.family,
            baud=cab.baud or d.baud,
            channels_per_board=cab.channels_per_board,
            reply_timeout_s=cab.reply_timeout_s or d.reply_timeout_s,
            open_timeout_s=cab.open_timeout_s or d.open_timeout_s,
            open_poll_interval_s=cab.open_poll_interval_s,
            retries=cab.retries,
            polarity=polarity_from_config(cab),
            name=cab.id,
        )


def polarity_from_config(cab: CabinetConfig) -> Polarity:
    """The site polarity settings of one cabinet."""
    return Polarity(
        hook_closed_level=cab.hook_closed_level,
        item_present_level=cab.item_present_level,
        has_item_sensors=cab.has_item_sensors and FAMILY[cab.family].has_item_sensors,
        closed_status=int(cab.closed_status, 16),
    )
