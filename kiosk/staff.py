"""The hall staff directory: who may use the console and the kiosks' staff screens, and with which roles.

One staff identity across the hall: a kiosk that meets a badge asks :meth:`StaffDirectory.by_badge` and audits
the ``staff_id`` it returns; the console signs people in by ``staff_id`` and password. The audit carries the
staff id, never the display name (which is shown masked, like a citizen's).

- Badge UIDs are stored as keyed hashes under the kiosk secret (as ID numbers are, see
  :func:`kiosk.identity.id_hash`), with only their last four characters in clear for a list.
- Passwords are argon2id hashes (argon2-cffi, the reference implementation's binding); a hash made with
  older parameters is re-made at the next good sign-in.
- Sign-in is throttled per account: after ``max_failures`` wrong passwords in a row the account is locked
  for ``lockout_s`` (stored, so a restart or a second console process does not reset it); every outcome is
  audited. Disabled members neither sign in nor badge in.
- There is no default account. ``ensure_demo`` makes the simulator's one-time demo account (new random
  password on every call) and is refused by the CLI unless the whole kiosk runs on simulators.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import select
from sqlalchemy.orm import Session

from kiosk.audit import append as audit
from kiosk.clock import Clock
from kiosk.errors import KioskError
from kiosk.keyring import each_hash
from kiosk.privacy import mask_name
from kiosk.storage.db import Database
from kiosk.storage.models import ConsoleSession, StaffBadge, StaffMember

STAFF = "staff"
TECHNICIAN = "technician"
HALL_ADMIN = "hall_admin"
ROLES = (STAFF, TECHNICIAN, HALL_ADMIN)

STAFF_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{1,31}$")
BADGE_RE = re.compile(r"^[0-9A-F]{8,20}$")  # the same form as kiosk.staff_badges in the config
MIN_PASSWORD = 10
MAX_PASSWORD = 256  # argon2 takes any length; a megabyte "password" would only cost us CPU
DEMO_STAFF_ID = "demo"

_hasher = PasswordHasher()  # argon2id, RFC 9106's low-memory profile defaults
# Verified against when the staff id is unknown, so "no such user" takes as long as "wrong password".
_DUMMY_HASH = _hasher.hash(secrets.token_hex(16))


class StaffError(KioskError):
    """A staff-directory operation was refused (unknown member, bad role, weak password ...)."""

    exit_code = 2
    hint = "See `kiosk console user --help`."


class BadStaffInput(StaffError, ValueError):
    """A staff id, name, role, badge UID or password that the directory does not take (says which rule)."""


class LoginRefused(StaffError):
    """Wrong staff id or password, a disabled member, or a locked account. ``reason`` is for the audit only:
    the sign-in page says the same thing for every case but the lock."""

    def __init__(self, message: str, *, reason: str, retry_after_s: int | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.retry_after_s = retry_after_s


@dataclass(frozen=True)
class StaffView:
    """A member as pages and the CLI show them: the name masked, badges by their last four characters."""

    id: int
    staff_id: str
    name_masked: str
    roles: tuple[str, ...]
    can_sign_in: bool
    disabled: bool
    locked_until: dt.datetime | None
    badges: tuple[str, ...]
    demo: bool = False


def badge_hash(secret: bytes, uid: str) -> str:
    """The only stored form of a badge UID (domain-separated from ID-number hashes and code HMACs)."""
    return hmac.new(
        secret, b"staff-badge\x00" + normalise_badge(uid).encode("ascii"), hashlib.sha256
    ).hexdigest()


def normalise_badge(uid: str) -> str:
    u = "".join(uid.split()).upper()
    if not BADGE_RE.fullmatch(u):
        raise BadStaffInput("a badge UID is 8 to 20 hexadecimal characters (0-9, A-F)")
    return u


def parse_roles(roles: Iterable[str]) -> tuple[str, ...]:
    out = sorted({r.strip().lower().replace("-", "_") for r in roles if r.strip()})
    bad = [r for r in out if r not in ROLES]
    if bad or not out:
        raise BadStaffInput(
            f"roles: {', '.join(bad) or '(none)'} not allowed; choose from {', '.join(ROLES)}"
        )
    return tuple(out)


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise BadStaffInput(f"a console password has at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise BadStaffInput(f"a console password has at most {MAX_PASSWORD} characters")


def roles_of(m: StaffMember) -> tuple[str, ...]:
    return tuple(r for r in m.roles.split(",") if r)


class StaffDirectory:
    """The directory as a service over the database; every change audited with the acting staff id."""

    def __init__(
        self, db: Database, secret: bytes, clock: Clock, *, max_failures: int = 5, lockout_s: float = 900
    ) -> None:
        self.db = db
        self.secret = secret
        self.clock = clock
        self.max_failures = max_failures
        self.lockout_s = lockout_s

    # --- reading ----------------------------------------------------------------------
    def _get(self, s: Session, staff_id: str) -> StaffMember:
        m = s.execute(select(StaffMember).where(StaffMember.staff_id == staff_id)).scalar_one_or_none()
        if m is None:
            raise StaffError(f"no staff member {staff_id!r} in the directory")
        return m

    def _view(self, s: Session, m: StaffMember) -> StaffView:
        badges = (
            s.execute(
                select(StaffBadge.uid_last4).where(StaffBadge.member_id == m.id).order_by(StaffBadge.id)
            )
            .scalars()
            .all()
        )
        return StaffView(
            id=m.id,
            staff_id=m.staff_id,
            name_masked=mask_name(m.display_name),
            roles=roles_of(m),
            can_sign_in=m.password_hash is not None and m.disabled_at is None,
            disabled=m.disabled_at is not None,
            locked_until=m.locked_until,
            badges=tuple(f"****{b}" for b in badges),
            demo=m.demo,
        )

    def members(self) -> list[StaffView]:
        with self.db.transaction() as s:
            rows = s.execute(select(StaffMember).order_by(StaffMember.staff_id)).scalars().all()
            return [self._view(s, m) for m in rows]

    def member(self, staff_id: str) -> StaffView:
        with self.db.transaction() as s:
            return self._view(s, self._get(s, staff_id))

    def member_by_pk(self, s: Session, pk: int) -> StaffMember | None:
        return s.get(StaffMember, pk)

    def by_badge(self, uid: str) -> StaffView | None:
        """The enabled member holding this badge, or None (a kiosk then falls back to its config's list)."""
        try:
            h = each_hash(
                self.secret, badge_hash, uid
            )  # every active key: badges added before a rotation too
        except BadStaffInput:
            return None
        with self.db.transaction() as s:
            m = (
                s.execute(
                    select(StaffMember)
                    .join(StaffBadge, StaffBadge.member_id == StaffMember.id)
                    .where(StaffBadge.uid_hash.in_(h))
                )
                .scalars()
                .first()
            )
            if m is None or m.disabled_at is not None:
                return None
            return self._view(s, m)

    # --- changing ----------------------------------------------------------------------
    def add(
        self,
        staff_id: str,
        display_name: str,
        roles: Sequence[str],
        *,
        actor: str,
        password: str | None = None,
        demo: bool = False,
    ) -> StaffView:
        if not STAFF_ID_RE.fullmatch(staff_id):
            raise BadStaffInput(
                "a staff id is 2-32 letters, digits, '.', '_' or '-', starting with a letter or digit"
            )
        name = display_name.strip()
        if not name or len(name) > 64:
            raise BadStaffInput("a display name has 1 to 64 characters")
        rs = parse_roles(roles)
        if password is not None:
            check_password(password)
        with self.db.transaction() as s:
            now = self.clock.now()
            if s.execute(select(StaffMember.id).where(StaffMember.staff_id == staff_id)).first():
                raise StaffError(f"staff id {staff_id!r} is already in the directory")
            m = StaffMember(
                staff_id=staff_id,
                display_name=name,
                roles=",".join(rs),
                failed_logins=0,
                demo=demo,
                password_hash=_hasher.hash(password) if password is not None else None,
                created_at=now,
                updated_at=now,
            )
            s.add(m)
            s.flush()
            audit(s, now, actor, "staff.added", staff_id, roles=list(rs), password=password is not None)
            return self._view(s, m)

    def set_password(self, staff_id: str, password: str, *, actor: str) -> None:
        """A new password: unlocks the account and signs out every session of the member."""
        check_password(password)
        with self.db.transaction() as s:
            now = self.clock.now()
            m = self._get(s, staff_id)
            m.password_hash = _hasher.hash(password)
            m.failed_logins = 0
            m.locked_until = None
            m.updated_at = now
            _end_sessions(s, m.id)
            audit(s, now, actor, "staff.password_set", staff_id)

    def set_roles(self, staff_id: str, roles: Sequence[str], *, actor: str) -> None:
        rs = parse_roles(roles)
        with self.db.transaction() as s:
            now = self.clock.now()
            m = self._get(s, staff_id)
            before = roles_of(m)
            m.roles = ",".join(rs)
            m.updated_at = now
            audit(s, now, actor, "staff.roles_set", staff_id, before=list(before), after=list(rs))

    def set_disabled(self, staff_id: str, disabled: bool, *, actor: str) -> None:
        """Disable (signs out every session, refuses badge and password) or enable again."""
        with self.db.transaction() as s:
            now = self.clock.now()
            m = self._get(s, staff_id)
            m.disabled_at = now if disabled else None
            m.updated_at = now
            if disabled:
                _end_sessions(s, m.id)
            audit(s, now, actor, "staff.disabled" if disabled else "staff.enabled", staff_id)

    def add_badge(self, staff_id: str, uid: str, *, actor: str) -> str:
        """Register a badge; returns its masked form. A badge held by another member is refused."""
        u = normalise_badge(uid)
        h = badge_hash(self.secret, u)
        with self.db.transaction() as s:
            now = self.clock.now()
            m = self._get(s, staff_id)
            holder = (
                s.execute(
                    select(StaffBadge.member_id).where(
                        StaffBadge.uid_hash.in_(each_hash(self.secret, badge_hash, u))
                    )
                )
                .scalars()
                .first()
            )
            if holder is not None:
                raise StaffError(
                    f"badge ****{u[-4:]} is already registered"
                    + (" to this member" if holder == m.id else " to another member")
                )
            s.add(StaffBadge(member_id=m.id, uid_hash=h, uid_last4=u[-4:], added_at=now))
            audit(s, now, actor, "staff.badge_added", staff_id, badge=f"****{u[-4:]}")
        return f"****{u[-4:]}"

    def remove_badge(self, staff_id: str, uid: str, *, actor: str) -> None:
        h = each_hash(self.secret, badge_hash, uid)
        with self.db.transaction() as s:
            now = self.clock.now()
            m = self._get(s, staff_id)
            b = (
                s.execute(select(StaffBadge).where(StaffBadge.uid_hash.in_(h), StaffBadge.member_id == m.id))
                .scalars()
                .first()
            )
            if b is None:
                raise StaffError(f"member {staff_id!r} holds no such badge")
            s.delete(b)
            audit(s, now, actor, "staff.badge_removed", staff_id, badge=f"****{b.uid_last4}")

    # --- signing in -----------------------------------------------------------------------
    def authenticate(self, staff_id: str, password: str, *, source: str = "console") -> StaffView:
        """The member if the password is right; else :class:`LoginRefused` (audited either way).

        The refusal is raised after the transaction commits: the failure count and its audit record must
        outlive the refusal (raising inside would roll them back, and nothing would ever lock)."""
        refused: LoginRefused | None = None
        with self.db.transaction() as s:
            now = self.clock.now()
            m = s.execute(
                select(StaffMember).where(StaffMember.staff_id == staff_id).with_for_update()
            ).scalar_one_or_none()
            if m is None or m.password_hash is None:
                _verify(_DUMMY_HASH, password)  # the same time as a wrong password
                # Never the typed id: it may be a password typed into the wrong box, or a name.
                audit(
                    s, now, "console", "console.login_failed", "unknown id", reason="unknown", source=source
                )
                refused = LoginRefused("wrong staff id or password", reason="unknown")
            elif m.locked_until is not None and m.locked_until > now:
                left = max(1, int((m.locked_until - now).total_seconds() + 0.999))
                audit(s, now, "console", "console.login_failed", m.staff_id, reason="locked", source=source)
                refused = LoginRefused(
                    f"account locked for {left} s after repeated wrong passwords",
                    reason="locked",
                    retry_after_s=left,
                )
            elif not _verify(m.password_hash, password):
                m.failed_logins += 1
                if m.failed_logins >= self.max_failures:
                    m.locked_until = now + dt.timedelta(seconds=self.lockout_s)
                    m.failed_logins = 0
                    audit(
                        s,
                        now,
                        "console",
                        "console.login_failed",
                        m.staff_id,
                        reason="wrong_password",
                        source=source,
                    )
                    audit(
                        s, now, "console", "console.account_locked", m.staff_id, seconds=int(self.lockout_s)
                    )
                    refused = LoginRefused(
                        f"account locked for {int(self.lockout_s)} s after repeated wrong passwords",
                        reason="locked",
                        retry_after_s=int(self.lockout_s),
                    )
                else:
                    audit(
                        s,
                        now,
                        "console",
                        "console.login_failed",
                        m.staff_id,
                        reason="wrong_password",
                        source=source,
                    )
                    refused = LoginRefused("wrong staff id or password", reason="wrong_password")
            elif m.disabled_at is not None:
                audit(s, now, "console", "console.login_failed", m.staff_id, reason="disabled", source=source)
                refused = LoginRefused("wrong staff id or password", reason="disabled")
            else:
                if _hasher.check_needs_rehash(m.password_hash):
                    m.password_hash = _hasher.hash(password)
                m.failed_logins = 0
                m.locked_until = None
                m.last_login_at = now
                audit(s, now, f"staff:{m.staff_id}", "console.login", m.staff_id, source=source)
                return self._view(s, m)
        raise refused

    def ensure_demo(self, *, actor: str = "kiosk") -> str:
        """The simulator's demo account with a fresh random password (returned, to be printed once)."""
        password = secrets.token_urlsafe(12)
        with self.db.transaction() as s:
            exists = s.execute(select(StaffMember.id).where(StaffMember.staff_id == DEMO_STAFF_ID)).first()
        if exists:
            self.set_password(DEMO_STAFF_ID, password, actor=actor)
        else:
            self.add(DEMO_STAFF_ID, "Demo Staff", ROLES, actor=actor, password=password, demo=True)
        return password


def _verify(hashed: str, password: str) -> bool:
    try:
        return _hasher.verify(hashed, password[:MAX_PASSWORD])
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def _end_sessions(s: Session, member_pk: int) -> None:
    for cs in s.execute(select(ConsoleSession).where(ConsoleSession.member_id == member_pk)).scalars():
        s.delete(cs)
