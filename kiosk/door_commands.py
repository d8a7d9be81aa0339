"""Door commands: a door move (take a parcel back, open for inspection) asked for at the hall console.

The console never drives a lock board and never acts as a kiosk. It writes a command row addressed to the
kiosk that owns the cabinet (``kv`` ``cabinet.owner.<id>``, :mod:`kiosk.cabinet_owners`), with the requester's
staff id, a reason code and an expiry. The owning kiosk lists its pending commands on its staff screen and runs
one only after a staff member signed in at that kiosk confirms (:mod:`hallkiosk.console_link`).

Life of a command: ``pending`` -> (claimed by the kiosk on confirmation) ``running`` -> ``done`` | ``failed``;
a pending command past its expiry becomes ``expired`` instead of running; a second pending command for the same
door is refused when it is asked for. Every step is audited with staff ids only, never a name.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from kiosk.audit import append as audit
from kiosk.cabinet import labels, store
from kiosk.cabinet.flows import COMMAND_REASONS
from kiosk.cabinet.results import NOT_ONE_COMPARTMENT
from kiosk.cabinet_owners import owner_key
from kiosk.errors import KioskError
from kiosk.storage.models import DoorCommand, KeyValue

TAKE_BACK = "take_back"
INSPECT = "inspect"
KINDS = (TAKE_BACK, INSPECT)
# Why a door is moved, as a code (the audit keeps codes, the pages show them in words).
REASONS = COMMAND_REASONS
PENDING, RUNNING, DONE, FAILED, EXPIRED = "pending", "running", "done", "failed", "expired"
LIVE = (PENDING, RUNNING)
DEFAULT_TTL = dt.timedelta(minutes=30)


class CommandRefused(KioskError):
    """A command that may not be asked for or run (unknown door, duplicate, stale, already taken)."""


@dataclass(frozen=True)
class CommandView:
    id: int
    kiosk_id: str
    label: str
    parcel_id: int | None
    kind: str
    reason: str
    requested_by: str
    confirmed_by: str | None
    created_at: dt.datetime
    expires_at: dt.datetime
    state: str
    result: str | None
    cabinet_id: str | None = None  # None: a command made before migration 0011 whose door was not found

    @property
    def door(self) -> str:
        """The door as the core and the console name it: CABINET:LABEL (a label is unique per cabinet only)."""
        return labels.ref(self.cabinet_id, self.label) if self.cabinet_id else self.label


def _view(c: DoorCommand) -> CommandView:
    return CommandView(
        id=c.id,
        kiosk_id=c.kiosk_id,
        label=c.label,
        parcel_id=c.parcel_id,
        kind=c.kind,
        reason=c.reason,
        requested_by=c.requested_by,
        confirmed_by=c.confirmed_by,
        created_at=c.created_at,
        expires_at=c.expires_at,
        state=c.state,
        result=c.result,
        cabinet_id=c.cabinet_id,
    )


def owning_kiosk(s: Session, cabinet_id: str) -> str | None:
    row = s.get(KeyValue, owner_key(cabinet_id))
    return json.loads(row.value).get("kiosk") if row is not None else None


def issue(
    s: Session,
    now: dt.datetime,
    *,
    label: str,
    kind: str,
    reason: str,
    requester: str,
    ttl: dt.timedelta = DEFAULT_TTL,
) -> CommandView:
    """Address a door command to the kiosk owning ``label``'s cabinet (inside the caller's transaction)."""
    if kind not in KINDS:
        raise CommandRefused(f"unknown door command {kind!r}")
    if reason not in REASONS:
        raise CommandRefused(f"unknown reason code {reason!r}")
    try:  # ``label``: A01, or CAB-02:A01 when two cabinets have an A01 (kiosk.cabinet.labels)
        comp = labels.find(s, label)
    except NOT_ONE_COMPARTMENT as err:
        raise CommandRefused(err.message) from None
    kiosk_id = owning_kiosk(s, comp.cabinet_id)
    if kiosk_id is None:
        raise CommandRefused(f"no kiosk drives cabinet {comp.cabinet_id}")
    expire(s, now)
    dup = s.execute(
        select(DoorCommand.id)
        .where(
            DoorCommand.cabinet_id == comp.cabinet_id,
            DoorCommand.label == comp.label,
            DoorCommand.state.in_(LIVE),
        )
        .with_for_update()
    ).scalar()
    if dup is not None:
        raise CommandRefused(
            f"command {dup} for {comp.label} is still waiting or running",
            hint="Wait for it to run or expire.",
        )
    parcel_id = None
    if kind == TAKE_BACK:
        parcel = store.live_parcel_in(s, comp.id)
        if parcel is None:
            raise CommandRefused(f"no parcel in {comp.label} to take back")
        parcel_id = parcel.id
    cmd = DoorCommand(
        kiosk_id=kiosk_id,
        cabinet_id=comp.cabinet_id,
        label=comp.label,
        parcel_id=parcel_id,
        kind=kind,
        reason=reason,
        requested_by=requester,
        created_at=now,
        expires_at=now + ttl,
        state=PENDING,
    )
    s.add(cmd)
    s.flush()
    audit(
        s,
        now,
        f"staff:{requester}",
        "door_command.issued",
        comp.label,
        command=cmd.id,
        kind=kind,
        reason=reason,
        kiosk=kiosk_id,
        parcel=parcel_id,
    )
    return _view(cmd)


def expire(s: Session, now: dt.datetime, kiosk_id: str | None = None) -> int:
    """Mark pending commands past their expiry ``expired`` (each audited); returns how many."""
    q = select(DoorCommand).where(DoorCommand.state == PENDING, DoorCommand.expires_at <= now)
    if kiosk_id is not None:
        q = q.where(DoorCommand.kiosk_id == kiosk_id)
    stale = s.execute(q.with_for_update(skip_locked=True, key_share=True)).scalars().all()
    for c in stale:
        c.state = EXPIRED
        c.finished_at = now
        c.result = "expired before anyone confirmed it at the kiosk"
        audit(s, now, "kiosk", "door_command.expired", c.label, command=c.id, kiosk=c.kiosk_id)
    return len(stale)


def pending(s: Session, now: dt.datetime, kiosk_id: str) -> list[CommandView]:
    """This kiosk's commands waiting for a confirmation, oldest first (stale ones expired on the way)."""
    expire(s, now, kiosk_id)
    rows = (
        s.execute(
            select(DoorCommand)
            .where(DoorCommand.kiosk_id == kiosk_id, DoorCommand.state == PENDING)
            .order_by(DoorCommand.id)
        )
        .scalars()
        .all()
    )
    return [_view(c) for c in rows]


def claim(s: Session, now: dt.datetime, command_id: int, *, kiosk_id: str, confirmer: str) -> CommandView:
    """Take one pending command of this kiosk to run it, confirmed by ``confirmer`` (a staff id).

    The state change is a compare-and-set: of two confirmations (two kiosk screens, a double tap) one wins and
    the other is refused, so a door never opens twice for one command."""
    cmd = s.get(DoorCommand, command_id)
    if cmd is None or cmd.kiosk_id != kiosk_id:
        raise CommandRefused(f"no command {command_id} for kiosk {kiosk_id}")
    if cmd.state == PENDING and cmd.expires_at <= now:
        # The refusal rolls this transaction back: the caller expires stale rows in its own (expire()).
        raise CommandRefused(
            f"command {command_id} expired at {cmd.expires_at:%H:%M:%S}",
            hint="Ask the console to send it again.",
        )
    won = s.execute(
        update(DoorCommand)
        .where(DoorCommand.id == command_id, DoorCommand.state == PENDING)
        .values(state=RUNNING, confirmed_by=confirmer)
    ).rowcount
    if not won:
        s.refresh(cmd)
        raise CommandRefused(f"command {command_id} is {cmd.state}, not waiting")
    s.refresh(cmd)
    audit(
        s,
        now,
        f"staff:{confirmer}",
        "door_command.confirmed",
        cmd.label,
        command=cmd.id,
        kind=cmd.kind,
        requested_by=cmd.requested_by,
        kiosk=kiosk_id,
    )
    return _view(cmd)


def finish(s: Session, now: dt.datetime, command_id: int, *, ok: bool, result: str) -> CommandView:
    """Record how a running command ended (the door's result, or why it did not open)."""
    cmd = s.get(DoorCommand, command_id, with_for_update=True)
    if cmd is None or cmd.state != RUNNING:
        raise CommandRefused(f"command {command_id} is not running")
    cmd.state = DONE if ok else FAILED
    cmd.result = result[:500]
    cmd.finished_at = now
    audit(
        s,
        now,
        f"staff:{cmd.confirmed_by}",
        f"door_command.{cmd.state}",
        cmd.label,
        command=cmd.id,
        kind=cmd.kind,
        result=cmd.result,
        kiosk=cmd.kiosk_id,
    )
    return _view(cmd)


def recent(s: Session, *, label: str | None = None, limit: int = 50) -> list[CommandView]:
    """The newest commands (hall-wide, or one door's: ``label`` A01 or CAB-02:A01), for the console."""
    q = select(DoorCommand).order_by(DoorCommand.id.desc()).limit(limit)
    if label is not None:
        cab, bare = labels.split(label)
        q = q.where(DoorCommand.label == bare)
        if cab is not None:
            q = q.where(DoorCommand.cabinet_id == cab)
    return [_view(c) for c in s.execute(q).scalars().all()]
