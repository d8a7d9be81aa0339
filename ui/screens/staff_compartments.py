"""Staff: every compartment with its state; tap one to take it out of service or put it back."""

from __future__ import annotations

from typing import Any

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
        for c in comps:
            action = "comp.enable" if c.state in ("disabled", "faulty") else "comp.disable"
            row = ListRow(
                title=f"{c.label}  {t('size.' + c.size)}  {t('comp.state.' + c.state)}",
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
            c.label,
            enable,
            self.app.session.staff_id or "staff",
            on_done=lambda _r: self.refresh(),
        )

    def wipe(self) -> None:
        super().wipe()
        self.ids.rows.clear_widgets()
