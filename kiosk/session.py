"""The session at the kiosk: who is using it, in which language, since when, and what they typed.

Pure and Kivy-free. The UI keeps one :class:`KioskSession`, calls :meth:`touch`
on every tap and :meth:`phase` on a timer; when the phase becomes ``expired``
(or the card leaves the reader) it calls :meth:`wipe`, which drops the
identity, the form data and everything a screen put in ``scratch``.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from typing import Any, Literal

from kiosk.identity import Identity

Role = Literal["citizen", "staff", "technician"]
Phase = Literal["active", "warning", "expired"]
ELDER_TIME_FACTOR = 2
Language = Literal["zh", "en"]


@dataclass
class KioskSession:
    """One person's use of the kiosk, from the first tap to the wipe."""

    default_language: Language = "zh"
    warning_after_s: float = 60.0
    countdown_s: float = 15.0
    language: Language = "zh"
    large_text: bool = False
    elder: bool = False  # 长辈模式: larger everything, four items a page, slower speech, twice the time
    role: Role = "citizen"
    identity: Identity | None = None
    staff_id: str | None = None  # a badge UID or "pin": who to name in the audit log, never a person's name
    card_reader: str | None = None  # the reader the identity came from, so its removal ends the session
    form: dict[str, str] = field(default_factory=dict)
    scratch: dict[str, Any] = field(default_factory=dict)  # per-screen state (results, case lists, codes)
    last_activity: float = 0.0
    generation: int = 0  # bumped by every wipe so late worker results for an old session are dropped

    def __post_init__(self) -> None:
        self.language = self.default_language

    # --- activity -----------------------------------------------------------
    def touch(self, now: float) -> None:
        """Someone did something: restart the inactivity timer."""
        self.last_activity = now

    def idle_for(self, now: float) -> float:
        return max(0.0, now - self.last_activity)

    def phase(self, now: float) -> Phase:
        """``warning`` after ``warning_after_s`` idle, ``expired`` once the countdown has run out too."""
        idle, warn, count = self.idle_for(now), *self._times()
        if idle >= warn + count:
            return "expired"
        if idle >= warn:
            return "warning"
        return "active"

    def _times(self) -> tuple[float, float]:
        """(warning after, countdown): doubled in elder mode (reading and finding the card take longer)."""
        f = ELDER_TIME_FACTOR if self.elder else 1
        return self.warning_after_s * f, self.countdown_s * f

    def countdown_left(self, now: float) -> int:
        """Whole seconds left on the warning's countdown (shown to the user)."""
        warn, count = self._times()
        left = warn + count - self.idle_for(now)
        return max(0, int(left + 0.999))

    # --- who ----------------------------------------------------------------
    @property
    def identified(self) -> bool:
        return self.identity is not None and not self.identity.wiped

    def identify(self, identity: Identity, reader: str, now: float) -> None:
        """A citizen's card was read. A different person's card replaces the whole session first."""
        if self.identity is not None and self.identity.id_number != identity.id_number:
            self.wipe(now)
        self.identity = identity
        self.card_reader = reader
        self.touch(now)

    def enter_staff(self, role: Role, staff_id: str, now: float) -> None:
        """Staff or technician mode. Citizen data never survives into it."""
        self.wipe(now)
        self.role = role
        self.staff_id = staff_id
        self.touch(now)

    @property
    def is_staff(self) -> bool:
        return self.role in ("staff", "technician")

    # --- the end ------------------------------------------------------------
    def wipe(self, now: float) -> None:
        """Forget everything about the person: identity, form, screen state, role; back to the default language."""
        if self.identity is not None:
            self.identity.wipe()
        self.identity = None
        self.card_reader = None
        self.staff_id = None
        self.role = "citizen"
        self.form.clear()
        self.scratch.clear()
        self.language = self.default_language
        self.large_text = False
        self.elder = False
        self.generation += 1
        self.last_activity = now

    def is_blank(self) -> bool:
        """True when nothing personal is held (what a test checks after a reset)."""
        return self.identity is None and not self.form and not self.scratch and self.staff_id is None


# --- card events: the session rules the UI applies (pure; ui/app.py carries them out) --------------------------

# Long enough to notice the notice and put the card back, short enough that a walked-away person's data goes soon.
CARD_RETURN_S = 30.0
PAD_CARD_KINDS = frozenset({"resident_id"})  # second-generation ID cards are contactless: always on a pad

CardRoute = Literal["stale", "staff_mode", "identified", "badge", "removed", "screen"]
RemovalPolicy = Literal["end", "ask", "keep"]
Removal = Literal["nothing", "wipe_keep_screen", "ask_back", "end"]


def on_pad(identity: Identity) -> bool:
    """Whether this card was laid on a reader pad (lifted casually) rather than pushed into a slot."""
    return identity.card_kind in PAD_CARD_KINDS


def same_card(a: Identity | None, b: Identity | None) -> bool:
    """Whether two reads are of the same person (full numbers compared in constant time, never logged)."""
    if a is None or b is None or a.wiped or b.wiped:
        return False
    return hmac.compare_digest(a.id_number.encode(), b.id_number.encode())


def route_card_event(
    kind: str,
    reader: str,
    *,
    has_identity: bool,
    stale: bool,
    identified: bool,
    is_staff: bool,
    session_reader: str | None,
) -> CardRoute:
    """Where one reader event goes. ``stale``: the reader still held the previous session's card when it ended.

    ``identified`` goes to the identity rules (:func:`on_identified`), then to the screen too; ``stale`` and
    ``staff_mode`` reads are wiped unused; ``removed`` (only the session's own card) goes to :func:`on_removed`;
    everything else is the screen's.
    """
    if kind == "identified" and has_identity:
        if stale and not identified:
            return "stale"  # read again without being lifted: still the previous session's card
        if is_staff:
            return "staff_mode"  # a citizen card in staff mode is not used and not kept
        return "identified"
    if kind == "badge":
        return "badge"
    if kind == "removed" and identified and reader == session_reader:
        return "removed"
    return "screen"


@dataclass(frozen=True)
class OnIdentified:
    """What a new identity read means for the session."""

    refuse: bool = False  # wipe the new read, change nothing (another card while a door is open)
    resume: bool = False  # the lifted card came back: close the card-away notice
    reset: bool = False  # end the previous session first (another person)
    keep_old: bool = False  # the same person: keep the session's copy, wipe the fresh duplicate


def on_identified(*, same: bool, had_identity: bool, holds_session: bool, card_away: bool) -> OnIdentified:
    """The rules for an identity read; ``same``: :func:`same_card` of the session's identity and the new read."""
    other = had_identity and not same
    if other and holds_session:
        return OnIdentified(refuse=True)
    keep_old = same and had_identity
    if card_away:
        return OnIdentified(resume=same, reset=not same, keep_old=keep_old)
    return OnIdentified(reset=other, keep_old=keep_old)


def on_removed(
    *, has_identity: bool, card_away: bool, holds_session: bool, policy: RemovalPolicy, pad: bool
) -> Removal:
    """The session's card left its reader. What that means depends on the card and on what the screen is doing.

    A door open for them, or an outcome on show (``keep``, pad card): the data goes, the screen stays. A pad card
    lifted mid-task (``ask``): ask for it back (the card-away pause). Otherwise the session ends.
    """
    if not has_identity or card_away:
        return "nothing"
    if holds_session or (policy == "keep" and pad):
        return "wipe_keep_screen"
    if policy == "ask" and pad:
        return "ask_back"
    return "end"


@dataclass
class CardAwayPause:
    """The grace period after a pad card was lifted: whose it was and until when (the UI shows the notice)."""

    grace_s: float = CARD_RETURN_S
    identity: Identity | None = None
    deadline: float = 0.0

    @property
    def active(self) -> bool:
        return self.identity is not None

    def begin(self, identity: Identity, now: float) -> None:
        self.identity = identity
        self.deadline = now + self.grace_s

    def seconds_left(self, now: float) -> int:
        return int(max(0.0, self.deadline - now) + 0.999)

    def expired(self, now: float) -> bool:
        """True once the grace period has run out while active (the caller then ends the session)."""
        return self.active and self.deadline - now <= 0

    def end(self) -> None:
        """Forget the pause. The identity itself is wiped by the session's end, not here."""
        self.identity = None
