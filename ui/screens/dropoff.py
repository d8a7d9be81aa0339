"""Drop off: who you are (the card), which case or matter the materials are for, then a compartment opens."""

from __future__ import annotations

from typing import Any

from kivy.properties import BooleanProperty

from kiosk.platform_models import CaseSummary, Matter
from ui.screens import KioskScreen
from ui.widgets import ListRow


class DropoffScreen(KioskScreen):
    screen_name = "dropoff"
    loading = BooleanProperty(False)

    def refresh(self) -> None:
        self.ids.cases.clear_widgets()
        self.ids.matters.clear_widgets()
        ident = self.app.session.identity
        if ident is None:
            return
        self.loading = True
        self.app.call(self.app.rt.citizen.dropoff_choices, ident, on_done=self._show)

    def _show(self, choices: tuple[list[CaseSummary], tuple[Matter, ...]]) -> None:
        self.loading = False
        cases, matters = choices
        en = self.app.lang == "en"
        for c in cases:
            row = ListRow(
                title=c.matter_name,
                detail=self.app.t("dropoff.case_row", number=c.case_number),
                ref=("case", c.case_number, c.matter_name),
            )
            row.bind(on_release=self._chosen)
            self.ids.cases.add_widget(row)
        for m in matters:
            row = ListRow(
                title=m.name_en if en and m.name_en else m.name, detail="", ref=("matter", m.code, m.name)
            )
            row.bind(on_release=self._chosen)
            self.ids.matters.add_widget(row)

    def _chosen(self, row: Any) -> None:
        kind, ref, name = row.ref
        ident = self.app.session.identity
        if ident is None:
            return
        kw = {"case_number": ref} if kind == "case" else {"matter_code": ref, "matter_name": name}
        self.app.call(self.app.rt.citizen.dropoff, ident, on_done=self._opened, **kw)

    def _opened(self, handle: object) -> None:
        self.app.go("door", handle=handle, purpose="dropoff")

    def wipe(self) -> None:
        super().wipe()
        self.ids.cases.clear_widgets()
        self.ids.matters.clear_widgets()
