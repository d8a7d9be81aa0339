"""Technician mode: device status, the diagnostics checks, open any door, and the simulators' fault switches."""

from __future__ import annotations

from typing import Any

from kivy.properties import StringProperty

from ui.screens import KioskScreen
from ui.widgets import ChoiceButton, KButton, ListRow


class TechScreen(KioskScreen):
    screen_name = "tech"
    info = StringProperty("")
    summary = StringProperty("")

    def refresh(self) -> None:
        self.info = ""
        self._fill_doors()
        self._fill_switches()
        self.app.call(self.app.rt.device_status, on_done=self._show_checks)

    def _fill_doors(self) -> None:
        box = self.ids.doors
        box.clear_widgets()
        for cab in self.app.cfg.cabinets:
            for c in cab.compartments:
                btn = KButton(text=c.label)
                btn.bind(on_release=lambda b: self.open_door(b.text))
                box.add_widget(btn)

    def _fill_switches(self) -> None:
        box = self.ids.switches
        box.clear_widgets()
        for sw in self.app.rt.sim_switches():
            btn = ChoiceButton(text=self.app.t(f"sim.{sw.key}", target=sw.target), value=sw.key, selected=sw.on)
            btn.bind(on_release=lambda b, sw=sw: self.flip(sw))
            box.add_widget(btn)

    def _show_checks(self, checks: list[Any]) -> None:
        box = self.ids.checks
        box.clear_widgets()
        bad = 0
        for c in checks:
            bad += c.status != "OK"
            box.add_widget(ListRow(title=f"[{c.status}] {c.title}", detail=c.finding))
        self.summary = self.app.t("tech.summary", n=len(checks), bad=bad)

    def run_diagnostics(self) -> None:
        self.app.call(self.app.rt.diagnostics, on_done=self._show_checks)

    def open_door(self, label: str) -> None:
        self.app.call(self.app.rt.tech_open, label, self.app.session.staff_id or "technician",
                      on_done=lambda _r: setattr(self, "info", self.app.t("tech.opened", label=label)))

    def flip(self, sw: Any) -> None:
        self.app.rt.flip_sim_switch(sw.key)
        self._fill_switches()

    def wipe(self) -> None:
        super().wipe()
        for box in ("checks", "doors", "switches"):
            self.ids[box].clear_widgets()
        self.info = self.summary = ""
