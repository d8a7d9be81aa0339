"""Pick up: type the code on the numeric pad, or use your ID card."""

from __future__ import annotations

import time
from typing import Any

from kivy.clock import Clock
from kivy.properties import BooleanProperty, NumericProperty, StringProperty

from kiosk.errors import CodeLockout, WrongPickupCode
from kiosk.ports import CardEvent
from ui.screens import KioskScreen


class PickupScreen(KioskScreen):
    screen_name = "pickup"
    code = StringProperty("")
    digits = NumericProperty(
        6
    )  # cfg.pickup.code_digits: a code of any other length is never sent to the core
    # Seconds the hall's codes still wait after wrong ones (any kiosk's); counts down on screen, the card still works.
    wait_left = NumericProperty(0)
    _wait_end = 0.0
    _ticker: Any = None

    # A card left on a reader by the previous person (App.stale_cards) opens nothing: ask for it lifted and put back.
    lift = BooleanProperty(False)

    def refresh(self) -> None:
        self.digits = self.app.cfg.pickup.code_digits
        self.lift = bool(self.app.stale_cards)
        # Someone else's wrong codes may have started a wait: say so before this citizen types six digits.
        self.app.call(
            self.app.rt.staff.code_wait, busy=False, on_done=self._hall_wait, on_error=lambda _e: None
        )

    def _hall_wait(self, state: Any) -> None:
        if state.wait_s > 0:
            self.error = self.app.error_text(CodeLockout("codes wait", retry_after_s=state.wait_s))
            self._start_wait(state.wait_s)

    def _refused(self, err: BaseException) -> None:
        self.app.show_error(err)  # shown and said once: the wait, the tries left, the card
        wait = (
            err.retry_after_s
            if isinstance(err, CodeLockout)
            else err.wait_s
            if isinstance(err, WrongPickupCode)
            else 0
        )
        if wait:
            self._start_wait(wait)

    def _start_wait(self, seconds: int) -> None:
        self._wait_end = time.monotonic() + seconds
        self.wait_left = seconds
        if self._ticker is None:
            self._ticker = Clock.schedule_interval(self._tick_wait, 0.5)

    def _tick_wait(self, _dt: float) -> None:
        left = max(0, round(self._wait_end - time.monotonic() + 0.49))
        if left != self.wait_left:
            self.wait_left = left
        if left == 0:
            self._stop_wait()
            if self.manager is not None and self.manager.current == self.screen_name:
                self.error = self.app.t(
                    "pickup.code_ready"
                )  # said too: the citizen may be waiting eyes-closed

    def _stop_wait(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
            self._ticker = None
        self.wait_left = 0

    def on_key(self, key: str) -> None:
        if key == "back":
            self.code = self.code[:-1]
        elif key == "clear":
            self.code = ""
        elif len(self.code) < self.digits:
            self.code += key
        else:
            # One digit too many: say how long a code is instead of silently dropping the tap.
            self.error = self.app.t("pickup.code_length", n=self.digits)
            return
        self.error = ""

    @property
    def complete(self) -> bool:
        return len(self.code) == self.digits and self.code.isdigit()

    def open_by_code(self) -> None:
        if not self.complete:
            # The button is disabled until then; this guards any other way in (a stale tap, a test, a script).
            self.error = self.app.t("pickup.code_length", n=self.digits)
            return
        code, self.code = self.code, ""  # the code leaves the screen as soon as it is used
        self.app.call(self.app.rt.citizen.pickup_by_code, code, on_done=self._opened, on_error=self._refused)

    def open_by_card(self) -> None:
        ident = self.app.session.identity
        if ident is None:
            self.error = self.app.t("pickup.insert_card")
            return
        self.app.call(self.app.rt.citizen.pickup_by_identity, ident, on_done=self._opened)

    def spoken(self) -> list[str]:
        return super().spoken() + ([self.app.t("identify.state.lift")] if self.lift else [])

    def on_card_event(self, ev: CardEvent) -> None:
        was, self.lift = self.lift, bool(self.app.stale_cards)  # the app saw the event first (App._card_seen)
        # A card read while this screen is up means "pick up with my card" (a stale one never gets here).
        if ev.kind == "identified":
            self.open_by_card()
        elif was and not self.lift:
            self.app.say(self.app.t("pickup.card_back"))

    def _opened(self, handle: object) -> None:
        self.app.go("door", handle=handle, purpose="pickup")

    def wipe(self) -> None:
        super().wipe()
        self.code = ""
        self._stop_wait()
