"""A card lifted off a reader pad mid-task: a notice with a countdown; the same card put back resumes.

Resident ID cards lie on a GA 467 pad, and people pick them up without thinking; ending the session at once
would throw away a half-filled form. Social security cards sit in a PC/SC contact slot, where pulling the card
out is deliberate: that still ends the session at once (the app decides which is which).
"""

from __future__ import annotations

import hmac
from pathlib import Path

from kivy.lang import Builder
from kivy.properties import NumericProperty
from kivy.uix.modalview import ModalView

from kiosk.identity import Identity

# Long enough to notice the notice and put the card back, short enough that a walked-away person's data goes soon.
CARD_RETURN_S = 30.0
PAD_CARD_KINDS = frozenset({"resident_id"})  # second-generation ID cards are contactless: always on a pad

_KV = Path(__file__).with_suffix(".kv")


def on_pad(identity: Identity) -> bool:
    """Whether this card was laid on a reader pad (lifted casually) rather than pushed into a slot."""
    return identity.card_kind in PAD_CARD_KINDS


class CardAwayNotice(ModalView):
    """\"Your card was removed: put it back to continue, or tap End\" with the seconds left."""

    seconds_left = NumericProperty(0)


class CardAway:
    """The grace period after a pad card was lifted: who it was, until when, and the notice on screen."""

    def __init__(self, grace_s: float = CARD_RETURN_S) -> None:
        self.grace_s = grace_s
        self.identity: Identity | None = None
        self.deadline = 0.0
        self.notice: CardAwayNotice | None = None

    @staticmethod
    def load_kv() -> None:
        Builder.load_file(str(_KV))

    @property
    def active(self) -> bool:
        return self.identity is not None

    def begin(self, identity: Identity, now: float) -> None:
        """The card left the pad: remember whose it was (the session still holds it) and show the notice."""
        self.identity = identity
        self.deadline = now + self.grace_s
        if self.notice is None:
            self.notice = CardAwayNotice()
            self.notice.open(animation=False)
        self.tick(now)

    def tick(self, now: float) -> bool:
        """Update the countdown; True once it has run out (the caller then ends the session)."""
        left = max(0.0, self.deadline - now)
        if self.notice is not None:
            self.notice.seconds_left = int(left + 0.999)
        return self.active and left <= 0

    @staticmethod
    def same_number(a: Identity, b: Identity) -> bool:
        """Whether two reads are of the same person (full numbers compared in constant time, never logged)."""
        if a.wiped or b.wiped:
            return False
        return hmac.compare_digest(a.id_number.encode(), b.id_number.encode())

    def close(self) -> None:
        """Forget the grace period. The identity itself is wiped by the session's end, not here."""
        self.identity = None
        if self.notice is not None:
            n, self.notice = self.notice, None
            n.dismiss(animation=False)
