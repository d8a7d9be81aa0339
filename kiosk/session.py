"""The session at the kiosk: who is using it, in which language, since when, and what they typed.

Pure and Kivy-free. The UI keeps one :class:`KioskSession`, calls :meth:`touch`
on every tap and :meth:`phase` on a timer; when the phase becomes ``expired``
(or the card leaves the reader) it calls :meth:`wipe`, which drops the
identity, the form data and everything a screen put in ``scratch``.
"""

from __future__ import annotations

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
