"""Staff: every compartment with its state; tap one to take it out of service or put it back."""

from __future__ import annotations

from typing import Any

from kiosk.cabinet.labels import name_for, shown
from ui.screens import KioskScreen
from ui.widgets import ListRow


class StaffCompartmentsScreen(KioskScreen):
    screen_name = "staff_compartments"

    def refresh(self) -> None:
        self.ids.rows.clear_widgets()
        self.app.call(self.app.rt.staff.compartments, on_done=self._show)

    def _show(self, comps: list[Any]) -> None:
        box = self.ids.rows
        box.clear_widgets()
        t = self.app.t
        cabs = [
            c.cabinet_id for c in comps
        ]  # two cabinets may both have an A01: then each row names its cabinet
        for c in comps:
            action = "comp.enable" if c.state in ("disabled", "faulty") else "comp.disable"
            row = ListRow(
                title=f"{shown(c.cabinet_id, c.label, cabs)}  {t('size.' + c.size)}  {t('comp.state.' + c.state)}",
                detail=t(action),
                ref=c,
            )
            row.bind(on_release=self._toggle)
            box.add_widget(row)

    def _toggle(self, row: Any) -> None:
        c = row.ref
        enable = c.state in ("disabled", "faulty")
        self.app.call(
            self.app.rt.staff.set_compartment_enabled,
            name_for(c.cabinet_id, c.label, [cab.id for cab in self.app.cfg.cabinets]),
            enable,
            self.app.session.staff_id or "staff",
            on_done=lambda _r: self.refresh(),
        )

    def wipe(self) -> None:
        super().wipe()
        self.ids.rows.clear_widgets()
