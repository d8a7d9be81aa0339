"""Pickup codes: random, stored only as HMAC-SHA256, attempts rate-limited across restarts."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import math
import re
import secrets

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kiosk.config import PickupConfig
from kiosk.keyring import each_hash
from kiosk.storage.models import CodeAttempt, KeyValue, Parcel


def new_code(digits: int) -> str:
    """A uniformly random code of ``digits`` decimal digits (leading zeros allowed)."""
    return "".join(str(secrets.randbelow(10)) for _ in range(digits))


def code_hmac(secret: bytes, code: str) -> str:
    """The only form of a code that is ever stored."""
    return hmac.new(secret, b"pickup-code\x00" + code.encode("ascii"), hashlib.sha256).hexdigest()


def same_hmac(a: str | None, b: str) -> bool:
    """Constant-time comparison of two code HMACs."""
    return a is not None and hmac.compare_digest(a.encode("ascii"), b.encode("ascii"))


# A Chinese IME in full-width mode types ０-９; they mean the same digits. Nothing else counts as a digit:
# str.isdigit() also accepts Arabic-Indic and other scripts' digits, which no code contains.
_FULL_WIDTH = str.maketrans("０１２３４５６７８９", "0123456789")
_ASCII_DIGITS = re.compile(r"[0-9]+", re.ASCII)


def _digit_range() -> tuple[int, int]:
    """The code lengths any configuration may choose (pickup.code_digits' own bounds, so the two never drift)."""
    meta = PickupConfig.model_fields["code_digits"].metadata
    return (next(m.ge for m in meta if hasattr(m, "ge")), next(m.le for m in meta if hasattr(m, "le")))


CODE_MIN_DIGITS, CODE_MAX_DIGITS = _digit_range()


def normalise(code: str) -> str | None:
    """The code as ASCII digits (spaces dropped, full-width digits mapped), or None when it cannot be a code.

    Any length a configuration allows is a code, not just today's code_digits: a site that raises code_digits
    must still accept every code already texted (they stay valid for expiry_days). So a wrong code of any such
    length counts toward the lockout; shorter or longer, or not digits, is malformed and does not."""
    c = "".join(code.translate(_FULL_WIDTH).split())
    return c if CODE_MIN_DIGITS <= len(c) <= CODE_MAX_DIGITS and _ASCII_DIGITS.fullmatch(c) else None


def unique_code(session: Session, secret: bytes, digits: int) -> tuple[str, str]:
    """A fresh code and its HMAC that no live parcel holds (finished parcels have their HMAC cleared)."""
    for _ in range(100):
        code = new_code(digits)
        h = code_hmac(secret, code)
        # Under every active key: a live code made before a key rotation is the same code.
        if session.execute(select(Parcel.id).where(Parcel.code_hmac.in_(each_hash(secret, code_hmac, code)))
                           ).first() is None:
            return code, h
    raise RuntimeError("could not find an unused pickup code in 100 tries; raise code_digits")


class CodeGuard:
    """Refuses codes for ``lockout_s`` after ``max_wrong_codes`` wrong ones within ``wrong_code_window_s``."""

    def __init__(self, cfg: PickupConfig, kiosk_id: str) -> None:
        self.cfg = cfg
        self.kiosk_id = kiosk_id
        self.key = f"cabinet.code_lockout_until.{kiosk_id}"[:64]

    def _until(self, session: Session) -> dt.datetime | None:
        kv = session.get(KeyValue, self.key)
        return dt.datetime.fromisoformat(kv.value) if kv else None

    def retry_after_s(self, session: Session, now: dt.datetime) -> int | None:
        """Seconds until codes are accepted again, or None when not locked out."""
        until = self._until(session)
        if until is not None and now < until:
            return max(1, math.ceil((until - now).total_seconds()))
        return None

    def wrong_codes(self, session: Session, now: dt.datetime) -> int:
        """Wrong codes that count toward the next lockout: in the window, and after the last lockout ended."""
        since = now - dt.timedelta(seconds=self.cfg.wrong_code_window_s)
        last_until = self._until(session)
        if last_until is not None and last_until > since:
            since = last_until  # wrong codes before the last lockout ended were already punished
        return session.execute(
            select(func.count())
            .select_from(CodeAttempt)
            .where(CodeAttempt.kiosk_id == self.kiosk_id, CodeAttempt.ok.is_(False), CodeAttempt.at > since)
        ).scalar_one()

    def record(self, session: Session, now: dt.datetime, ok: bool, parcel_id: int | None = None) -> int | None:
        """Store one attempt; on a wrong one that reaches the limit, start a lockout and return its length."""
        session.add(CodeAttempt(at=now, ok=ok, parcel_id=parcel_id, kiosk_id=self.kiosk_id))
        session.flush()
        if ok:
            return None
        if self.wrong_codes(session, now) < self.cfg.max_wrong_codes:
            return None
        until = now + dt.timedelta(seconds=self.cfg.lockout_s)
        kv = session.get(KeyValue, self.key)
        if kv is None:
            session.add(KeyValue(key=self.key, value=until.isoformat()))
        else:
            kv.value = until.isoformat()
        session.flush()
        return math.ceil(self.cfg.lockout_s)

    def clear(self, session: Session, now: dt.datetime) -> None:
        """Staff lift a lockout: it ends now, and the wrong codes before it are forgiven."""
        kv = session.get(KeyValue, self.key)
        if kv is None:
            session.add(KeyValue(key=self.key, value=now.isoformat()))
        else:
            kv.value = now.isoformat()
