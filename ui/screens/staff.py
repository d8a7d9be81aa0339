"""Staff mode: what needs doing (tasks raised by reconciliation and faults), and the staff actions."""

from __future__ import annotations

from typing import Any

from kivy.properties import NumericProperty

from ui.screens import KioskScreen
from ui.widgets import ListRow


class StaffScreen(KioskScreen):
    screen_name = "staff"
    n_tasks = NumericProperty(0)

    def refresh(self) -> None:
        self.ids.tasks.clear_widgets()
        self.app.call(self.app.rt.staff_tasks, on_done=self._show)

    def _show(self, tasks: list[Any]) -> None:
        box = self.ids.tasks
        box.clear_widgets()
        self.n_tasks = len(tasks)
        for t in tasks:
            row = ListRow(title=self.app.t(f"task.{t.kind}", label=t.label or ""), detail=self.app.t("staff.task_resolve"),
                          ref=t.id)
            row.bind(on_release=self._resolve)
            box.add_widget(row)

    def _resolve(self, row: Any) -> None:
        self.app.call(self.app.rt.resolve_task, row.ref, self.app.session.staff_id or "staff",
                      on_done=lambda _r: self.refresh())

    def wipe(self) -> None:
        super().wipe()
        self.ids.tasks.clear_widgets()
        self.n_tasks = 0
