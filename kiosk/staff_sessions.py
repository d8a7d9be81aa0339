"""Console sign-in sessions: a random cookie token (only its SHA-256 stored), a CSRF token, two expiries.

A session ends at the first of: ``idle_s`` without a request, ``max_age_s`` after sign-in, sign-out, a
password change or the member being disabled (both delete the rows, see :mod:`kiosk.staff`). Expiry is
judged on the console's clock, which also stamped the rows."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import delete, select

from kiosk.audit import append as audit
from kiosk.clock import Clock
from kiosk.privacy import mask_name
from kiosk.staff import roles_of
from kiosk.storage.db import Database
from kiosk.storage.models import ConsoleSession, StaffMember


@dataclass(frozen=True)
class SignedIn:
    """Who a request comes from: pages show ``name_masked``; actions audit ``staff_id``."""

    session_id: int
    staff_id: str
    name_masked: str
    roles: tuple[str, ...]
    csrf_token: str


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


class SessionStore:
    def __init__(
        self, db: Database, clock: Clock, *, idle_s: float = 1800, max_age_s: float = 12 * 3600
    ) -> None:
        self.db = db
        self.clock = clock
        self.idle_s = idle_s
        self.max_age_s = max_age_s

    def create(self, staff_id: str) -> tuple[str, SignedIn]:
        """A new session for a member who just signed in: returns the cookie token (shown nowhere else)."""
        token = secrets.token_urlsafe(32)
        with self.db.transaction() as s:
            now = self.clock.now()
            m = s.execute(select(StaffMember).where(StaffMember.staff_id == staff_id)).scalar_one()
            cs = ConsoleSession(
                token_hash=_digest(token),
                member_id=m.id,
                csrf_token=secrets.token_urlsafe(32),
                created_at=now,
                last_seen_at=now,
                expires_at=now + dt.timedelta(seconds=self.max_age_s),
            )
            s.add(cs)
            s.flush()
            # Sessions ended long ago are dropped here rather than by a timer.
            s.execute(delete(ConsoleSession).where(ConsoleSession.expires_at < now - dt.timedelta(days=1)))
            return token, SignedIn(
                session_id=cs.id,
                staff_id=m.staff_id,
                name_masked=mask_name(m.display_name),
                roles=roles_of(m),
                csrf_token=cs.csrf_token,
            )

    def lookup(self, token: str | None) -> SignedIn | None:
        """The live session for a cookie token (and its idle timer restarted), or None."""
        if not token or len(token) > 100:
            return None
        with self.db.transaction() as s:
            now = self.clock.now()
            # One round trip for the session and its member: every page and fragment of the console asks.
            row = s.execute(
                select(ConsoleSession, StaffMember)
                .outerjoin(StaffMember, StaffMember.id == ConsoleSession.member_id)
                .where(ConsoleSession.token_hash == _digest(token))
            ).one_or_none()
            if row is None:
                return None
            cs, m = row
            if (
                m is None
                or m.disabled_at is not None
                or now >= cs.expires_at
                or now - cs.last_seen_at >= dt.timedelta(seconds=self.idle_s)
            ):
                s.delete(cs)
                return None
            if (now - cs.last_seen_at).total_seconds() > 5:  # a write per request would be needless load
                cs.last_seen_at = now
            return SignedIn(
                session_id=cs.id,
                staff_id=m.staff_id,
                name_masked=mask_name(m.display_name),
                roles=roles_of(m),
                csrf_token=cs.csrf_token,
            )

    def end(self, token: str | None, *, actor: str) -> None:
        if not token:
            return
        with self.db.transaction() as s:
            cs = s.execute(
                select(ConsoleSession).where(ConsoleSession.token_hash == _digest(token))
            ).scalar_one_or_none()
            if cs is not None:
                s.delete(cs)
                audit(s, self.clock.now(), actor, "console.logout", actor)
