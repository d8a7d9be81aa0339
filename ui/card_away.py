"""A card lifted off a reader pad mid-task: a notice with a countdown; the same card put back resumes.

Resident ID cards lie on a GA 467 pad, and people pick them up without thinking; ending the session at once
would throw away a half-filled form. Social security cards sit in a PC/SC contact slot, where pulling the card
out is deliberate: that still ends the session at once (the app decides which is which).
"""

from __future__ import annotations

from pathlib import Path

from kivy.lang import Builder
from kivy.properties import NumericProperty
from kivy.uix.modalview import ModalView

from kiosk.identity import Identity
from kiosk.session import CARD_RETURN_S, CardAwayPause

__all__ = ["CARD_RETURN_S", "CardAway", "CardAwayNotice"]

_KV = Path(__file__).with_suffix(".kv")


class CardAwayNotice(ModalView):
    """\"Your card was removed: put it back to continue, or tap End\" with the seconds left."""

    seconds_left = NumericProperty(0)


class CardAway:
    """The card-away pause (kiosk.session.CardAwayPause, the rule) with its notice on screen."""

    def __init__(self, grace_s: float = CARD_RETURN_S) -> None:
        self.pause = CardAwayPause(grace_s)
        self.notice: CardAwayNotice | None = None

    @staticmethod
    def load_kv() -> None:
        Builder.load_file(str(_KV))

    @property
    def active(self) -> bool:
        return self.pause.active

    def begin(self, identity: Identity, now: float) -> None:
        """The card left the pad: remember whose it was (the session still holds it) and show the notice."""
        self.pause.begin(identity, now)
        if self.notice is None:
            self.notice = CardAwayNotice()
            self.notice.open(animation=False)
        self.tick(now)

    def tick(self, now: float) -> bool:
        """Update the countdown; True once it has run out (the caller then ends the session)."""
        if self.notice is not None:
            self.notice.seconds_left = self.pause.seconds_left(now)
        return self.pause.expired(now)

    def close(self) -> None:
        """Forget the grace period. The identity itself is wiped by the session's end, not here."""
        self.pause.end()
        if self.notice is not None:
            n, self.notice = self.notice, None
            n.dismiss(animation=False)
