"""我的评价: the citizen's named ratings with their status and a department's reply to a 差评; for a reply, the
citizen answers whether it solved the problem (ConfirmEvaluationReply, the 好差评 closed loop).

Live from the platform, never cached; with the platform down it says the list cannot be shown now and when the
platform last answered. The answer itself queues with a receipt like any filing.
"""

from __future__ import annotations

from typing import Any

from kivy.properties import BooleanProperty, ObjectProperty, StringProperty

from ui.screens import KioskScreen
from ui.widgets import ListRow


class RatingsScreen(KioskScreen):
    screen_name = "ratings"
    empty = BooleanProperty(False)
    chosen = ObjectProperty(None, allownone=True)  # the EvaluationSummary whose reply is being answered
    reply = StringProperty("")
    answered = StringProperty("")  # the receipt's headline once answered

    def refresh(self) -> None:
        self.ids.rows.clear_widgets()
        self.empty = False
        self.chosen = None
        self.reply = self.answered = ""
        ident = self.app.session.identity
        if ident is None:
            self.error = self.app.t("pickup.insert_card")
            return
        self.app.call(self.app.rt.feedback.my_ratings, ident, on_done=self._show)

    def _show(self, ratings: list[Any]) -> None:
        box = self.ids.rows
        box.clear_widgets()
        self.empty = not ratings
        t = self.app.t
        for e in ratings:
            subject = e.matter_name or e.case_number or t("ratings.self_service")
            detail = t(
                "ratings.row",
                rating=t(f"rating.{e.rating}"),
                status=t(f"evaluation.status.{e.status}"),
                date=e.submitted_at.astimezone(self.app.cfg.kiosk.tz).strftime("%Y-%m-%d"),
            )
            if e.reply:
                detail += "\n" + t("ratings.reply", department=e.department or "", reply=e.reply)
            row = ListRow(title=subject, detail=detail, ref=e)
            row.bind(on_release=self._choose)
            box.add_widget(row)

    def _choose(self, row: Any) -> None:
        e = row.ref
        if e.status != "REPLIED":
            return  # nothing to answer (the row says its status)
        self.chosen = e
        self.reply = self.app.t("ratings.reply", department=e.department or "", reply=e.reply or "")

    def answer(self, satisfied: bool) -> None:
        ident, e = self.app.session.identity, self.chosen
        if ident is None or e is None:
            return
        self.app.call(self.app.rt.feedback.confirm_reply, ident, e, satisfied, on_done=self._answered)

    def _answered(self, receipt: Any) -> None:
        self.chosen = None
        self.reply = ""
        self.answered = (
            self.app.t(receipt.text_key) + "  " + self.app.t("ratings.receipt", number=receipt.receipt_number)
        )
        ident = self.app.session.identity
        if ident is not None:
            self.app.call(
                self.app.rt.feedback.my_ratings,
                ident,
                busy=False,
                on_done=self._show,
                on_error=lambda _e: None,
            )

    def wipe(self) -> None:
        super().wipe()
        self.ids.rows.clear_widgets()
        self.chosen = None
        self.reply = self.answered = ""
        self.empty = False
