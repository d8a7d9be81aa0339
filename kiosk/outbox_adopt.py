"""Adopting a retired kiosk's outbox: its waiting rows sent under its own kioskId and credentials.

The platform accepts a request only from the kiosk named in it, with that kiosk's credentials, and scopes
requestId per kiosk (kiosk-platform.md). A row another kiosk sent as itself would be a second request (or a
CONFLICT, marked dead although the first was delivered). So when a kiosk is retired for good, a hall's
remaining kiosk sends that kiosk's rows with a sender built from the retired kiosk's own config: same
kioskId, same credentials, each row's own requestId. The sealed payloads open with the hall's one secret.

Adoption is a one-shot drain, audited (``outbox.adopt``): what was sent, what died, what is left (the
platform was down or refused the credentials: run it again later). An AUTH_FAILED here stops only this
adoption; it does not raise the alarm that stops every kiosk's sender.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from kiosk.audit import append as audit_append
from kiosk.clock import Clock
from kiosk.config import PlatformConfig
from kiosk.errors import KioskError
from kiosk.outbox import PENDING, in_flight, of_kiosk
from kiosk.outbox_delivery import DrainCounts
from kiosk.outbox_sender import OutboxSender
from kiosk.ports import Platform
from kiosk.storage.db import Database
from kiosk.storage.models import OutboxMessage


class AdoptError(KioskError):
    """An adoption that cannot be carried out as asked."""

    exit_code = 2


@dataclass(frozen=True)
class Adoption:
    """The outcome of one ``adopt`` run."""

    kiosk: str
    due: int  # waiting rows made due at the start (rows on the wire right now are left to their sender)
    sent: int
    dead: int
    left: int  # still pending afterwards
    stopped: str | None  # why the drain stopped before the end: credentials refused, platform unavailable


def adopt(
    db: Database,
    platform: Platform,
    secret: bytes,
    clock: Clock,
    cfg: PlatformConfig,
    kiosk_id: str,
    *,
    actor: str,
) -> Adoption:
    """Send every waiting row of ``kiosk_id`` through ``platform`` (a client holding that kiosk's identity)."""
    if kiosk_id == db.kiosk_id:
        raise AdoptError(
            f"{kiosk_id} is this kiosk: its own sender sends its rows",
            hint="Run `kiosk outbox adopt` on another kiosk of the hall, with the retired kiosk's config.",
        )
    now = clock.now()
    with db.transaction() as s:
        q = (
            select(OutboxMessage)
            .where(of_kiosk(kiosk_id), OutboxMessage.state == PENDING)
            .with_for_update(skip_locked=True, key_share=True)
        )
        due = 0
        for msg in s.execute(q).scalars():
            if not in_flight(msg, now):  # a row its own sender holds right now is left to it
                msg.next_attempt_at = now
                due += 1
    sender = OutboxSender(
        db, platform, secret, clock, cfg, origin=kiosk_id, actor=actor, raises_auth_alarm=False
    )
    total, stopped = DrainCounts(), None
    while True:
        c = sender.run_once()
        total.sent += c.sent
        total.dead += c.dead
        total.retried += c.retried
        if c.blocked:
            stopped = f"the platform refused kiosk {kiosk_id}'s credentials (or the hall's auth alarm is up)"
            break
        if sender.paused_for_s() > 0:
            stopped = "the platform is unavailable"
            break
        if c.attempted == 0:
            break
    with db.transaction() as s:
        left = len(
            s.execute(
                select(OutboxMessage.id).where(of_kiosk(kiosk_id), OutboxMessage.state == PENDING)
            ).all()
        )
        audit_append(
            s,
            clock.now(),
            actor,
            "outbox.adopt",
            f"kiosk:{kiosk_id}",
            by=db.kiosk_id,
            due=due,
            sent=total.sent,
            dead=total.dead,
            left=left,
            stopped=stopped,
        )
    return Adoption(kiosk=kiosk_id, due=due, sent=total.sent, dead=total.dead, left=left, stopped=stopped)


def age_text(seconds: float | None) -> str:
    """An age for staff: 45 s, 12 min, 3.5 h, 2.0 d."""
    if seconds is None:
        return "-"
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    if seconds < 172800:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} d"
