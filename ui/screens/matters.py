"""Simple matters: the catalog from the platform (cached by the core), one row per matter."""

from __future__ import annotations

from typing import Any

from kivy.properties import BooleanProperty

from kiosk.platform_models import Matter
from ui.screens import KioskScreen
from ui.widgets import ListRow


class MattersScreen(KioskScreen):
    screen_name = "matters"
    empty = BooleanProperty(False)

    def refresh(self) -> None:
        self.ids.rows.clear_widgets()
        self.empty = False
        self.app.call(self.app.rt.matters, on_done=self._show)

    def _show(self, matters: tuple[Matter, ...]) -> None:
        box = self.ids.rows
        box.clear_widgets()
        self.empty = not matters
        lang = self.app.lang
        for m in matters:
            title = m.name_en if lang == "en" and m.name_en else m.name
            detail = self.app.t("matters.detail", days=m.promised_days, fee=f"{m.fee:.2f}")
            row = ListRow(title=title, detail=detail, ref=m)
            row.bind(on_release=self._chosen)
            box.add_widget(row)

    def _chosen(self, row: Any) -> None:
        self.app.go("form", matter=row.ref)

    def on_lang_change(self) -> None:
        if self.manager and self.manager.current == self.name:
            self.refresh()

    def wipe(self) -> None:
        super().wipe()
        self.ids.rows.clear_widgets()
