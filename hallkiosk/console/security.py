"""What keeps the console safe: who may do what, CSRF, security headers, sign-in throttling, cookies.

- **Roles**: :data:`PERMISSIONS` is the one table of which role may do what; every page and action names
  its permission, and the navigation shows only what the role may open.
- **CSRF**: every change is a POST carrying the session's token (a hidden field, or the ``X-CSRF-Token``
  header from the page's script), compared in constant time; a POST whose ``Origin`` is another origin is
  refused before that. The sign-in form, which has no session yet, uses a double-submit cookie.
- **Headers**: a strict Content-Security-Policy (only this server's scripts and styles, no inline script,
  no framing), ``X-Frame-Options: DENY``, ``nosniff``, no referrer, ``no-store`` on every page; HSTS on TLS.
- **Throttle**: at most ``console.login_attempts_per_minute`` sign-in attempts per client address a minute,
  on top of the per-account lock kept in the database (:mod:`kiosk.staff`).
"""

from __future__ import annotations

import hmac
import threading
import time
from collections import deque

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kiosk.staff import HALL_ADMIN, STAFF, TECHNICIAN

EVERYONE = frozenset({STAFF, TECHNICIAN, HALL_ADMIN})
PERMISSIONS: dict[str, frozenset[str]] = {
    "kiosks.view": EVERYONE,
    "cabinets.view": EVERYONE,
    # Taking a door out of service (and back) is maintenance: the technician's and the hall admin's call.
    "cabinets.service": frozenset({TECHNICIAN, HALL_ADMIN}),
    # Door commands run at the owning kiosk after a confirmation there. Taking a parcel back is the desk's
    # business; opening a door to inspect it is maintenance.
    "doors.take_back": frozenset({STAFF, HALL_ADMIN}),
    "doors.inspect": frozenset({TECHNICIAN, HALL_ADMIN}),
    # The outbox (reports the kiosks owe the platform): everyone sees it; putting rows back in the queue is
    # the technician's and the hall admin's call. The owning kiosk's sender still does the sending.
    "platform.view": EVERYONE,
    "platform.retry": frozenset({TECHNICIAN, HALL_ADMIN}),
    "tasks.view": EVERYONE,
    "tasks.resolve": frozenset({STAFF, HALL_ADMIN}),
    "parcels.view": frozenset(
        {STAFF, HALL_ADMIN}
    ),  # masked personal data: the desk's business, not a technician's
    # Lifting the hall's pickup-code wait: the desk's call (staff at a kiosk do the same on its staff screen).
    "codes.lift": frozenset({STAFF, HALL_ADMIN}),
    "audit.view": frozenset({TECHNICIAN, HALL_ADMIN}),
    "audit.verify": frozenset({TECHNICIAN, HALL_ADMIN}),
}

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


def allowed(roles: tuple[str, ...] | frozenset[str], permission: str) -> bool:
    return bool(set(roles) & PERMISSIONS[permission])


def same_token(a: str | None, b: str | None) -> bool:
    return bool(a) and bool(b) and hmac.compare_digest(str(a).encode(), str(b).encode())


class SecurityHeaders:
    """Pure ASGI middleware (so it also covers the event stream and static files)."""

    def __init__(self, app: ASGIApp, *, tls: bool) -> None:
        self.app = app
        self.tls = tls

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                h = MutableHeaders(scope=message)
                h["Content-Security-Policy"] = CSP
                h["X-Frame-Options"] = "DENY"
                h["X-Content-Type-Options"] = "nosniff"
                h["Referrer-Policy"] = (
                    "same-origin"  # "no-referrer" would make Chromium send Origin: null on our own forms
                )
                h["Cross-Origin-Opener-Policy"] = "same-origin"
                h["Cross-Origin-Resource-Policy"] = "same-origin"
                h["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(), payment=()"
                if not scope["path"].startswith("/static/"):
                    h["Cache-Control"] = "no-store"
                if self.tls:
                    h["Strict-Transport-Security"] = "max-age=31536000"
            await send(message)

        await self.app(scope, receive, send_with_headers)


class LoginThrottle:
    """A sliding one-minute window of sign-in attempts per client address (in this process)."""

    def __init__(self, per_minute: int = 30, clock: object = time.monotonic) -> None:
        self.per_minute = per_minute
        self._clock = clock
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def allow(self, client: str) -> bool:
        now = self._clock()  # type: ignore[operator]
        with self._lock:
            q = self._hits.setdefault(client, deque())
            while q and now - q[0] > 60:
                q.popleft()
            if len(q) >= self.per_minute:
                return False
            q.append(now)
            if len(self._hits) > 10000:  # bound the table: forget addresses with nothing in the window
                for k in [k for k, v in self._hits.items() if not v]:
                    del self._hits[k]
            return True
