"""Injected time, so tests can run a week of expiry in microseconds."""

from __future__ import annotations

import datetime as dt
import time
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
