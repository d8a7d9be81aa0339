"""Pickup codes: random, stored only as HMAC-SHA256, attempts rate-limited across restarts."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import math
import re
import secrets
from dataclasses import dataclass

from sqlalchemy import select
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
        if (
            session.execute(
                select(Parcel.id).where(Parcel.code_hmac.in_(each_hash(secret, code_hmac, code)))
            ).first()
            is None
        ):
            return code, h
    raise RuntimeError("could not find an unused pickup code in 100 tries; raise code_digits")


@dataclass(frozen=True)
class CodeWait:
    """Where the hall's pickup codes stand: ``wait_s`` before the next code is taken (0: now), ``tries_left`` wrong
    codes before one brings a wait, and the wait that one would bring (``next_wait_s``)."""

    wait_s: int
    tries_left: int
    next_wait_s: int
    wrong_counted: int  # in the window since the last lift: what grows the waits
    wrong_today: int  # in the last 24 h, every kiosk: what the daily ceiling counts


class CodeGuard:
    """Progressive waits after wrong pickup codes, counted hall-wide: every kiosk on one database shares them.

    A wrong code is a guess at someone's parcel wherever it is typed, so the count is the hall's, not a kiosk's
    (N kiosks counting alone would give a guesser N times the tries). Waits grow with the wrong codes of the last
    ``delay_window_s``: the first ``free_wrong_codes - 1`` cost nothing (a citizen misreading a text message), then
    each costs ``first_delay_s``, doubling up to ``max_delay_s``. They are short, so one guesser holds up the honest
    for seconds, not a quarter of an hour, and a card always works. The budget: at most ``wrong_codes_per_day``
    wrong codes in any 24 h, whatever the delays and staff lifts do (the ceiling is counted from the attempts
    themselves, which a lift does not erase). State (the current wait's end, the last lift) is one row, locked
    while a code is checked, so two kiosks cannot both take the last try."""

    KEY = "cabinet.code_guard"
    DAY = dt.timedelta(days=1)

    def __init__(self, cfg: PickupConfig, kiosk_id: str) -> None:
        self.cfg = cfg
        self.kiosk_id = kiosk_id

    # --- state ------------------------------------------------------------------------------
    def _row(self, session: Session) -> KeyValue:
        """The hall's guard row, locked for this transaction (PostgreSQL; SQLite serialises writers itself)."""
        row = session.execute(
            select(KeyValue).where(KeyValue.key == self.KEY).with_for_update()
        ).scalar_one_or_none()
        if row is None:  # migration 0005 creates it; a database built another way gets it on first use
            row = KeyValue(key=self.KEY, value="{}")
            session.add(row)
            session.flush()
        return row

    @staticmethod
    def _get(row: KeyValue, name: str) -> dt.datetime | None:
        v = json.loads(row.value or "{}").get(name)
        return dt.datetime.fromisoformat(v) if v else None

    @staticmethod
    def _set(row: KeyValue, **values: dt.datetime) -> None:
        state = json.loads(row.value or "{}")
        state.update({k: v.isoformat() for k, v in values.items()})
        row.value = json.dumps(state, sort_keys=True)

    def _wrong_since(self, session: Session, since: dt.datetime) -> list[dt.datetime]:
        return list(
            session.execute(
                select(CodeAttempt.at)
                .where(CodeAttempt.ok.is_(False), CodeAttempt.at > since)
                .order_by(CodeAttempt.at)
            ).scalars()
        )

    # --- the rule ---------------------------------------------------------------------------
    def delay_for(self, n: int) -> int:
        """The wait after the ``n``-th wrong code of the window (1-based): none before the ``free_wrong_codes``-th."""
        c = self.cfg
        if n < c.free_wrong_codes:
            return 0
        return int(min(c.max_delay_s, c.first_delay_s * 2 ** min(n - c.free_wrong_codes, 30)))

    def status(self, session: Session, now: dt.datetime) -> CodeWait:
        """The hall's state now (no lock taken: for showing, not for deciding)."""
        row = session.get(KeyValue, self.KEY)
        return self._status(session, row, now)

    def _status(self, session: Session, row: KeyValue | None, now: dt.datetime) -> CodeWait:
        until = self._get(row, "until") if row else None
        day = self._wrong_since(session, now - self.DAY)
        wait = (until - now).total_seconds() if until is not None and until > now else 0.0
        if len(day) >= self.cfg.wrong_codes_per_day:
            # The ceiling: no code until the oldest wrong code that fills it is a day old.
            oldest = day[len(day) - self.cfg.wrong_codes_per_day]
            wait = max(wait, (oldest + self.DAY - now).total_seconds())
        n = self._counted(row, day, now)
        return CodeWait(
            wait_s=math.ceil(wait),
            tries_left=max(0, self.cfg.free_wrong_codes - n),
            next_wait_s=self.delay_for(max(n + 1, self.cfg.free_wrong_codes)),
            wrong_counted=n,
            wrong_today=len(day),
        )

    def _counted(self, row: KeyValue | None, day: list[dt.datetime], now: dt.datetime) -> int:
        """Wrong codes that grow the next wait: within the window and after the last staff lift."""
        since = now - dt.timedelta(seconds=self.cfg.delay_window_s)
        lifted = self._get(row, "lifted_at") if row else None
        if lifted is not None and lifted > since:
            since = lifted
        return sum(1 for at in day if at > since)

    def check(self, session: Session, now: dt.datetime) -> int:
        """Lock the hall's guard row and say how many seconds a code must still wait (0: it may be checked)."""
        return self._status(session, self._row(session), now).wait_s

    def record(self, session: Session, now: dt.datetime, ok: bool, parcel_id: int | None = None) -> CodeWait:
        """Store one attempt (after ``check``); a wrong one starts the wait it earns. Returns the state after it."""
        session.add(CodeAttempt(at=now, ok=ok, parcel_id=parcel_id, kiosk_id=self.kiosk_id))
        session.flush()
        row = self._row(session)
        if not ok:
            delay = self.delay_for(self._counted(row, self._wrong_since(session, now - self.DAY), now))
            if delay:
                self._set(row, until=max(now + dt.timedelta(seconds=delay), self._get(row, "until") or now))
                session.flush()
        return self._status(session, row, now)

    def clear(self, session: Session, now: dt.datetime) -> CodeWait:
        """Staff lift the wait: it ends now and the wrong codes before it no longer grow the next one. The daily
        ceiling stays (it is the hall's stated budget). Returns the state before the lift."""
        row = self._row(session)
        before = self._status(session, row, now)
        self._set(row, until=now, lifted_at=now)
        session.flush()
        return before
