"""Claiming outbox rows under a lease: which rows one sender may send now, and giving back what it did not try.

A claim is one short transaction: take a batch of due rows of this sender's kiosk (``FOR UPDATE SKIP LOCKED`` on
PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite), count the attempt and push ``next_attempt_at`` past the time the
sends may take (the lease), then commit. So two kiosks sharing a database never send one row at the same time,
and a process killed mid-send leaves pending rows that are simply sent again when their lease runs out. The lease
is also written into the row (``outbox.LEASE``) so ``outbox.cancel_pending`` can tell a row on the wire from one
waiting. A claimed row whose reason to exist is gone (``outbox.moot``) is cancelled instead of handed out, and
one whose payload cannot be unsealed goes to ``on_unusable`` (the sender's dead letter).

What is done with a claimed row (sending it, recording the outcome, backing off) is the delivery policy:
:mod:`kiosk.outbox_sender` and :mod:`kiosk.outbox_delivery`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from kiosk.clock import Clock
from kiosk.errors import KioskError
from kiosk.heartbeat import auth_alarm
from kiosk.outbox import PENDING, cancel, lease_of, moot, of_kiosk, reason_of
from kiosk.sealing import unseal
from kiosk.storage.models import OutboxMessage, Submission

Unusable = Callable[[Session, OutboxMessage, dt.datetime, str], None]


@dataclass
class Claimed:
    """A row a sender has leased, with its payload unsealed for the one call."""

    id: int
    request_id: str
    operation: str
    attempts: int
    payload: dict[str, Any]


class Claims:
    """One sender's claims: its kiosk's rows (``origin``), leased for ``lease_s`` seconds per attempt."""

    def __init__(
        self,
        secret: bytes,
        clock: Clock,
        *,
        origin: str | None,
        lease_s: float,
        actor: str,
        on_unusable: Unusable,
    ) -> None:
        self.secret = secret
        self.clock = clock
        self.origin = origin
        self.lease_s = lease_s  # how long one attempt may take before another sender may take the row again
        self.actor = actor
        self.on_unusable = on_unusable
        self.blocked = (
            False  # the auth alarm was up at the last claim: nothing is handed out until staff clear it
        )

    def claim(self, s: Session, n: int, *, only_id: int | None = None) -> list[Claimed]:
        """Take up to n due rows (or the one held row): count the attempt, lease them, unseal their payloads."""
        self.blocked = auth_alarm(s) is not None
        if self.blocked or n <= 0:
            return []
        now = self.clock.now()
        s.flush()  # outcomes recorded in this transaction must be visible to the Core query below
        t = OutboxMessage.__table__
        q = select(
            t.c.id,
            t.c.request_id,
            t.c.operation,
            t.c.attempts,
            t.c.payload,
            t.c.sensitive,
            t.c.ref_kind,
            t.c.ref_id,
        ).where(t.c.state == PENDING, of_kiosk(self.origin))
        q = q.where(t.c.id == only_id) if only_id is not None else q.where(t.c.next_attempt_at <= now)
        # Core, not ORM: claiming is on the hot path of a drain (one statement each way for the whole batch).
        q = q.order_by(t.c.next_attempt_at, t.c.id).limit(n).with_for_update(skip_locked=True, key_share=True)
        out: list[Claimed] = []
        rows = s.execute(q).all()
        gone = moot(s, [(r.id, r.operation, r.ref_kind, r.ref_id) for r in rows])
        for r in rows:
            if r.id in gone:
                msg = s.get(OutboxMessage, r.id)
                if msg is not None:
                    cancel(s, now, msg, gone[r.id], actor=self.actor)
                continue
            try:
                payload = unseal(self.secret, r.payload["sealed"]) if r.sensitive else dict(r.payload)
            except (KeyError, TypeError, KioskError) as err:
                msg = s.get(OutboxMessage, r.id)
                if msg is not None:
                    self.on_unusable(s, msg, now, f"payload unusable: {reason_of(err)}")
                continue
            out.append(
                Claimed(
                    id=r.id,
                    request_id=r.request_id,
                    operation=r.operation,
                    attempts=r.attempts + 1,
                    payload=payload,
                )
            )
        if out:
            # Counted before the call and leased past its timeout: a crash mid-send reads as a failed attempt.
            until = now + dt.timedelta(seconds=self.lease_s)
            s.execute(
                update(t)
                .where(t.c.id.in_([c.id for c in out]))
                .values(attempts=t.c.attempts + 1, next_attempt_at=until, result=lease_of(until))
            )
        return out

    def load(self, s: Session, ids: list[int]) -> dict[int, OutboxMessage]:
        """Lock and load claimed rows, and the submissions they report on, in two queries."""
        msgs = {
            m.id: m
            for m in s.execute(
                select(OutboxMessage)
                .where(OutboxMessage.id.in_(ids))
                .order_by(OutboxMessage.id)
                .with_for_update()
            ).scalars()
        }
        sub_ids = [m.ref_id for m in msgs.values() if m.ref_kind == "submission" and m.ref_id is not None]
        if sub_ids:
            # Held in the session's info so the identity map keeps them for submission_handler's get().
            s.info["outbox_refs"] = (
                s.execute(select(Submission).where(Submission.id.in_(sub_ids))).scalars().all()
            )
        return msgs

    def release(self, msgs: list[OutboxMessage], due: dt.datetime) -> None:
        """Give back claimed rows that were not tried: attempt not counted, due again at ``due``."""
        for msg in msgs:
            if msg.state == PENDING:
                msg.attempts = max(0, msg.attempts - 1)
                msg.next_attempt_at = due
                msg.result = None

    def hold(self, msg: OutboxMessage) -> None:
        """Keep a row just enqueued (in the caller's transaction) away from every sender for one lease."""
        msg.next_attempt_at = self.clock.now() + dt.timedelta(seconds=self.lease_s)
