"""The platform's own reading of the v1.1 rules: ages, working days, opening hours.

Written here independently of the kiosk's core (``kiosk.eligibility``) on
purpose: the simulator is what the kiosk is tested against, so a mistake in
one must not be mirrored in the other.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection

CST = dt.timezone(dt.timedelta(hours=8), "CST")  # China Standard Time: the platform's date is taken here
BIRTH_DATE_ID_TYPES = (
    "RESIDENT_ID",
    "SOCIAL_SECURITY_CARD",
)  # GB 11643 numbers: characters 7-14 are YYYYMMDD


def platform_date(now: dt.datetime) -> dt.date:
    return now.astimezone(CST).date()


def completed_years(born: dt.date, on: dt.date) -> int:
    """Age in completed years. One born on 29 February completes a year on 1 March in a common year."""
    years = on.year - born.year
    # (month, day) comparison: 29 Feb is after 28 Feb, so in a common year the year completes on 1 March.
    if (on.month, on.day) < (born.month, born.day):
        years -= 1
    return years


def birth_date(id_type: str, id_number: str) -> dt.date | None:
    if id_type not in BIRTH_DATE_ID_TYPES or len(id_number) != 18:
        return None
    try:
        return dt.date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))
    except ValueError:
        return None


def ineligible(elig: object | None, id_type: str, id_number: str, now: dt.datetime) -> str | None:
    """Why an applicant fails a matter's eligibility (the fault's message), or None when eligible."""
    if elig is None:
        return None
    id_types = getattr(elig, "id_types", ())
    if id_types and id_type not in id_types:
        return f"证件类型 {id_type} 不可办理此事项（可用：{'、'.join(id_types)}）"
    lo, hi = getattr(elig, "min_age_years", None), getattr(elig, "max_age_years", None)
    if lo is None and hi is None:
        return None
    born = birth_date(id_type, id_number)
    if born is None:
        return "此事项有年龄要求，须使用载有出生日期的居民身份证或社会保障卡"
    age = completed_years(born, platform_date(now))
    if lo is not None and age < lo:
        return f"申请人未满{lo}周岁"
    if hi is not None and age > hi:
        return f"申请人已超过{hi}周岁"
    return None


def add_working_days(start: dt.date, days: int, holidays: Collection[dt.date] = ()) -> dt.date:
    """The ``days``-th working day after ``start`` (Saturdays, Sundays and ``holidays`` do not count)."""
    d, left = start, days
    while left > 0:
        d += dt.timedelta(days=1)
        if d.weekday() < 5 and d not in holidays:
            left -= 1
    return d


def in_opening_hours(now: dt.datetime, holidays: Collection[dt.date] = ()) -> bool:
    """The hall's opening hours: Monday-Friday 09:00-17:00 and Saturday 09:00-12:00, China time."""
    local = now.astimezone(CST)
    if local.date() in holidays:
        return False
    minutes = local.hour * 60 + local.minute
    if local.weekday() < 5:
        return 9 * 60 <= minutes < 17 * 60
    return local.weekday() == 5 and 9 * 60 <= minutes < 12 * 60
