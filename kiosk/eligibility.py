"""Eligibility before the form (interface 1.1): the platform's rule, checked on the kiosk from the identified card.

kiosk-platform.md, "办事指南 and eligibility": ``idType`` listed -> the
applicant's id type must be one of them; ``minAgeYears`` / ``maxAgeYears``
(both inclusive) -> age in completed years on the current date in China
Standard Time (UTC+8), from the birth date in characters 7-14 of the GB 11643
number (resident ID card; social security card, same number); one born on
29 February completes a year on 1 March in a common year; with an age limit an
ID without a readable birth date (passport, other) is not eligible.

The kiosk checks before a field is typed so the citizen learns at once, and
politely, why and what to do instead (帮办, the window). The platform's date
still decides (around midnight they can differ): its NOT_ELIGIBLE is handled
too (:class:`NotEligible`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from kiosk.errors import FlowError
from kiosk.identity import Identity
from kiosk.platform_models import Eligibility, IdType, Matter

CHINA = dt.timezone(dt.timedelta(hours=8), "CST")
BIRTH_DATE_ID_TYPES: tuple[IdType, ...] = ("RESIDENT_ID", "SOCIAL_SECURITY_CARD")
Why = Literal["id_type", "no_birth_date", "too_young", "too_old"]


def china_date(now: dt.datetime) -> dt.date:
    """The date in China Standard Time, the one the platform judges ages on."""
    return now.astimezone(CHINA).date()


def completed_years(born: dt.date, on: dt.date) -> int:
    """Age in completed years on ``on``. Born on 29 February: the year completes on 1 March in a common year
    (28 February comes before 29 February, so it is not yet the birthday)."""
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def id_type_of(identity: Identity) -> IdType:
    """The platform's idType for a card the kiosk read."""
    return {"resident_id": "RESIDENT_ID", "social_security": "SOCIAL_SECURITY_CARD"}.get(
        identity.card_kind, "OTHER"
    )  # type: ignore[return-value]


def birth_date_for(id_type: str, id_number: str) -> dt.date | None:
    """Characters 7-14 of a GB 11643 number as a date; None for other id types or an unreadable date."""
    n = id_number.strip()
    if id_type not in BIRTH_DATE_ID_TYPES or len(n) != 18 or not n[6:14].isdigit():
        return None
    try:
        return dt.date(int(n[6:10]), int(n[10:12]), int(n[12:14]))
    except ValueError:
        return None


@dataclass(frozen=True)
class Verdict:
    """The outcome of the check, with what the citizen is told (``text_key`` and ``params``, both languages)."""

    eligible: bool
    why: Why | None = None
    matter_code: str | None = None
    age: int | None = None
    min_age: int | None = None
    max_age: int | None = None
    id_types: tuple[str, ...] = ()

    @property
    def text_key(self) -> str:
        return f"eligibility.{self.why}" if self.why else "eligibility.ok"

    @property
    def params(self) -> dict[str, object]:
        return {"age": self.age, "min": self.min_age, "max": self.max_age}


ELIGIBLE = Verdict(True)


def check(
    eligibility: Eligibility | None,
    id_type: str,
    id_number: str,
    now: dt.datetime,
    *,
    matter_code: str | None = None,
) -> Verdict:
    """The platform's rule for one applicant and one matter, on the China date of ``now``."""
    if eligibility is None:
        return ELIGIBLE
    e = eligibility
    base = {
        "matter_code": matter_code,
        "min_age": e.min_age_years,
        "max_age": e.max_age_years,
        "id_types": tuple(e.id_types),
    }
    if e.id_types and id_type not in e.id_types:
        return Verdict(eligible=False, why="id_type", **base)
    if e.min_age_years is None and e.max_age_years is None:
        return ELIGIBLE
    born = birth_date_for(id_type, id_number)
    if born is None:
        return Verdict(eligible=False, why="no_birth_date", **base)
    age = completed_years(born, china_date(now))
    if e.min_age_years is not None and age < e.min_age_years:
        return Verdict(eligible=False, why="too_young", age=age, **base)
    if e.max_age_years is not None and age > e.max_age_years:
        return Verdict(eligible=False, why="too_old", age=age, **base)
    return ELIGIBLE


def check_matters(matters: Iterable[Matter], id_type: str, id_number: str, now: dt.datetime) -> Verdict:
    """The first member a citizen is not eligible for (a bundle is refused for any member's), or ELIGIBLE."""
    for m in matters:
        v = check(m.eligibility, id_type, id_number, now, matter_code=m.code)
        if not v.eligible:
            return v
    return ELIGIBLE


def check_identity(matter: Matter, identity: Identity, now: dt.datetime) -> Verdict:
    """The check for the card on the reader, before the form."""
    return check(matter.eligibility, id_type_of(identity), identity.id_number, now, matter_code=matter.code)


class NotEligible(FlowError):
    """The applicant does not meet a matter's (or a bundle member's) eligibility: nothing was filed.

    ``verdict`` says why when the kiosk knows (its own check); after the platform's NOT_ELIGIBLE (a stale
    catalog, or midnight between the two checks) it is the platform's message only. Offer 帮办 or the window.
    """

    citizen_key = "error.not_eligible"
    hint = "The applicant does not meet the matter's eligibility; nothing to fix on the kiosk."

    def __init__(
        self, message: str, verdict: Verdict | None = None, *, platform_message: str | None = None
    ) -> None:
        super().__init__(message)
        self.verdict = verdict
        self.platform_message = platform_message
