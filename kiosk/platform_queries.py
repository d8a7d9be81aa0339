"""Live questions to the platform (我的办件, 我的诉求, 我的评价): answered now, or said plainly that they cannot be.

No personal result is ever cached (kiosk-platform.md, "Personal data"): when
the platform cannot be reached, the citizen is told the question cannot be
answered now and when the platform last answered this kiosk
(:class:`QueryUnavailable`), while filings, tickets, ratings and confirmations
still queue with a receipt.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TypeVar

from kiosk.errors import PlatformFeatureUnavailable, PlatformUnavailable
from kiosk.ports import Platform

T = TypeVar("T")
V11_QUERIES = frozenset({"QueryTickets", "QueryEvaluations"})


class QueryUnavailable(PlatformUnavailable):
    """The platform cannot answer a lookup now; ``last_answer_at`` is when it last answered (None: not since
    this kiosk started). The screen says both (citizen_key ``error.query_unavailable``, param ``when``)."""

    citizen_key = "error.query_unavailable"

    def __init__(
        self, message: str, last_answer_at: dt.datetime | None, *, retry_after_s: int | None = None
    ) -> None:
        super().__init__(message, retry_after_s=retry_after_s)
        self.last_answer_at = last_answer_at
        if last_answer_at is None:
            self.citizen_key = "error.query_unavailable_never"

    def when(self, tz: dt.tzinfo) -> str | None:
        """The last answer in the hall's time, for the screen (``HH:MM``, or ``MM-DD HH:MM`` on another day)."""
        if self.last_answer_at is None:
            return None
        local = self.last_answer_at.astimezone(tz)
        today = dt.datetime.now(tz).date()
        return f"{local:%H:%M}" if local.date() == today else f"{local:%m-%d %H:%M}"


def ask(platform: Platform | None, operation: str, call: Callable[[Platform], T]) -> T:
    """Make one lookup; QueryUnavailable when the platform is down (or there is none), PlatformFeatureUnavailable
    for a 1.1 lookup on a kiosk pinned to 1.0; the platform's refusals (UNKNOWN_TICKET ...) pass through."""
    if platform is None:
        raise QueryUnavailable(f"{operation}: no platform client", None)
    if operation in V11_QUERIES and not getattr(platform, "v11", True):
        raise PlatformFeatureUnavailable(f"{operation} needs interface 1.1")
    try:
        return call(platform)
    except PlatformUnavailable as err:
        raise QueryUnavailable(
            f"{operation}: {err.message}",
            getattr(platform, "last_answer_at", None),
            retry_after_s=err.retry_after_s,
        ) from err
