"""Injected time, so tests can run a week of expiry in microseconds."""

from __future__ import annotations

import datetime as dt
import re
import time
from dataclasses import dataclass
from typing import Protocol
from zoneinfo import ZoneInfo

# Halls are in China: what citizens read (an SMS, a receipt, the screen) is Beijing time unless configured.
DEFAULT_TZ = "Asia/Shanghai"


class Clock(Protocol):
    tz: dt.tzinfo  # the hall's local time zone, for what people read

    def monotonic(self) -> float: ...
    def now(self) -> dt.datetime:
        """Aware UTC datetime."""
        ...

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    """The real clock."""

    def __init__(self, tz: dt.tzinfo | None = None) -> None:
        self.tz = tz or ZoneInfo(DEFAULT_TZ)

    def monotonic(self) -> float:
        return time.monotonic()

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


class FakeClock:
    """A test double: time moves only when told to (sleep advances it)."""

    def __init__(self, start: dt.datetime | None = None, tz: dt.tzinfo | None = None) -> None:
        self.tz = tz or ZoneInfo(DEFAULT_TZ)
        self._now = start or dt.datetime(2026, 11, 25, 2, 0, tzinfo=dt.UTC)
        self._mono = 1000.0

    def monotonic(self) -> float:
        return self._mono

    def now(self) -> dt.datetime:
        return self._now

    def sleep(self, seconds: float) -> None:
        self.advance(seconds)

    def advance(self, seconds: float) -> None:
        self._mono += seconds
        self._now += dt.timedelta(seconds=seconds)


def local(clock: Clock, t: dt.datetime | None = None) -> dt.datetime:
    """``t`` (default: now) in the hall's time zone, for display."""
    return (t or clock.now()).astimezone(clock.tz)


@dataclass(frozen=True)
class StaffedHours:
    """When staff are in the hall, local time: ``opens`` to ``closes`` (same day)."""

    opens: dt.time
    closes: dt.time

    @classmethod
    def parse(cls, text: str) -> StaffedHours:
        """``"08:30-17:30"``; ValueError naming the expected form otherwise."""
        m = re.fullmatch(r"([0-2]\d):([0-5]\d)-([0-2]\d):([0-5]\d)", text.strip())
        if not m:
            raise ValueError(f"staffed hours {text!r}: expected HH:MM-HH:MM, e.g. 08:30-17:30")
        a, b = dt.time(int(m[1]), int(m[2])), dt.time(int(m[3]), int(m[4]))
        if not a < b:
            raise ValueError(f"staffed hours {text!r}: the opening time must come before the closing time")
        return cls(a, b)

    def staffed(self, when: dt.datetime) -> bool:
        return self.opens <= when.time() < self.closes
