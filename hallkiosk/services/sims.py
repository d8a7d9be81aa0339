"""Simulators as the runtime's ``rt.sims``: the technician's fault switches and the demo's hands (insert a card,
shut a door).

Only ever touches simulators: those the composition root registered as it built the parts (``app.sims``, see
:mod:`hallkiosk.simulators`) and the simulated printer; on real hardware every method here does nothing and the
technician screen shows no switches.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kiosk.cabinet.labels import split
from kiosk.config import Config
from kiosk.ports import CardEvent, Printer

if TYPE_CHECKING:
    from drivers.cardreader.ga467_sim import Ga467Sim
    from drivers.lockboard.sim import SimLockBoard
    from hallkiosk.wiring import App
    from kiosk.cabinet import FlowHandle

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SimSwitch:
    """One simulator fault switch on the technician screen."""

    key: str
    target: str
    on: bool


class SimService:
    """Simulator switches for the technician screen and the demo buttons."""

    def __init__(
        self,
        cfg: Config,
        app: Callable[[], App],
        ready: threading.Event,
        printer: Callable[[], Printer | None],
        deliver: Callable[[CardEvent], None],
    ) -> None:
        """``app``: the runtime's App, built on first use; ``printer``: the printer once start-up made it;
        ``deliver``: how a card event reaches the runtime's listeners (as a reader's watcher delivers it)."""
        self.cfg = cfg
        self._app = app
        self._ready = ready
        self._printer = printer
        self._deliver = deliver
        self._switches: dict[str, bool] = {}
        self._faults: dict[str, Any] = {}

    @property
    def app(self) -> App:
        return self._app()

    # --- simulator fault switches ------------------------------------------------------
    def switches(self) -> list[SimSwitch]:
        out: list[SimSwitch] = []
        sims = self.app.sims
        for name, sim in sims.readers.items():
            out.append(SimSwitch(key="card_insert", target=name, on=bool(sim.has_card)))
            out.append(SimSwitch(key="card_silent", target=name, on=self._switches.get("card_silent", False)))
        for cab in self.cfg.cabinets:
            if cab.id in sims.boards:
                first = cab.compartments[0]
                out.append(
                    SimSwitch(key="door_jam", target=first.label, on=self._switches.get("door_jam", False))
                )
                out.append(
                    SimSwitch(
                        key="board_silent",
                        target=f"{cab.id}/{cab.boards[0]}",
                        on=self._switches.get("board_silent", False),
                    )
                )
        if sims.platform is not None:
            out.append(
                SimSwitch(key="platform_down", target="", on=self._switches.get("platform_down", False))
            )
            out.append(
                SimSwitch(key="platform_slow", target="", on=self._switches.get("platform_slow", False))
            )
        printer = self._sim_printer()
        if printer is not None:
            # Read from the printer itself: it is shared per process, so a fault set elsewhere shows here too.
            faults = printer.faults
            out.append(SimSwitch(key="printer_paper_out", target=printer.name, on="paper_out" in faults))
            out.append(SimSwitch(key="printer_fixed", target=printer.name, on=not faults))
        return out

    def _sim_printer(self) -> Any:
        """The simulated receipt printer, or None (no printer, a real one, or start-up not done)."""
        printer = self._printer()  # None until start-up made it
        if printer is None:
            return None
        from drivers.printer.sim import SimPrinter

        return printer if isinstance(printer, SimPrinter) else None

    def flip(self, key: str) -> bool:
        """Toggle one simulator fault; returns the new state. Only simulators are touched, never real devices."""
        on = not self._switches.get(key, False)
        sims = self.app.sims
        card = sims.card()
        reader_sim = card[1] if card else None
        cab = self.cfg.cabinets[0] if self.cfg.cabinets else None
        board_sim = sims.boards.get(cab.id) if cab else None
        psim = sims.platform
        printer = self._sim_printer()
        if key == "card_insert" and reader_sim is not None:
            on = not reader_sim.has_card
            reader_sim.insert_demo_card() if on else reader_sim.remove_card()
        elif key == "card_silent" and reader_sim is not None:
            reader_sim.inject("silent", cmd="any", times=10**6) if on else reader_sim.clear_faults()
        elif key == "door_jam" and board_sim is not None and cab is not None:
            c = cab.compartments[0]
            board_sim.jam(c.board, c.channel) if on else board_sim.unjam(c.board, c.channel)
        elif key == "board_silent" and board_sim is not None and cab is not None:
            board_sim.silence(cab.boards[0]) if on else board_sim.revive(cab.boards[0])
        elif key in ("platform_down", "platform_slow") and psim is not None:
            if on:
                self._faults[key] = (
                    psim.faults.reset(times=None)
                    if key == "platform_down"
                    else psim.faults.slow(8.0, times=None)
                )
            elif key in self._faults:
                psim.faults.disarm(self._faults.pop(key))
        elif key == "printer_paper_out" and printer is not None:
            on = "paper_out" not in printer.faults
            printer.inject("paper_out") if on else printer.clear("paper_out")
        elif key == "printer_fixed" and printer is not None:
            printer.clear_faults()  # paper in, cover shut, cable back: not a toggle, it always ends up fixed
            on = True
        else:
            return False
        self._switches[key] = on
        log.warning("simulator switch %s is now %s", key, "on" if on else "off")
        return on

    # --- the demo's hands: what a person would do to a simulated device ----------------
    def card_sim(self) -> Ga467Sim | None:
        """The first simulated card reader's simulator, or None on real hardware (or before start-up is done)."""
        if not self._ready.is_set():
            return None
        card = self.app.sims.card()
        return card[1] if card else None

    def door_sim(self, cabinet_id: str) -> SimLockBoard | None:
        """The cabinet's simulated lock boards, or None on real hardware (or before start-up is done)."""
        if not self._ready.is_set():
            return None
        return self.app.sims.boards.get(cabinet_id)

    def staff_badge_available(self) -> bool:
        """Whether a demo staff badge can be presented: a simulated reader and a configured badge."""
        return self.card_sim() is not None and bool(self.cfg.kiosk.staff_badges)

    def present_staff_badge(self) -> None:
        """The first configured staff badge on the simulated reader, delivered as a reader's watcher would."""
        if not self.staff_badge_available():
            return
        card = self.app.sims.card()
        assert card is not None  # staff_badge_available() said so
        ev = CardEvent("badge", reader=card[0], badge_uid=self.cfg.kiosk.staff_badges[0])
        threading.Thread(target=self._deliver, args=(ev,), name="sim-badge", daemon=True).start()

    def insert_demo_card(self) -> None:
        sim = self.card_sim()
        if sim is not None:
            sim.insert_demo_card()

    def close_door(self, handle: FlowHandle) -> None:
        sim = self.door_sim(handle.cabinet_id)
        cab = next(c for c in self.cfg.cabinets if c.id == handle.cabinet_id)
        comp = next(c for c in cab.compartments if c.label == handle.label)
        if sim is not None:
            # What the person does before pushing the door shut: take the parcel out, or put the materials in.
            if handle.kind in ("pickup", "collect"):
                sim.take_item(comp.board, comp.channel)
            elif handle.kind in ("deposit", "dropoff"):
                sim.put_item(comp.board, comp.channel)
            sim.close_door(comp.board, comp.channel)

    def close_door_of(self, label: str) -> bool:
        """Push one simulated door shut (what the technician does to finish a door test); False on real hardware."""
        cab_id, label = split(label)  # CAB:LABEL when two cabinets share the label (kiosk.cabinet.labels)
        for cab in (c for c in self.cfg.cabinets if cab_id in (None, c.id)):
            comp = next((c for c in cab.compartments if c.label == label), None)
            if comp is None:
                continue
            sim = self.door_sim(cab.id)
            if sim is None:
                return False
            sim.close_door(comp.board, comp.channel)
            return True
        return False
