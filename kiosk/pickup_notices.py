"""Pickup notices besides the first SMS: one reminder before the code expires, and a new code for a lost SMS.

A small, contained addition on the cabinet's parcels (the cabinet engine owns
them; this module reads ready parcels and, for a resend, replaces one code
HMAC, the only change it makes):

- **PICKUP_REMINDER**: a result not collected two days before its code expires
  gets one reminder through the outbox (``cabinet`` and ``expires``, never the
  code: the platform refuses a reminder that repeats it). Due reminders are
  queued by :meth:`PickupNotices.queue_due_reminders`, which the runtime calls
  periodically (each kiosk for its own cabinets).
- **PICKUP_CODE_RESEND** (1.1): a citizen who lost the SMS identifies with the
  card and asks for a new code. The old code dies at once (its HMAC is replaced
  in the same transaction), a pending SMS carrying it is cancelled, the new
  code goes out sealed in the outbox (all three params), and the resend is
  audited (parcel, case, how many; never a code). At most
  :data:`MAX_RESENDS` per parcel, so the SMS gateway cannot be run up.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from kiosk import outbox
from kiosk.audit import append as audit_append
from kiosk.cabinet import states as S
from kiosk.cabinet.codes import unique_code
from kiosk.clock import Clock
from kiosk.config import PickupConfig
from kiosk.errors import FlowError, PlatformFeatureUnavailable
from kiosk.identity import id_hash
from kiosk.keyring import each_hash
from kiosk.storage.db import Database
from kiosk.storage.models import Compartment, OutboxMessage, Parcel

log = logging.getLogger(__name__)

REMIND_BEFORE = dt.timedelta(days=2)
MAX_RESENDS = 3
NOTIFY = "NotifyApplicant"


class NoParcelToResend(FlowError):
    """The citizen on the card has no result waiting in this kiosk's cabinets."""

    citizen_key = "error.nothing_to_pick_up"
    hint = "Nothing of this citizen's is ready in this kiosk's cabinets; nothing to fix."


class TooManyResends(FlowError):
    """A parcel's code was already sent again MAX_RESENDS times."""

    citizen_key = "error.too_many_resends"
    hint = "Pick up with the ID card at the cabinet, or hand it over at the desk."


@dataclass(frozen=True)
class Resent:
    """A new code is on its way (the code itself is never returned: it goes only to the applicant's phone)."""

    parcel_id: int
    case_number: str
    cabinet_id: str
    compartment: str
    expires_at: dt.datetime
    resends: int  # this parcel's resends so far, this one included


def _expires_text(p: Parcel, tz: dt.tzinfo) -> str:
    assert p.expires_at is not None
    return p.expires_at.astimezone(tz).strftime("%Y-%m-%d %H:%M")  # the citizen reads it: the hall's time


def _notices(session: Session, parcel_ids: Collection[int]) -> dict[int, list[OutboxMessage]]:
    if not parcel_ids:
        return {}
    rows = session.execute(
        select(OutboxMessage).where(
            OutboxMessage.ref_kind == "parcel",
            OutboxMessage.ref_id.in_(list(parcel_ids)),
            OutboxMessage.operation == NOTIFY,
        )
    ).scalars()
    out: dict[int, list[OutboxMessage]] = {}
    for m in rows:
        out.setdefault(int(m.ref_id or 0), []).append(m)
    return out


def _is_reminder(m: OutboxMessage) -> bool:
    # A reminder carries no code, so it is never sealed and its template can be read.
    return not m.sensitive and (m.payload or {}).get("template") == "PICKUP_REMINDER"


def _resend_count(msgs: list[OutboxMessage]) -> int:
    # Every code-carrying notice is sealed: the first PICKUP_READY and each PICKUP_CODE_RESEND.
    return max(0, sum(1 for m in msgs if m.sensitive) - 1)


class PickupNotices:
    """Reminders and resends for the results in this kiosk's cabinets."""

    def __init__(
        self,
        db: Database,
        secret: bytes,
        clock: Clock,
        pickup: PickupConfig,
        my_cabinets: Collection[str],
        *,
        v11: bool = True,
        poke: object = None,
    ) -> None:
        self.db = db
        self.secret = secret
        self.clock = clock
        self.pickup = pickup
        self.my_cabinets = frozenset(my_cabinets)
        self.v11 = v11
        self._poke = poke  # the outbox sender's poke(), to send at once

    def _ready(self, session: Session) -> list[tuple[Parcel, Compartment]]:
        q = (
            select(Parcel, Compartment)
            .join(Compartment, Compartment.id == Parcel.compartment_id)
            .where(
                Parcel.kind == S.RESULT,
                Parcel.state == S.READY,
                Parcel.case_number.is_not(None),
                Parcel.expires_at.is_not(None),
                Compartment.cabinet_id.in_(list(self.my_cabinets)),
            )
            .order_by(Parcel.id)
        )
        return [(p, c) for p, c in session.execute(q).tuples()]

    def queue_due_reminders(self) -> list[int]:
        """Queue one PICKUP_REMINDER for each ready result within two days of expiry and not yet reminded;
        the parcel ids reminded."""
        now = self.clock.now()
        done: list[int] = []
        with self.db.transaction() as s:
            due = [
                (p, c)
                for p, c in self._ready(s)
                if p.expires_at is not None and p.expires_at - REMIND_BEFORE <= now < p.expires_at
            ]
            notices = _notices(s, [p.id for p, _ in due])
            for p, c in due:
                if any(_is_reminder(m) for m in notices.get(p.id, ())):
                    continue  # one reminder per parcel, whatever became of it
                payload = {
                    "case_number": p.case_number,
                    "template": "PICKUP_REMINDER",
                    "params": {
                        "cabinet": f"{c.cabinet_id} {c.label}",
                        "expires": _expires_text(p, self.clock.tz),
                    },
                }
                msg = outbox.enqueue(s, now, NOTIFY, payload, ref_kind="parcel", ref_id=p.id)
                audit_append(
                    s,
                    now,
                    "kiosk",
                    "cabinet.reminder_queued",
                    f"parcel:{p.id}",
                    case_number=p.case_number,
                    outbox_id=msg.id,
                    expires=p.expires_at.isoformat() if p.expires_at else None,
                )
                done.append(p.id)
        if done:
            log.info("pickup reminders queued for %d parcel(s)", len(done))
            self._wake()
        return done

    def resendable(self, id_number: str) -> list[tuple[int, str, str, str]]:
        """The citizen's ready results here: (parcel id, case number, cabinet, compartment)."""
        h = each_hash(self.secret, id_hash, id_number)  # every active key: hashes made before a rotation too
        with self.db.transaction() as s:
            return [
                (p.id, p.case_number or "", c.cabinet_id, c.label)
                for p, c in self._ready(s)
                if p.owner_id_hash in h
            ]

    def resend_code(self, id_number: str, parcel_id: int | None = None, *, actor: str = "citizen") -> Resent:
        """A new code for the citizen on the card (their only, or the chosen, ready result here); the old code
        is dead when this returns."""
        if not self.v11:
            raise PlatformFeatureUnavailable("PICKUP_CODE_RESEND needs interface 1.1")
        h = each_hash(self.secret, id_hash, id_number)
        now = self.clock.now()
        with self.db.transaction() as s:
            mine = [(p, c) for p, c in self._ready(s) if p.owner_id_hash in h and parcel_id in (None, p.id)]
            if not mine:
                raise NoParcelToResend("no ready result of this citizen in this kiosk's cabinets")
            parcel, comp = mine[0]
            s.refresh(parcel, with_for_update=True)
            if parcel.state != S.READY:  # picked up or taken back meanwhile
                raise NoParcelToResend(f"parcel {parcel.id} is {parcel.state}")
            count = _resend_count(_notices(s, [parcel.id]).get(parcel.id, [])) + 1
            if count > MAX_RESENDS:
                audit_append(
                    s,
                    now,
                    actor,
                    "cabinet.code_resend_refused",
                    f"parcel:{parcel.id}",
                    case_number=parcel.case_number,
                    resends=count - 1,
                )
                raise TooManyResends(f"parcel {parcel.id}: code already sent again {MAX_RESENDS} times")
            code, code_h = unique_code(s, self.secret, self.pickup.code_digits)
            parcel.code_hmac = code_h  # the old code is dead from this commit on
            outbox.cancel_pending(
                s, now, "parcel", parcel.id, NOTIFY, "a new pickup code was issued", actor=actor
            )
            payload = {
                "case_number": parcel.case_number,
                "template": "PICKUP_CODE_RESEND",
                "params": {
                    "cabinet": f"{comp.cabinet_id} {comp.label}",
                    "code": code,
                    "expires": _expires_text(parcel, self.clock.tz),
                },
            }
            msg = outbox.enqueue(
                s,
                now,
                NOTIFY,
                payload,
                secret=self.secret,
                sensitive=True,
                ref_kind="parcel",
                ref_id=parcel.id,
            )
            del code, payload
            audit_append(
                s,
                now,
                actor,
                "cabinet.code_resent",
                f"parcel:{parcel.id}",
                case_number=parcel.case_number,
                compartment=comp.label,
                outbox_id=msg.id,
                resends=count,
            )
            assert parcel.expires_at is not None and parcel.case_number is not None
            out = Resent(
                parcel_id=parcel.id,
                case_number=parcel.case_number,
                cabinet_id=comp.cabinet_id,
                compartment=comp.label,
                expires_at=parcel.expires_at,
                resends=count,
            )
        log.info("pickup code of parcel %d sent again (%d of %d)", out.parcel_id, count, MAX_RESENDS)
        self._wake()
        return out

    def _wake(self) -> None:
        if callable(self._poke):
            self._poke()
