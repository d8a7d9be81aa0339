"""呼叫帮助 / Get help: raises the help request at once, then shows who answers and the numbers to call.

The request goes to the hall's staff as a task the moment the screen opens (kiosk.help); the platform's answer
follows within its timeout. At night the screen says plainly that nobody is in the hall and what happens next.
"Back" returns to the screen the citizen came from, with everything they had typed.
"""

from __future__ import annotations

from typing import Any

from kivy.properties import ObjectProperty, StringProperty

from ui.screens import KioskScreen


class HelpScreen(KioskScreen):
    screen_name = "help"
    card_removal = "keep"  # lifting the card here must not throw away the request on show
    from_screen = StringProperty("start")
    outcome = ObjectProperty(None, allownone=True)
    state = StringProperty("")  # "", "asking", "answered", "failed"

    def refresh(self) -> None:
        self.outcome = None
        self.state = "asking"
        self.app.call(
            self.app.rt.citizen.request_help,
            self.from_screen,
            self.app.lang,
            busy=False,
            on_done=self._answered,
            on_error=self._failed,
        )

    def _answered(self, outcome: Any) -> None:
        self.outcome = outcome
        self.state = "answered"
        self.app.speak_screen()

    def _failed(self, err: BaseException) -> None:
        # Even the local request failed (the database): the numbers to call are still on screen.
        self.state = "failed"
        self.error = self.app.error_text(err)
        self.app.speak_screen()

    # --- texts (kv binds app.lang and root.outcome) ----------------------------------------------------------------
    def status_text(self, *_deps: Any) -> str:
        t, o = self.app.t, self.outcome
        if self.state == "asking":
            return t("help.asking")
        if o is None:
            return t("help.not_raised")
        head = t("help.repeated" if o.repeated else "help.raised", task=o.task_id)
        return f"{head}\n{self.answer_text()}"

    def answer_text(self, *_deps: Any) -> str:
        t, o = self.app.t, self.outcome
        if o is None:
            return ""
        if o.phase == "night":
            return t("help.night", opens=self.app.cfg.help.staffed_hours.split("-")[0])
        a = o.answer
        parts = [t(a.text_key, hotline=o.hotline)]
        if a.reached and a.message:
            parts.append(a.message)
        if a.reached and a.expected_wait_minutes is not None:
            parts.append(t("help.wait", minutes=a.expected_wait_minutes))
        return "\n".join(parts)

    def hall_line(self, *_deps: Any) -> str:
        hc = self.app.cfg.help
        return self.app.t("help.hall_line", hotline=hc.hotline, hours=hc.staffed_hours) if hc.hotline else ""

    def spoken(self) -> list[str]:
        """What the voice says here: the status, then the 12345 line."""
        return [self.status_text(), self.app.t("help.city")]

    def back(self) -> None:
        self.app.go(self.from_screen if self.from_screen != "help" else "start")

    def wipe(self) -> None:
        super().wipe()
        self.outcome = None
        self.state = ""
        self.from_screen = "start"
