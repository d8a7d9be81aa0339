"""Heartbeat: tell the platform the kiosk is alive, watch the clock, the catalog and the auth alarm.

Also home of the platform's health records shared with the outbox sender:
device events written once when a device goes down and once when it comes
back, and the AUTH_FAILED alarm that stops the outbox until it is cleared.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

import kiosk
from kiosk.audit import append as audit_append
from kiosk.catalog import CatalogService
from kiosk.clock import Clock
from kiosk.config import PlatformConfig
from kiosk.errors import KioskError, PlatformAuthFailed, PlatformError
from kiosk.platform_models import DeviceHealth
from kiosk.ports import Platform
from kiosk.storage.db import Database
from kiosk.storage.models import DeviceEvent, KeyValue

log = logging.getLogger(__name__)

AUTH_ALARM_KEY = "platform.auth_alarm"
PLATFORM_DEVICE = "platform"
AUTH_DEVICE = "platform.auth"
CLOCK_DEVICE = "clock"


# --- device events, once per change ------------------------------------------
def last_device_state(session: Session, device: str) -> str | None:
    """The state of the newest event for ``device`` (None: never reported)."""
    q = select(DeviceEvent.state).where(DeviceEvent.device == device).order_by(DeviceEvent.id.desc()).limit(1)
    return session.execute(q).scalar_one_or_none()


def set_device_state(session: Session, now: dt.datetime, device: str, state: str, detail: str = "") -> bool:
    """Record ``state`` only when it differs from the last one (a device is logged once down, once back)."""
    before = last_device_state(session, device)
    if before == state or (before is None and state == "OK"):
        return False
    session.add(DeviceEvent(at=now, device=device, state=state, detail=detail))
    level = logging.INFO if state == "OK" else logging.WARNING
    log.log(level, "device %s is now %s%s", device, state, f": {detail}" if detail else "")
    return True


# --- the AUTH_FAILED alarm -----------------------------------------------------
def auth_alarm(session: Session) -> dict[str, str] | None:
    """The active auth alarm ({"since", "detail"}) or None."""
    row = session.get(KeyValue, AUTH_ALARM_KEY)
    return json.loads(row.value) if row is not None else None


def raise_auth_alarm(session: Session, now: dt.datetime, detail: str, *, actor: str) -> bool:
    """Stop the outbox: a device FAULT event, the flag, an audit record. False when already raised."""
    if session.get(KeyValue, AUTH_ALARM_KEY, with_for_update=True) is not None:
        return False
    session.add(KeyValue(key=AUTH_ALARM_KEY, value=json.dumps({"since": now.isoformat(), "detail": detail})))
    set_device_state(session, now, AUTH_DEVICE, "FAULT", detail)
    audit_append(session, now, actor, "platform.auth_alarm", PLATFORM_DEVICE, detail=detail)
    log.error("platform refused the kiosk's credentials (%s): outbox stopped until cleared", detail)
    return True


def clear_auth_alarm(session: Session, now: dt.datetime, *, actor: str, reason: str) -> bool:
    """Let the outbox send again. False when there was no alarm."""
    row = session.get(KeyValue, AUTH_ALARM_KEY, with_for_update=True)
    if row is None:
        return False
    session.delete(row)
    set_device_state(session, now, AUTH_DEVICE, "OK", reason)
    audit_append(session, now, actor, "platform.auth_alarm_cleared", PLATFORM_DEVICE, reason=reason)
    log.warning("platform auth alarm cleared (%s): outbox resumes", reason)
    return True


# --- the heartbeat -------------------------------------------------------------
@dataclass(frozen=True)
class BeatResult:
    """What one heartbeat found out."""

    ok: bool
    skew_s: float | None = None  # server minus kiosk, seconds
    catalog_version: str | None = None
    catalog_refreshed: bool = False
    error: KioskError | None = None


class HeartbeatService:
    """Sends ``Heartbeat`` every ``cfg.heartbeat_interval_s`` from a background thread."""

    def __init__(
        self,
        db: Database,
        platform: Platform,
        clock: Clock,
        cfg: PlatformConfig,
        *,
        devices: Callable[[], Sequence[DeviceHealth]] = tuple,
        catalog: CatalogService | None = None,
        on_alarm_cleared: Callable[[], None] | None = None,
        software_version: str = kiosk.__version__,
    ) -> None:
        self.db = db
        self.platform = platform
        self.clock = clock
        self.cfg = cfg
        self.devices = devices
        self.catalog = catalog
        self.on_alarm_cleared = on_alarm_cleared
        self.software_version = software_version
        self.last: BeatResult | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def beat_once(self) -> BeatResult:
        """One heartbeat: record reachability and clock skew, refresh the catalog, clear the auth alarm."""
        try:
            health = list(self.devices())
        except Exception:  # a broken health probe must not stop the heartbeat itself
            log.exception("device health probe failed")
            health = []
        t0, sent_at = self.clock.monotonic(), self.clock.now()
        try:
            reply = self.platform.heartbeat(self.software_version, health)
        except PlatformAuthFailed as err:
            with self.db.transaction() as s:
                raise_auth_alarm(
                    s,
                    self.clock.now(),
                    f"AUTH_FAILED on heartbeat: {err.platform_message}",
                    actor="heartbeat",
                )
            self.last = BeatResult(False, error=err)
            return self.last
        except PlatformError as err:
            with self.db.transaction() as s:
                set_device_state(
                    s, self.clock.now(), PLATFORM_DEVICE, "FAULT", f"heartbeat failed: {err.message}"
                )
            self.last = BeatResult(False, error=err)
            return self.last
        # The server stamped its time somewhere in the round trip: compare with its middle.
        half = (self.clock.monotonic() - t0) / 2
        skew = (reply.server_time - (sent_at + dt.timedelta(seconds=half))).total_seconds()
        cleared = False
        with self.db.transaction() as s:
            now = self.clock.now()
            set_device_state(s, now, PLATFORM_DEVICE, "OK", "heartbeat answered")
            if abs(skew) > self.cfg.max_clock_skew_s:
                way = "behind" if skew > 0 else "ahead of"
                set_device_state(
                    s,
                    now,
                    CLOCK_DEVICE,
                    "DEGRADED",
                    f"kiosk clock is {abs(skew):.0f} s {way} the platform's"
                    f" (limit {self.cfg.max_clock_skew_s:.0f} s)",
                )
            else:
                set_device_state(s, now, CLOCK_DEVICE, "OK", f"within {abs(skew):.1f} s of the platform")
            cleared = clear_auth_alarm(s, now, actor="heartbeat", reason="heartbeat accepted")
        if cleared and self.on_alarm_cleared is not None:
            self.on_alarm_cleared()
        refreshed = False
        if self.catalog is not None:
            refreshed = self.catalog.ensure_version(reply.catalog_version)
        self.last = BeatResult(
            ok=True, skew_s=skew, catalog_version=reply.catalog_version, catalog_refreshed=refreshed
        )
        return self.last

    # --- background thread ---------------------------------------------------------
    def start(self) -> None:
        """Beat now and then every ``heartbeat_interval_s`` until ``stop()``."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="heartbeat", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 15.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
            self._thread = None

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.beat_once()
            except Exception:  # the thread must outlive a database hiccup
                log.exception("heartbeat failed unexpectedly")
            self._stop.wait(self.cfg.heartbeat_interval_s)
