"""Delivery policy for one outbox row: the platform call and how its outcome is classified.

What counts as sent, refused for good, worth a retry (an outage or a transient fault code) or an auth alarm,
and the outcome records a drain reports. Claiming rows under leases is :mod:`kiosk.outbox_claims`; recording
outcomes in the database and the sending loop are :mod:`kiosk.outbox_sender`; nothing here touches the database.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Literal

from kiosk.errors import (
    TRANSIENT_FAULT_CODES,
    KioskError,
    PlatformAuthFailed,
    PlatformRejected,
    PlatformUnavailable,
)
from kiosk.outbox import call_platform
from kiosk.outbox_claims import Claimed
from kiosk.ports import Platform

log = logging.getLogger(__name__)

Outcome = Literal["sent", "retry", "dead", "blocked", "skipped"]


@dataclass(frozen=True)
class Delivery:
    """The outcome of one attempt at one row."""

    message_id: int
    outcome: Outcome
    result: dict[str, Any] | None = None
    error: KioskError | None = None


@dataclass
class DrainCounts:
    """What one ``run_once`` did."""

    sent: int = 0
    retried: int = 0
    dead: int = 0
    blocked: bool = False  # the auth alarm is up: nothing was sent

    @property
    def attempted(self) -> int:
        return self.sent + self.retried + self.dead

    def add(self, d: Delivery) -> None:
        if d.outcome == "sent":
            self.sent += 1
        elif d.outcome == "dead":
            self.dead += 1
        elif d.outcome == "retry":
            self.retried += 1


@dataclass
class Attempt:
    """How the call went, before anything is recorded."""

    kind: Literal["sent", "rejected", "unavailable", "auth"]
    result: dict[str, Any] | None = None
    error: KioskError | None = None
    retry_after_s: int | None = None


def attempt(platform: Platform, row: Claimed) -> Attempt:
    """The network call, outside any transaction."""
    try:
        return Attempt("sent", result=call_platform(platform, row.operation, row.request_id, row.payload))
    except PlatformAuthFailed as err:
        return Attempt("auth", error=err)
    except PlatformRejected as err:
        if err.code in TRANSIENT_FAULT_CODES:
            return Attempt("unavailable", error=err, retry_after_s=err.retry_after_s)
        return Attempt("rejected", error=err)
    except PlatformUnavailable as err:
        return Attempt("unavailable", error=err, retry_after_s=err.retry_after_s)
    except Exception as err:  # a client bug must not lose the row: retry it like an outage
        log.exception("outbox %d: unexpected error from the platform client", row.id)
        return Attempt("unavailable", error=KioskError(f"{type(err).__name__}: {err}"))
    finally:
        row.payload = {}  # drop our copy of unsealed personal data as soon as possible
