"""The card test: wait for one card on one reader, read it, show what was read masked, with timings; audited."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from hallkiosk.diag.confirm import NotConfirmed, needs_confirmation
from kiosk.diag_model import Check, Status
from kiosk.errors import CardUnsupported, ConfigError, KioskError
from kiosk.ports import CardEvent
from kiosk.privacy import mask_uid

if TYPE_CHECKING:
    from hallkiosk.wiring import App

FINAL = ("identified", "badge", "error")


@dataclass
class CardTestResult:
    """What one card test saw; personal data only in masked form."""

    reader: str
    status: Status
    finding: str
    hint: str = ""
    outcome: str = "timeout"  # identified / badge / error / timeout / reader_lost
    card_kind: str | None = None
    masked_id: str | None = None
    masked_name: str | None = None
    badge_uid_masked: str | None = None
    wait_s: float | None = None  # test start -> card inserted
    read_ms: float | None = None  # as the driver measured it
    events: list[dict[str, Any]] = field(default_factory=list)  # {"t_s", "kind"}

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_check(self) -> Check:
        return Check(
            id="card.test",
            area="card",
            title=f"card test {self.reader}",
            status=self.status,
            finding=self.finding,
            hint=self.hint,
            device=None,
            data=self.to_dict(),
        )


class CardProbe:
    """Collects a reader's events for one test; ``feed`` may be called from any thread (a running runtime's listener)."""

    def __init__(self, reader: str | None = None) -> None:
        self.reader = reader
        self.t0 = time.perf_counter()
        self.events: list[dict[str, Any]] = []
        self.inserted_at: float | None = None
        self.final: dict[str, Any] | None = None
        self._done = threading.Event()
        self._lock = threading.Lock()

    def feed(self, ev: CardEvent) -> None:
        if self.reader is not None and ev.reader != self.reader:
            return
        t = time.perf_counter() - self.t0
        with self._lock:
            if self._done.is_set():
                if ev.identity is not None:
                    ev.identity.wipe()
                return
            self.events.append({"t_s": round(t, 3), "kind": ev.kind})
            if ev.kind == "inserted" and self.inserted_at is None:
                self.inserted_at = t
            if ev.kind in (*FINAL, "reader_lost"):
                ident = ev.identity
                self.final = {
                    "kind": ev.kind,
                    "reader": ev.reader,
                    "read_ms": ev.read_ms,
                    "error": ev.error,
                    "card_kind": ident.card_kind if ident else ("staff_badge" if ev.badge_uid else None),
                    "masked_id": ident.masked_id if ident else None,
                    "masked_name": ident.masked_name if ident else None,
                    "badge": mask_uid(ev.badge_uid) if ev.badge_uid else None,
                }
                if ident is not None:
                    ident.wipe()  # the test keeps only the masked forms
                self._done.set()

    def wait(self, timeout_s: float) -> CardTestResult:
        self._done.wait(timeout_s)
        with self._lock:
            return self._result(timeout_s)

    def _result(self, timeout_s: float) -> CardTestResult:
        f = self.final
        name = (f or {}).get("reader") or self.reader or "any reader"
        res = CardTestResult(
            reader=name, status="OK", finding="", events=list(self.events), wait_s=self.inserted_at
        )
        if f is None:
            res.status = "DEGRADED"
            res.hint = "Insert or place a card while the test runs; if you did, check the reader."
            res.finding = f"no card read within {timeout_s:g} s" + (
                " (a card was inserted)" if self.inserted_at else ""
            )
            return res
        res.outcome = f["kind"]
        res.read_ms = f["read_ms"]
        res.card_kind = f["card_kind"]
        res.masked_id = f["masked_id"]
        res.masked_name = f["masked_name"]
        res.badge_uid_masked = f["badge"]
        took = f"read in {f['read_ms']:.0f} ms" if f["read_ms"] is not None else "read"
        if f["kind"] == "identified":
            res.finding = f"{name}: {f['card_kind']} {f['masked_name']} {f['masked_id']} {took}"
        elif f["kind"] == "badge":
            res.finding = f"{name}: staff badge {f['badge']} {took}"
        elif f["kind"] == "reader_lost":
            res.status = "FAULT"
            res.hint = "Check the reader's cable and power; run `kiosk diag --only card`."
            res.finding = f"{name}: the reader went away during the test: {f['error']}"
        else:
            err = f["error"]
            unsupported = isinstance(err, CardUnsupported)
            res.status = "DEGRADED" if unsupported else "FAULT"
            res.hint = getattr(err, "hint", "") or "See the kiosk log."
            res.finding = f"{name}: {'card not supported' if unsupported else 'read failed'}: {err}"
        return res


def card_test(
    app: App,
    *,
    confirmed: bool = False,
    reader: str | None = None,
    timeout_s: float = 30.0,
    actor: str = "technician",
    on_progress: Callable[[str], None] | None = None,
    sim_insert_after_s: float | None = None,
) -> CardTestResult:
    """Start the configured readers (or the one named), wait for one card, stop them; audited without personal data.

    Use this where no one else runs the readers (the CLI). A running UI feeds its own events to a
    :class:`CardProbe` instead. ``sim_insert_after_s``: a simulated GA 467 gets its demo card after this long.
    """
    if needs_confirmation(app, card=True) and not confirmed:
        raise NotConfirmed("card test on a real reader not confirmed")
    readers = [r for r in app.card_readers if reader is None or r.name == reader]
    if not readers:
        names = ", ".join(repr(r.name) for r in app.card_readers) or "none"
        raise ConfigError(f"card_readers: no reader named {reader!r} (configured: {names})")
    say = on_progress or (lambda _m: None)
    probe = CardProbe(reader)
    started: list[Any] = []
    try:
        for r in readers:
            r.start(probe.feed)
            started.append(r)
            sim = app.sims.readers.get(r.name)
            if sim_insert_after_s is not None and sim is not None:
                threading.Timer(sim_insert_after_s, sim.insert_demo_card).start()
                say(f"SIMULATED: the demo card goes on {r.name} after {sim_insert_after_s:g} s")
        say(
            f"insert or place one card on {', '.join(r.name for r in readers)} (waiting up to {timeout_s:g} s)"
        )
        res = probe.wait(timeout_s)
    finally:
        for r in started:
            try:
                r.stop()
            except KioskError:
                pass  # the result already says what went wrong
    app.audit(
        actor,
        "diag.card_test",
        res.reader,
        status=res.status,
        outcome=res.outcome,
        card_kind=res.card_kind,
        read_ms=res.read_ms,
        wait_s=res.wait_s,
    )
    return res
