"""The outbox sender: delivers every due row at least once, always with the row's own requestId.

Claiming: a short transaction takes a batch of due rows (``FOR UPDATE SKIP
LOCKED`` on PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite), counts the attempt and
pushes ``next_attempt_at`` past the time the sends may take (a lease), then
commits. The calls run outside any transaction; their outcomes, the release
of rows not tried and the next claim share one transaction, at least every
``record_every_s``. So two kiosks sharing a database never send one row at the
same time, and a process killed mid-send leaves pending rows that are simply
sent again when their lease runs out: the platform's idempotency (same
requestId, same body, same answer) turns that into exactly once. The lease is
also written into the row (``outbox.LEASE``) so ``outbox.cancel_pending`` can
tell a row on the wire from one waiting, and a claimed row whose reason to exist
is gone (``outbox.moot``: a pickup SMS for a parcel no longer in the cabinet) is
cancelled instead of sent.

Each sender claims only the rows its own kiosk queued (``origin_kiosk``): the platform accepts a request only
under the queuing kiosk's kioskId and credentials. A retired kiosk's rows go out through ``kiosk outbox adopt``,
a sender built with that kiosk's identity.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import threading
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from kiosk import service_requests
from kiosk.clock import Clock
from kiosk.config import PlatformConfig
from kiosk.errors import KioskError, PlatformRejected
from kiosk.heartbeat import PLATFORM_DEVICE, auth_alarm, raise_auth_alarm, set_device_state
from kiosk.outbox import (
    DEAD,
    PENDING,
    SCRUBBED,
    SENT,
    RefHandler,
    cancel,
    lease_of,
    moot,
    next_due,
    of_kiosk,
    reason_of,
    submission_handler,
)
from kiosk.outbox_delivery import Attempt, Claimed, Delivery, DrainCounts, attempt
from kiosk.outbox_tasks import on_dead, on_sent
from kiosk.ports import Platform
from kiosk.sealing import unseal
from kiosk.storage.db import Database
from kiosk.storage.models import OutboxMessage, Submission

log = logging.getLogger(__name__)


class OutboxSender:
    """One worker per process; safe to run in several processes over one PostgreSQL database."""

    def __init__(
        self,
        db: Database,
        platform: Platform,
        secret: bytes,
        clock: Clock,
        cfg: PlatformConfig,
        *,
        batch_size: int = 64,  # rows per claim/commit: each commit is an fsync (synchronous=FULL)
        lease_margin_s: float = 5.0,
        record_every_s: float = 1.0,
        poll_interval_s: float = 30.0,
        rng: random.Random | None = None,
        ref_handlers: Mapping[str, RefHandler] | None = None,
        on_unknown_matter: Callable[[], Any] | None = None,
        actor: str = "outbox",
        origin: str | None = None,
        raises_auth_alarm: bool = True,
    ) -> None:
        self.db = db
        # Whose rows this sender claims: the kiosk whose kioskId and credentials ``platform`` sends under (the
        # database handle's kiosk; another kiosk's only for `kiosk outbox adopt`). The platform scopes requestId
        # per kiosk: a row sent under another kiosk's id would be another request, or a CONFLICT marked dead.
        self.origin = origin or getattr(db, "kiosk_id", None)
        # AUTH_FAILED raises the alarm that stops every sender until staff clear it. Off for `outbox adopt`:
        # a retired kiosk's wrong credentials stop only that adoption (the rows stay, the attempt not counted).
        self.raises_auth_alarm = raises_auth_alarm
        self.platform = platform
        self.secret = secret
        self.clock = clock
        self.cfg = cfg
        self.batch_size = batch_size
        self.lease_margin_s = lease_margin_s
        self.record_every_s = record_every_s
        self.poll_interval_s = poll_interval_s
        self.rng = rng or random.Random()
        self.ref_handlers: dict[str, RefHandler] = {
            "submission": submission_handler,
            service_requests.REF_KIND: service_requests.handler,
            **(ref_handlers or {}),
        }
        self.on_unknown_matter = on_unknown_matter
        self.actor = actor
        self._paused_until = 0.0  # monotonic: the platform said wait, or is down
        self._platform_down = False  # so "platform" OK is recorded once, not per row
        self._blocked = False  # the auth alarm was up at the last claim
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # --- timing -------------------------------------------------------------------
    @property
    def attempt_lease_s(self) -> float:
        """How long one attempt may take before another sender may take the row again."""
        return self.cfg.timeout_s + self.cfg.connect_timeout_s + self.lease_margin_s

    def backoff_s(self, attempts: int) -> float:
        """Delay after the ``attempts``-th failed attempt: exponential, capped, jittered to 50-100 %."""
        base = min(
            self.cfg.outbox_backoff_max_s,
            self.cfg.outbox_backoff_initial_s * 2 ** min(max(attempts - 1, 0), 40),
        )
        return base * (0.5 + 0.5 * self.rng.random())

    def paused_for_s(self) -> float:
        """Seconds until this sender tries the platform again after an outage (0: not paused)."""
        return max(0.0, self._paused_until - self.clock.monotonic())

    # --- draining -----------------------------------------------------------------
    def run_once(self, *, limit: int | None = None) -> DrainCounts:
        """Send every row due now (up to ``limit``); stop early when the platform is down or refuses us."""
        counts = DrainCounts()
        if self.paused_for_s() > 0:
            return counts
        with self.db.transaction() as s:
            batch = self._claim(s, self._room(counts, limit))
            counts.blocked = not batch and self._blocked
        while batch:
            # No send may start once the lease left is shorter than one attempt: another kiosk could take the row.
            started = self.clock.monotonic()
            last_start = started + min(
                self.record_every_s, self.attempt_lease_s - self.cfg.timeout_s - self.cfg.connect_timeout_s
            )
            done: list[tuple[Claimed, Attempt]] = []
            for row in batch:
                if self.clock.monotonic() > last_start:  # also: outcomes reach the database within ~a second
                    break
                att = attempt(self.platform, row)
                done.append((row, att))
                if att.kind in ("auth", "unavailable"):
                    break
            with self.db.transaction() as s:
                # Outcomes of this batch, the release of rows not tried and the next claim: one commit.
                msgs = self._load(s, [r.id for r in batch])
                with s.no_autoflush:  # one flush at commit, not one per row
                    deliveries = [self._record(s, msgs.get(row.id), row, att) for row, att in done]
                self._release(s, [msgs[r.id] for r in batch[len(done) :] if r.id in msgs])
                go_on = (
                    all(d.outcome in ("sent", "dead", "skipped") for d in deliveries)
                    and self.paused_for_s() == 0
                )
                for d in deliveries:
                    counts.add(d)
                batch = self._claim(s, self._room(counts, limit)) if go_on else []
            counts.blocked = any(d.outcome == "blocked" for d in deliveries) or (not batch and self._blocked)
            for d in deliveries:
                self._after(d)
        return counts

    def _room(self, counts: DrainCounts, limit: int | None) -> int:
        return self.batch_size if limit is None else max(0, min(self.batch_size, limit - counts.attempted))

    def hold(self, msg: OutboxMessage) -> None:
        """Keep a row just enqueued (in the caller's transaction) away from the worker, for ``send_now``."""
        msg.next_attempt_at = self.clock.now() + dt.timedelta(seconds=self.attempt_lease_s)

    def send_now(self, message_id: int) -> Delivery:
        """Send one held row at once (the citizen waits; bounded by the client's timeout)."""
        with self.db.transaction() as s:
            rows = [] if self.paused_for_s() > 0 else self._claim(s, 1, only_id=message_id)
            if not rows:
                # Known outage or alarm: leave it to the worker, due when the pause ends.
                msg = s.get(OutboxMessage, message_id, with_for_update=True)
                if msg is not None and msg.state == PENDING:
                    msg.next_attempt_at = self.clock.now() + dt.timedelta(seconds=self.paused_for_s())
                return Delivery(message_id, "skipped")
        att = attempt(self.platform, rows[0])
        with self.db.transaction() as s:
            d = self._record(s, self._load(s, [message_id]).get(message_id), rows[0], att, present=True)
        self._after(d)
        return d

    def _claim(self, s: Session, n: int, *, only_id: int | None = None) -> list[Claimed]:
        """Take up to n due rows (or the one held row): count the attempt, lease them, unseal their payloads."""
        self._blocked = auth_alarm(s) is not None
        if self._blocked or n <= 0:
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
        q = q.order_by(t.c.next_attempt_at, t.c.id).limit(n).with_for_update(skip_locked=True)
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
                    self._dead(s, msg, now, f"payload unusable: {reason_of(err)}")
                continue
            out.append(Claimed(r.id, r.request_id, r.operation, r.attempts + 1, payload))
        if out:
            # Counted before the call and leased past its timeout: a crash mid-send reads as a failed attempt.
            until = now + dt.timedelta(seconds=self.attempt_lease_s)
            s.execute(
                update(t)
                .where(t.c.id.in_([c.id for c in out]))
                .values(attempts=t.c.attempts + 1, next_attempt_at=until, result=lease_of(until))
            )
        return out

    def _load(self, s: Session, ids: list[int]) -> dict[int, OutboxMessage]:
        """Lock and load the rows, and the submissions they report on, in two queries."""
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

    def _release(self, s: Session, msgs: list[OutboxMessage]) -> None:
        """Give back claimed rows that were not tried: attempt not counted, due when the pause ends."""
        due = self.clock.now() + dt.timedelta(seconds=self.paused_for_s())
        for msg in msgs:
            if msg.state == PENDING:
                msg.attempts = max(0, msg.attempts - 1)
                msg.next_attempt_at, msg.result = due, None

    # --- recording an attempt ------------------------------------------------------------
    def _record(
        self, s: Session, msg: OutboxMessage | None, row: Claimed, att: Attempt, *, present: bool = False
    ) -> Delivery:
        """Write the attempt's outcome in the caller's transaction (``present``: the citizen waits at the screen)."""
        now = self.clock.now()
        if msg is None or msg.state != PENDING:
            # Another sender got there after our lease ran out and recorded the same answer.
            return Delivery(row.id, "sent" if att.kind == "sent" else "skipped", att.result, att.error)
        if att.kind == "sent":
            assert att.result is not None
            was_failing = msg.last_error is not None
            msg.state, msg.sent_at, msg.result, msg.last_error = SENT, now, att.result, None
            if msg.sensitive:
                msg.payload = dict(SCRUBBED)  # the sealed personal data has done its job
            self._ref(s, msg, att.result, None)
            on_sent(s, now, msg, att.result, was_failing=was_failing, secret=self.secret, actor=self.actor)
            if self._platform_down:
                set_device_state(s, now, PLATFORM_DEVICE, "OK", "outbox delivered again")
                self._platform_down = False
            return Delivery(row.id, "sent", att.result)
        err = att.error
        assert err is not None
        reason = reason_of(err)
        if att.kind == "auth":
            if self.raises_auth_alarm:
                raise_auth_alarm(s, now, f"AUTH_FAILED on {row.operation}: {reason}", actor=self.actor)
            # Not the row's fault: the attempt is not counted and the row goes first once the alarm clears.
            msg.attempts = max(0, msg.attempts - 1)
            msg.next_attempt_at, msg.last_error, msg.result = now, reason, None
            return Delivery(row.id, "blocked", error=err)
        if att.kind == "rejected":
            # A refusal on the fast path is shown to the citizen at once: no staff task for it.
            self._dead(s, msg, now, reason, err, task=not present)
            return Delivery(row.id, "dead", error=err)
        if att.retry_after_s is not None and att.retry_after_s > 0:
            delay = att.retry_after_s + self.rng.random() * min(5.0, att.retry_after_s * 0.1)  # never earlier
        else:
            delay = self.backoff_s(row.attempts)
        self._paused_until = self.clock.monotonic() + delay
        set_device_state(s, now, PLATFORM_DEVICE, "FAULT", f"outbox: {reason}")
        self._platform_down = True
        if row.attempts >= self.cfg.outbox_max_attempts:
            self._dead(s, msg, now, f"gave up after {row.attempts} attempts: {reason}", err)
            return Delivery(row.id, "dead", error=err)
        msg.next_attempt_at, msg.last_error, msg.result = (
            now + dt.timedelta(seconds=delay),
            reason,
            None,
        )  # lease over
        log.info(
            "outbox %d %s: platform unavailable (%s); next attempt in %.1f s",
            row.id,
            row.operation,
            reason,
            delay,
        )
        return Delivery(row.id, "retry", error=err)

    def _after(self, d: Delivery) -> None:
        """What follows a committed outcome outside the transaction."""
        err = d.error
        if d.outcome != "dead" or not isinstance(err, PlatformRejected):
            return
        if err.code == "CONFLICT":
            log.error(
                "outbox %d: CONFLICT: its requestId was used with another body (a bug, not retried)",
                d.message_id,
            )
        else:
            log.warning("outbox %d rejected: %s", d.message_id, reason_of(err))
        if err.code == "UNKNOWN_MATTER" and self.on_unknown_matter is not None:
            try:
                self.on_unknown_matter()
            except KioskError as cerr:
                log.warning("catalog refresh after UNKNOWN_MATTER failed: %s", cerr.message)

    def _dead(
        self,
        s: Session,
        msg: OutboxMessage,
        now: dt.datetime,
        reason: str,
        err: KioskError | None = None,
        *,
        task: bool = True,
    ) -> None:
        from kiosk.audit import append as audit_append

        msg.state, msg.last_error, msg.result = DEAD, reason, None
        # Staff work from the task list, not `kiosk outbox list`: a dead letter someone waits on becomes a task there.
        raised = on_dead(s, now, msg, reason, err, self.secret, actor=self.actor) if task else None
        audit_append(
            s,
            now,
            self.actor,
            "outbox.dead",
            f"outbox:{msg.id}",
            operation=msg.operation,
            reason=reason,
            task=raised.id if raised is not None else None,
        )
        self._ref(s, msg, None, err or KioskError(reason))

    def _ref(
        self, s: Session, msg: OutboxMessage, result: dict[str, Any] | None, err: KioskError | None
    ) -> None:
        handler = self.ref_handlers.get(msg.ref_kind or "")
        if handler is not None:
            handler(s, msg, result, err)

    # --- background worker --------------------------------------------------------------
    def start(self) -> None:
        """Drain in a background thread until ``stop()``; ``poke()`` wakes it for a new row."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="outbox-sender", daemon=True)
        self._thread.start()

    def poke(self) -> None:
        """Wake the worker now (a row was enqueued); an outage pause still holds (see ``resume``)."""
        self._wake.set()

    def resume(self) -> None:
        """Forget the outage pause (staff asked for a retry, or a heartbeat got through) and wake the worker."""
        self._paused_until = 0.0
        self._wake.set()

    def stop(self, timeout_s: float = 30.0) -> None:
        """Ask the worker to finish its current attempt and exit."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
            self._thread = None

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            try:
                self.run_once()
                wait = self._seconds_to_next()
            except Exception:  # a database hiccup must not kill the worker
                log.exception("outbox sender iteration failed")
                wait = 5.0
            self._wake.wait(wait)

    def _seconds_to_next(self) -> float:
        with self.db.transaction() as s:
            due = next_due(s, self.origin)
        wait = self.poll_interval_s  # another kiosk on a shared database may enqueue without poking us
        if due is not None:
            wait = min(wait, max(0.0, (due - self.clock.now()).total_seconds()))
        return max(wait, self.paused_for_s(), 0.05)
