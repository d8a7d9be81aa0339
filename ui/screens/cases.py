"""My cases: the identified person's cases and their statuses, from the platform; each row opens its details."""

from __future__ import annotations

from typing import Any

from kivy.properties import BooleanProperty

from kiosk.case_details import CaseDetail
from ui.screens import KioskScreen
from ui.widgets import ListRow


def matter_names(app: Any) -> dict[str, str]:
    """English matter names by code when the kiosk speaks English, else none: the platform names a case's matter
    in Chinese only, and the cached catalog has the English name. Read at each drawing, so a language change
    after the list was loaded still names the matter in the language now shown."""
    if app.lang != "en":
        return {}
    cat = app.rt.parts.catalog.cached()
    return {m.code: m.name_en for m in cat.matters if m.name_en} if cat else {}


class CasesScreen(KioskScreen):
    screen_name = "cases"
    empty = BooleanProperty(False)

    def refresh(self) -> None:
        self.ids.rows.clear_widgets()
        self.empty = False
        ident = self.app.session.identity
        if ident is None:
            return
        self.app.call(self.app.rt.citizen.case_details, ident, on_done=self._show)

    def _show(self, details: list[CaseDetail]) -> None:
        box = self.ids.rows
        box.clear_widgets()
        self.empty = not details
        t = self.app.t
        en_names = matter_names(self.app)
        for d in details:
            c = d.case
            detail = t(
                "cases.row",
                number=c.case_number,
                status=t(f"status.{c.status}"),
                date=c.updated_at.astimezone(self.app.cfg.kiosk.tz).strftime("%Y-%m-%d"),
            )
            row = ListRow(title=en_names.get(c.matter_code, c.matter_name), detail=detail, ref=d)
            row.bind(on_release=lambda r: self.app.go("case", detail=r.ref))
            box.add_widget(row)

    def wipe(self) -> None:
        super().wipe()
        self.ids.rows.clear_widgets()
