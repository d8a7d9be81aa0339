"""The audit chain check as a background job with progress (it may run over a million records).

One job at a time per console process; it reads a consistent snapshot (:mod:`kiosk.storage.snapshot`), so
the kiosks keep writing while it runs and records they add meanwhile are simply not part of this check."""

from __future__ import annotations

import logging
import threading
from dataclasses import asdict, dataclass, replace

from kiosk import audit
from kiosk.clock import Clock
from kiosk.storage.db import Database
from kiosk.storage.snapshot import snapshot

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class JobState:
    state: str = "idle"  # idle / running / ok / broken / failed
    checked: int = 0
    total: int = 0
    reason: str = ""
    started_by: str = ""

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


class VerifyJob:
    def __init__(self, db: Database, clock: Clock, *, every: int = 2000) -> None:
        self.db = db
        self.clock = clock
        self.every = every
        self._state = JobState()
        self._lock = threading.Lock()

    @property
    def state(self) -> JobState:
        return self._state

    def start(self, actor: str) -> bool:
        """Start a check; False when one is already running."""
        with self._lock:
            if self._state.state == "running":
                return False
            self._state = JobState("running", started_by=actor)
        threading.Thread(target=self._run, args=(actor,), name="audit-verify", daemon=True).start()
        return True

    def _run(self, actor: str) -> None:
        try:
            with self.db.transaction() as s:
                audit.append(s, self.clock.now(), actor, "console.audit_verify_started")
            with snapshot(self.db) as s:
                self._state = replace(self._state, total=audit.count(s))
                res = audit.verify(s, progress=lambda n: self._progress(n), every=self.every)
            final = JobState(
                state="ok" if res.ok else "broken",
                checked=res.checked,
                total=max(self._state.total, res.checked),
                reason=res.reason,
                started_by=actor,
            )
            with self.db.transaction() as s:
                audit.append(
                    s,
                    self.clock.now(),
                    actor,
                    "console.audit_verified",
                    ok=res.ok,
                    checked=res.checked,
                    broken_seq=res.broken_seq,
                )
        except Exception as err:  # a job that dies says so on the page
            log.exception("audit verification failed")
            final = JobState(
                state="failed",
                checked=self._state.checked,
                total=self._state.total,
                reason=str(err)[:200],
                started_by=actor,
            )
        self._state = final

    def _progress(self, n: int) -> None:
        self._state = replace(self._state, checked=n)
