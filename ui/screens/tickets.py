"""我的诉求: the citizen's 12345 tickets with status and the department's reply (live from the platform)."""

from __future__ import annotations

from typing import Any

from kivy.properties import BooleanProperty

from ui.screens import KioskScreen
from ui.widgets import ListRow


class TicketsScreen(KioskScreen):
    screen_name = "tickets"
    empty = BooleanProperty(False)

    def refresh(self) -> None:
        self.ids.rows.clear_widgets()
        self.empty = False
        ident = self.app.session.identity
        if ident is None:
            self.error = self.app.t("pickup.insert_card")
            return
        self.app.call(self.app.rt.feedback.my_tickets, ident, on_done=self._show)

    def _show(self, tickets: list[Any]) -> None:
        box = self.ids.rows
        box.clear_widgets()
        self.empty = not tickets
        t, tz = self.app.t, self.app.cfg.kiosk.tz
        for tk in tickets:
            detail = t(
                "tickets.row",
                number=tk.ticket_number,
                status=t(f"ticket.status.{tk.status}"),
                date=tk.submitted_at.astimezone(tz).strftime("%Y-%m-%d"),
            )
            if tk.reply:
                detail += "\n" + t("tickets.reply", department=tk.department or "", reply=tk.reply)
            box.add_widget(
                ListRow(title=f"{t(f'ticket.kind.{tk.kind}')}：{tk.content[:40]}", detail=detail, ref=tk)
            )

    def wipe(self) -> None:
        super().wipe()
        self.ids.rows.clear_widgets()
        self.empty = False
