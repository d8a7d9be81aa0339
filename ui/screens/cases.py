"""My cases: the identified person's cases and their statuses, from the platform; each row opens its details."""

from __future__ import annotations

from kivy.properties import BooleanProperty

from kiosk.case_details import CaseDetail
from ui.screens import KioskScreen
from ui.widgets import ListRow


class CasesScreen(KioskScreen):
    screen_name = "cases"
    empty = BooleanProperty(False)

    def refresh(self) -> None:
        self.ids.rows.clear_widgets()
        self.empty = False
        ident = self.app.session.identity
        if ident is None:
            return
        self.app.call(self.app.rt.case_details, ident, on_done=self._show)

    def _show(self, details: list[CaseDetail]) -> None:
        box = self.ids.rows
        box.clear_widgets()
        self.empty = not details
        t = self.app.t
        # The platform names a case's matter in Chinese only; the cached catalog has the English name.
        cat = self.app.rt.catalog.cached()
        en_names = {m.code: m.name_en for m in cat.matters if m.name_en} if cat and self.app.lang == "en" else {}
        for d in details:
            c = d.case
            detail = t("cases.row", number=c.case_number, status=t(f"status.{c.status}"),
                       date=c.updated_at.astimezone(self.app.cfg.kiosk.tz).strftime("%Y-%m-%d"))
            row = ListRow(title=en_names.get(c.matter_code, c.matter_name), detail=detail, ref=d)
            row.bind(on_release=lambda r: self.app.go("case", detail=r.ref, matter_title=r.title))
            box.add_widget(row)

    def wipe(self) -> None:
        super().wipe()
        self.ids.rows.clear_widgets()
