"""Identify: insert or tap your card; the reader's state; the masked identity once read."""

from __future__ import annotations

from typing import Any

from kivy.properties import BooleanProperty, StringProperty

from kiosk.errors import KioskError
from kiosk.ports import CardEvent
from ui.screens import KioskScreen


class IdentifyScreen(KioskScreen):
    screen_name = "identify"
    card_removal = "end"  # nothing typed yet; its text says "remove the card to start again"
    next_screen = StringProperty("start")
    reader_state = StringProperty("waiting")  # waiting / lift / reading / read / no_reader
    masked_name = StringProperty("")
    masked_id = StringProperty("")
    can_simulate = BooleanProperty(
        False
    )  # a simulated reader: offer the demo card (the band says it is simulated)

    def on_reader_state(self, _w: object, state: str) -> None:
        if self.app is None or self.app.sm.current != self.name:
            return
        if state == "read":
            self.app.say(self.app.t("voice.identified"))
        elif state == "lift":
            self.app.say(self.app.t("identify.state.lift"))

    def refresh(self) -> None:
        self.can_simulate = self.app.rt.sims.card_sim() is not None
        s = self.app.session
        if s.identified and s.identity is not None:
            self.reader_state = "read"
            self.masked_name, self.masked_id = s.identity.masked_name, s.identity.masked_id
        else:
            present = self.app.rt.readers_present()
            # A card still in from the previous session must be lifted and put back before it is read for this one.
            self.reader_state = (
                "no_reader" if present is False else ("lift" if self.app.stale_cards else "waiting")
            )
            self.masked_name = self.masked_id = ""

    def on_card_event(self, ev: CardEvent) -> None:
        if ev.kind == "inserted":
            self.reader_state = "reading"
            self.error = ""
        elif ev.kind == "identified":
            self.refresh()
        elif ev.kind == "error":
            self.reader_state = "waiting"
            err: Any = ev.error
            self.error = self.app.error_text(err if isinstance(err, KioskError) else KioskError("card"))
        elif ev.kind == "reader_lost":
            self.reader_state = "no_reader"
        elif ev.kind in ("reader_back", "removed"):
            self.refresh()

    def proceed(self) -> None:
        if self.app.session.identified:
            self.app.go(self.next_screen)

    def wipe(self) -> None:
        super().wipe()
        self.masked_name = self.masked_id = ""
        self.reader_state = "waiting"
        self.next_screen = "start"
