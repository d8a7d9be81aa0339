"""The outbox sender: delivers every due row at least once, always with the row's own requestId.

Rows are claimed under a lease (:mod:`kiosk.outbox_claims`: one short transaction per batch, so two kiosks
sharing a database never send one row at the same time). The calls run outside any transaction (the delivery
policy, :mod:`kiosk.outbox_delivery`); their outcomes, the release of rows not tried and the next claim share one
transaction, at least every ``record_every_s``. A process killed mid-send leaves pending rows that are simply
sent again when their lease runs out: the platform's idempotency (same requestId, same body, same answer) turns
that into exactly once. This module records the outcomes (sent, retry with backoff, dead letter, auth alarm) and
runs the background loop.

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

from sqlalchemy.orm import Session

from kiosk import service_requests
from kiosk.clock import Clock
from kiosk.config import PlatformConfig
from kiosk.errors import KioskError, PlatformRejected
from kiosk.heartbeat import PLATFORM_DEVICE, raise_auth_alarm, set_device_state
from kiosk.outbox import DEAD, PENDING, SCRUBBED, SENT, RefHandler, next_due, reason_of, submission_handler
from kiosk.outbox_claims import Claimed, Claims
from kiosk.outbox_delivery import Attempt, Delivery, DrainCounts, attempt
from kiosk.outbox_tasks import on_dead, on_sent
from kiosk.ports import Platform
from kiosk.storage.db import Database
from kiosk.storage.models import OutboxMessage

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
        # One attempt may take the call's timeouts and a margin before another sender may take the row again.
        self.claims = Claims(
            secret,
            clock,
            origin=self.origin,
            lease_s=cfg.timeout_s + cfg.connect_timeout_s + lease_margin_s,
            actor=actor,
            on_unusable=self._dead,
        )
        self._paused_until = 0.0  # monotonic: the platform said wait, or is down
        self._platform_down = False  # so "platform" OK is recorded once, not per row
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # --- timing -------------------------------------------------------------------
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
        claims = self.claims
        with self.db.transaction() as s:
            batch = claims.claim(s, self._room(counts, limit))
            counts.blocked = not batch and claims.blocked
        while batch:
            # No send may start once the lease left is shorter than one attempt: another kiosk could take the row.
            started = self.clock.monotonic()
            last_start = started + min(
                self.record_every_s, claims.lease_s - self.cfg.timeout_s - self.cfg.connect_timeout_s
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
                msgs = claims.load(s, [r.id for r in batch])
                with s.no_autoflush:  # one flush at commit, not one per row
                    deliveries = [self._record(s, msgs.get(row.id), row, att) for row, att in done]
                claims.release(
                    [msgs[r.id] for r in batch[len(done) :] if r.id in msgs], self._due_after_pause()
                )
                go_on = (
                    all(d.outcome in ("sent", "dead", "skipped") for d in deliveries)
                    and self.paused_for_s() == 0
                )
                for d in deliveries:
                    counts.add(d)
                batch = claims.claim(s, self._room(counts, limit)) if go_on else []
            counts.blocked = any(d.outcome == "blocked" for d in deliveries) or (not batch and claims.blocked)
            for d in deliveries:
                self._after(d)
        return counts

    def _room(self, counts: DrainCounts, limit: int | None) -> int:
        return self.batch_size if limit is None else max(0, min(self.batch_size, limit - counts.attempted))

    def _due_after_pause(self) -> dt.datetime:
        return self.clock.now() + dt.timedelta(seconds=self.paused_for_s())

    def hold(self, msg: OutboxMessage) -> None:
        """Keep a row just enqueued (in the caller's transaction) away from the worker, for ``send_now``."""
        self.claims.hold(msg)

    def send_now(self, message_id: int) -> Delivery:
        """Send one held row at once (the citizen waits; bounded by the client's timeout)."""
        with self.db.transaction() as s:
            rows = [] if self.paused_for_s() > 0 else self.claims.claim(s, 1, only_id=message_id)
            if not rows:
                # Known outage or alarm: leave it to the worker, due when the pause ends.
                msg = s.get(OutboxMessage, message_id, with_for_update=True)
                if msg is not None and msg.state == PENDING:
                    msg.next_attempt_at = self._due_after_pause()
                return Delivery(message_id=message_id, outcome="skipped")
        att = attempt(self.platform, rows[0])
        with self.db.transaction() as s:
            d = self._record(s, self.claims.load(s, [message_id]).get(message_id), rows[0], att, present=True)
        self._after(d)
        return d

    # --- recording an attempt ------------------------------------------------------------
    def _record(
        self, s: Session, msg: OutboxMessage | None, row: Claimed, att: Attempt, *, present: bool = False
    ) -> Delivery:
        """Write the attempt's outcome in the caller's transaction (``present``: the citizen waits at the screen)."""
        now = self.clock.now()
        if msg is None or msg.state != PENDING:
            # Another sender got there after our lease ran out and recorded the same answer.
            return Delivery(
                message_id=row.id,
                outcome="sent" if att.kind == "sent" else "skipped",
                result=att.result,
                error=att.error,
            )
        if att.kind == "sent":
            assert att.result is not None
            was_failing = msg.last_error is not None
            msg.state = SENT
            msg.sent_at = now
            msg.result = att.result
            msg.last_error = None
            if msg.sensitive:
                msg.payload = dict(SCRUBBED)  # the sealed personal data has done its job
            self._ref(s, msg, att.result, None)
            on_sent(s, now, msg, att.result, was_failing=was_failing, secret=self.secret, actor=self.actor)
            if self._platform_down:
                set_device_state(s, now, PLATFORM_DEVICE, "OK", "outbox delivered again")
                self._platform_down = False
            return Delivery(message_id=row.id, outcome="sent", result=att.result)
        err = att.error
        assert err is not None
        reason = reason_of(err)
        if att.kind == "auth":
            if self.raises_auth_alarm:
                raise_auth_alarm(s, now, f"AUTH_FAILED on {row.operation}: {reason}", actor=self.actor)
            # Not the row's fault: the attempt is not counted and the row goes first once the alarm clears.
            msg.attempts = max(0, msg.attempts - 1)
            msg.next_attempt_at = now
            msg.last_error = reason
            msg.result = None
            return Delivery(message_id=row.id, outcome="blocked", error=err)
        if att.kind == "rejected":
            # A refusal on the fast path is shown to the citizen at once: no staff task for it.
            self._dead(s, msg, now, reason, err, task=not present)
            return Delivery(message_id=row.id, outcome="dead", error=err)
        if att.retry_after_s is not None and att.retry_after_s > 0:
            delay = att.retry_after_s + self.rng.random() * min(5.0, att.retry_after_s * 0.1)  # never earlier
        else:
            delay = self.backoff_s(row.attempts)
        self._paused_until = self.clock.monotonic() + delay
        set_device_state(s, now, PLATFORM_DEVICE, "FAULT", f"outbox: {reason}")
        self._platform_down = True
        if row.attempts >= self.cfg.outbox_max_attempts:
            self._dead(s, msg, now, f"gave up after {row.attempts} attempts: {reason}", err)
            return Delivery(message_id=row.id, outcome="dead", error=err)
        msg.next_attempt_at = now + dt.timedelta(seconds=delay)
        msg.last_error = reason
        msg.result = None  # lease over
        log.info(
            "outbox %d %s: platform unavailable (%s); next attempt in %.1f s",
            row.id,
            row.operation,
            reason,
            delay,
        )
        return Delivery(message_id=row.id, outcome="retry", error=err)

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

        msg.state = DEAD
        msg.last_error = reason
        msg.result = None
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
