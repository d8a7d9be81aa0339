"""Staff mode: what needs doing (tasks raised by reconciliation and faults), and the staff actions."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kivy.properties import BooleanProperty, NumericProperty, StringProperty

from ui import plain
from ui.plain_row import PlainRow
from ui.screens import KioskScreen


class TaskRow(PlainRow):
    """A staff task in plain words (what it is, what to do); the core's own English text behind "details".

    Tapping the row asks "has this been dealt with?" (``confirming``); only its "yes" button (``on_confirm``)
    closes the task, so a stray tap while scrolling the list closes nothing."""

    confirming = BooleanProperty(False)

    __events__ = ("on_confirm",)

    def on_confirm(self) -> None:
        pass


class StaffScreen(KioskScreen):
    screen_name = "staff"
    n_tasks = NumericProperty(0)
    _tasks: Sequence[Any] = ()  # the last list shown

    def on_kv_post(self, _base: Any) -> None:
        # The rows' titles are texts of the current language: a language change redraws them.
        self.app.bind(lang=lambda *_: self._show(self._tasks) if self._tasks else None)

    code_status = StringProperty("")
    code_waiting = BooleanProperty(
        False
    )  # a wait, or wrong codes growing the next one: there is something to lift

    def refresh(self) -> None:
        self.ids.tasks.clear_widgets()
        self.app.call(self.app.rt.staff.tasks, on_done=self._show)
        self.app.call(self.app.rt.staff.code_wait, busy=False, on_done=self._show_code_wait)

    def _show_code_wait(self, st: Any) -> None:
        self.code_waiting = bool(st.wait_s or st.wrong_counted)
        self.code_status = (
            self.app.t("staff.code_wait", wait=self.app.wait_text(st.wait_s), n=st.wrong_today)
            if st.wait_s
            else self.app.t("staff.code_ok", n=st.wrong_today)
        )

    def lift_code_wait(self) -> None:
        """Codes accepted again at every kiosk of the hall (audited with this staff member's id)."""

        def lifted(_r: Any) -> None:
            self.error = self.app.t("staff.code_lifted")
            self.app.call(self.app.rt.staff.code_wait, busy=False, on_done=self._show_code_wait)

        self.app.call(self.app.rt.staff.lift_code_wait, self.app.session.staff_id or "staff", on_done=lifted)

    def _show(self, tasks: Sequence[Any]) -> None:
        box = self.ids.tasks
        box.clear_widgets()
        self._tasks = tasks
        self.n_tasks = len(tasks)
        for t in tasks:
            # The title says what kind of task it is and the detail what to do, in the screen's language; the core's
            # own text (English, with ids such as "[outbox 4]") is for support and stays behind the toggle.
            row = TaskRow.of(plain.task(self.app.t, t.kind, t.label, t.detail, t.number), ref=t.id)
            row.bind(on_release=self._ask, on_confirm=self._resolve)
            box.add_widget(row)

    def _ask(self, row: Any) -> None:
        """One row asks at a time: tapping another row withdraws the first question."""
        for other in self.ids.tasks.children:
            other.confirming = other is row

    def _resolve(self, row: Any) -> None:
        self.app.call(
            self.app.rt.staff.resolve_task,
            row.ref,
            self.app.session.staff_id or "staff",
            on_done=lambda _r: self.refresh(),
        )

    def wipe(self) -> None:
        super().wipe()
        self.ids.tasks.clear_widgets()
        self._tasks = ()
        self.n_tasks = 0
