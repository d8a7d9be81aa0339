"""Staff: collect drop-offs, overdue results and parcels needing attention, one door at a time."""

from __future__ import annotations

from typing import Any

from kivy.properties import BooleanProperty

from ui.screens import KioskScreen
from ui.widgets import ListRow


class StaffCollectScreen(KioskScreen):
    screen_name = "staff_collect"
    empty = BooleanProperty(False)

    def refresh(self) -> None:
        self.ids.rows.clear_widgets()
        self.app.call(self.app.rt.collectable, on_done=self._show)

    def _show(self, parcels: list[Any]) -> None:
        box = self.ids.rows
        box.clear_widgets()
        self.empty = not parcels
        t = self.app.t
        for p in parcels:
            what = t("collect.kind.overdue" if p.overdue else f"collect.kind.{p.kind}")
            title = f"{p.label}  {what}"
            detail = t("collect.row", case=p.case_number or p.receipt_number or "-", owner=p.owner_name_masked or "")
            row = ListRow(title=title, detail=detail, ref=p.id)
            row.bind(on_release=self._collect)
            box.add_widget(row)

    def _collect(self, row: Any) -> None:
        self.app.call(self.app.rt.collect, row.ref, self.app.session.staff_id or "staff",
                      on_done=lambda h: self.app.go("door", handle=h, purpose="collect"))

    def wipe(self) -> None:
        super().wipe()
        self.ids.rows.clear_widgets()
