"""Card readers: PC/SC (social security cards, staff badges) and GA 467 (resident ID cards).

:func:`build_reader` turns one ``[[card_readers]]`` config entry into a reader. Driver modules
are imported lazily so a kiosk without pyscard can still use a GA 467 reader.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kiosk.config import CardReaderConfig
from kiosk.ports import Built

if TYPE_CHECKING:
    from drivers.cardreader.ga467_sim import Ga467Sim
    from kiosk.ports import CardReader


def build_reader(rc: CardReaderConfig) -> Built[CardReader, Ga467Sim]:
    """The reader a config entry names: pcsc, ga467, or sim (a real Ga467Reader on a simulator's pty, returned
    with that simulator; the reader's close() stops it)."""
    reader: CardReader
    sim: Ga467Sim | None = None
    if rc.kind == "pcsc":
        from drivers.cardreader.pcsc import PcscCardReader

        reader = PcscCardReader(rc.name)
    elif rc.kind == "ga467":
        from drivers.cardreader.ga467 import Ga467Reader

        reader = Ga467Reader(rc.url, name=rc.name or None)
    else:
        from drivers.cardreader.ga467_sim import start_simulated_reader

        simulated = start_simulated_reader(rc.name or "simulated GA 467")
        reader, sim = simulated, simulated.sim
    reader.role = rc.role  # type: ignore[attr-defined]  # citizen / staff / any, for the core's routing
    return Built(reader, sim)
