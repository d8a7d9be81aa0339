"""Starting each flow: check, claim a compartment or parcel, record it, then unlock through the door engine."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Protocol

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from kiosk import notes
from kiosk.audit import append as audit
from kiosk.cabinet import allocate, flowdata, store
from kiosk.cabinet import states as S
from kiosk.cabinet.codes import CODE_MAX_DIGITS, CODE_MIN_DIGITS, code_hmac, normalise, same_hmac
from kiosk.cabinet.context import Context
from kiosk.cabinet.door import DoorEngine
from kiosk.cabinet.results import (
    FlowHandle,
    FlowResult,
    MalformedPickupCode,
    NothingToPickUp,
    ParcelView,
    PickupCodeExpired,
)
from kiosk.errors import (
    CodeLockout,
    FlowError,
    KioskError,
    NoFreeCompartment,
    ValidationError,
    WrongPickupCode,
)
from kiosk.identity import id_hash, validate_id_number
from kiosk.keyring import each_hash
from kiosk.privacy import mask_id_number, mask_name
from kiosk.storage.models import Compartment, Parcel

CASE_RE = re.compile(r"^[0-9A-Z]{12,32}$")
COLLECTABLE = (S.DROPPED_OFF, S.READY, S.ATTENTION)  # stored, and no flow has the door


# The fixed reasons for taking a result back, in the order the staff screen offers them: audited as they are.
# Anything else is free text a person typed.
COLLECT_REASONS: tuple[str, ...] = ("wrong_case", "citizen_at_desk", "other")


# Why the hall console asks a kiosk to move a door (kiosk.door_commands): a take-back runs as a collect with it.
COMMAND_REASONS: tuple[str, ...] = (
    "overdue",
    "citizen_request",
    "wrong_compartment",
    "sensor_check",
    "maintenance",
)


class ParcelInOtherCabinet(FlowError):
    """The code or card is right, but the parcel waits in another kiosk's cabinet: nothing was opened here."""

    citizen_key = (
        "error.parcel_in_other_cabinet"  # "Your documents are in cabinet {cabinet}: please go there."
    )
    hint = "The parcel is in the cabinet named; send the citizen there."

    def __init__(self, message: str, *, cabinet_id: str) -> None:
        super().__init__(message)
        self.cabinet_id = cabinet_id


class ParcelBeingPickedUp(FlowError):
    """The code is right, but another kiosk holds the parcel's row this moment (its pickup is under way)."""

    citizen_key = "error.parcel_busy"  # "This parcel is being picked up elsewhere right now."
    hint = "Another kiosk on this database is handing the parcel out; nothing was opened here and no wrong code counted."


def _elsewhere(parcel_id: int, cabinet_id: str) -> ParcelInOtherCabinet:
    return ParcelInOtherCabinet(
        f"parcel {parcel_id} is in cabinet {cabinet_id}, not in this kiosk's cabinets", cabinet_id=cabinet_id
    )


def _no_compartment(size: str) -> NoFreeCompartment:
    return NoFreeCompartment(f"no working compartment of size {size} or larger is free")


class Person(Protocol):
    """Anything with an ID number and a name: a card's Identity or a platform Applicant."""

    id_number: str
    name: str


def _not_in_cabinet(s: Session, case: str) -> None:
    dup = s.execute(
        select(Parcel.id).where(Parcel.case_number == case, Parcel.kind == S.RESULT, Parcel.state.in_(S.LIVE))
    ).first()
    if dup is not None:
        raise FlowError(
            f"case {case} is already in the cabinet (parcel {dup[0]})",
            hint="Collect or resolve that parcel first.",
            citizen_key="error.already_deposited",
        )


def _case(case_number: str) -> str:
    case = case_number.strip().upper()
    if not CASE_RE.match(case):
        raise ValidationError("a case number is 12-32 characters of 0-9 and A-Z", field="case_number")
    return case


def _id(person: Person) -> str:
    try:
        return validate_id_number(person.id_number)
    except ValueError as err:
        raise ValidationError(str(err), field="id_number") from None


class Starts:
    """The start rule of each flow kind: deposit, pickup (by code or by identity), drop-off and collect. Each
    checks, claims a compartment or parcel, records the flow, then hands it to the door engine to open."""

    def __init__(self, ctx: Context, door: DoorEngine) -> None:
        self.ctx, self.door = ctx, door

    # --- deposit (staff) ---------------------------------------------------------------
    def start_deposit(
        self, case_number: str, *, actor: str, size: str = "M", applicant: Person | None = None
    ) -> FlowHandle:
        """Find the owner, take the smallest free compartment that fits, open it for staff."""
        case = _case(case_number)
        matter_name = None
        if applicant is None:
            if self.ctx.platform is None:
                raise FlowError(
                    "no platform to look up the case's applicant",
                    hint="Give the applicant's ID number and name.",
                )
            ticket = self.ctx.platform.get_delivery_ticket(case)
            applicant, matter_name = ticket.applicant, ticket.matter_name
        number = _id(applicant)
        with self.ctx.tx() as (s, _now):
            _not_in_cabinet(s, case)  # before any door is read

        def confirm(s: Session, now: dt.datetime, comp: Compartment) -> int:
            _not_in_cabinet(s, case)  # again: another staff member may have deposited it meanwhile
            parcel = Parcel(
                kind=S.RESULT,
                state=S.DEPOSITING,
                case_number=case,
                matter_name=matter_name,
                compartment_id=comp.id,
                owner_id_hash=id_hash(self.ctx.secret, number),
                owner_id_masked=mask_id_number(number),
                owner_name_masked=mask_name(applicant.name),
                created_by=actor,
                created_at=now,
            )
            s.add(parcel)
            s.flush()
            data = flowdata.for_kind(S.DEPOSIT, size=size, case_number=case)
            return self.door.begin(s, now, S.DEPOSIT, comp, parcel, actor, data)

        flow_id = allocate.take(self.ctx, size, actor, confirm)
        if flow_id is None:
            raise _no_compartment(size)
        return self.door.unlock(flow_id)

    # --- pickup (citizen) ---------------------------------------------------------------
    def start_pickup_by_code(self, code: str, *, actor: str = "citizen") -> FlowHandle:
        """Check the code (rate-limited, every attempt audited without the code) and open its compartment."""
        c = normalise(code)
        err: KioskError | None = None
        flow_id = 0
        with self.ctx.tx() as (s, now):
            retry = self.ctx.guard.check(
                s, now
            )  # locks the hall's guard row: kiosks check codes one at a time
            if retry:
                audit(s, now, actor, "cabinet.code_attempt", result="locked_out", retry_after_s=retry)
                err = CodeLockout(
                    f"codes wait another {retry} s after wrong codes in the hall", retry_after_s=retry
                )
            elif c is None:
                # Not a code at all (a slip of the finger, another script's digits): say what a code looks like.
                # It cannot match any parcel, so it does not count toward the lockout, which is for guessing.
                audit(
                    s,
                    now,
                    actor,
                    "cabinet.code_attempt",
                    result="malformed",
                    length=len("".join(code.split())),
                )
                err = MalformedPickupCode(
                    f"a pickup code has {self.ctx.pickup.code_digits} digits ({CODE_MIN_DIGITS} to "
                    f"{CODE_MAX_DIGITS} for one texted before pickup.code_digits changed)",
                    field="code",
                )
            else:
                hs = each_hash(
                    self.ctx.secret, code_hmac, c
                )  # a code texted before a key rotation still opens
                parcel = (
                    s.execute(
                        select(Parcel)
                        .where(Parcel.code_hmac.in_(hs), Parcel.kind == S.RESULT)
                        .with_for_update(skip_locked=True, key_share=True)
                    )
                    .scalars()
                    .first()
                )
                cab_id = (
                    s.execute(
                        select(Compartment.cabinet_id).where(Compartment.id == parcel.compartment_id)
                    ).scalar_one_or_none()
                    if parcel is not None
                    else None
                )
                # SKIP LOCKED passes over a row another kiosk holds: a right code must not count as a wrong one.
                # NO KEY UPDATE (key_share) because a row being written that merely refers to the parcel (a code
                # attempt, a flow, a task) holds KEY SHARE on it, which FOR UPDATE would take for "busy".
                busy = (
                    parcel is None
                    and s.execute(
                        select(Parcel.id).where(Parcel.code_hmac.in_(hs), Parcel.kind == S.RESULT)
                    ).scalar()
                    is not None
                )
                if busy:
                    audit(s, now, actor, "cabinet.code_attempt", result="busy_elsewhere")
                    err = ParcelBeingPickedUp("the parcel of this code is being picked up at another kiosk")
                elif parcel is None or not any(same_hmac(parcel.code_hmac, h) for h in hs):
                    st = self.ctx.guard.record(s, now, ok=False)
                    audit(s, now, actor, "cabinet.code_attempt", result="wrong", wait_s=st.wait_s)
                    err = WrongPickupCode(
                        f"the code matches no parcel ({st.tries_left} tries left, codes wait {st.wait_s} s)",
                        tries_left=st.tries_left,
                        wait_s=st.wait_s,
                        next_wait_s=st.next_wait_s,
                    )
                elif cab_id is not None and cab_id not in self.ctx.buses:
                    # A right code typed at the wrong kiosk (a shared database): not a guess, and not this kiosk's
                    # door to open. Nothing here is touched; the citizen is sent to the cabinet that holds it.
                    self.ctx.guard.record(s, now, ok=True, parcel_id=parcel.id)
                    audit(
                        s,
                        now,
                        actor,
                        "cabinet.code_attempt",
                        result="other_cabinet",
                        parcel=parcel.id,
                        cabinet=cab_id,
                    )
                    err = _elsewhere(parcel.id, cab_id)
                elif parcel.state != S.READY:
                    self.ctx.guard.record(s, now, ok=True, parcel_id=parcel.id)
                    audit(
                        s,
                        now,
                        actor,
                        "cabinet.code_attempt",
                        result=f"parcel_{parcel.state}",
                        parcel=parcel.id,
                    )
                    err = FlowError(
                        f"parcel {parcel.id} is {parcel.state}, not ready",
                        citizen_key="error.see_staff",
                        hint="Look at the open staff tasks for this parcel.",
                    )
                elif parcel.expires_at is not None and parcel.expires_at <= now:
                    self.ctx.guard.record(s, now, ok=True, parcel_id=parcel.id)
                    audit(s, now, actor, "cabinet.code_attempt", result="expired", parcel=parcel.id)
                    err = PickupCodeExpired(
                        f"the code of parcel {parcel.id} expired at {parcel.expires_at:%Y-%m-%d %H:%M}"
                    )
                else:
                    self.ctx.guard.record(s, now, ok=True, parcel_id=parcel.id)
                    audit(s, now, actor, "cabinet.code_attempt", result="ok", parcel=parcel.id)
                    flow_id = self._begin_pickup(s, now, parcel, actor, "code")
        if err is not None:
            raise err
        return self.door.unlock(flow_id)

    def start_pickup_by_identity(
        self, person: Person, *, parcel_id: int | None = None, actor: str = "citizen"
    ) -> FlowHandle:
        """Open the compartment of a ready parcel (overdue too) whose owner's ID hash matches; only this kiosk's
        cabinets are searched, and a parcel waiting in another kiosk's cabinet is named (ParcelInOtherCabinet)."""
        h = each_hash(self.ctx.secret, id_hash, person.id_number)
        elsewhere: tuple[int, str] | None = None
        with self.ctx.tx() as (s, now):
            q = self._owned(h).with_for_update(skip_locked=True, key_share=True)
            if parcel_id is not None:
                q = q.where(Parcel.id == parcel_id)
            parcel = s.execute(q).scalars().first()
            if parcel is None:
                q2 = self._owned(h, here=False).add_columns(Compartment.cabinet_id)
                row = s.execute(q2.where(Parcel.id == parcel_id) if parcel_id is not None else q2).first()
                elsewhere = (row[0].id, row[1]) if row is not None else None
            audit(
                s,
                now,
                actor,
                "cabinet.identity_pickup",
                result="found" if parcel else "other_cabinet" if elsewhere else "none",
                parcel=parcel.id if parcel else elsewhere[0] if elsewhere else None,
                cabinet=elsewhere[1] if elsewhere else None,
            )
            flow_id = self._begin_pickup(s, now, parcel, actor, "identity") if parcel else 0
        if elsewhere is not None:
            raise _elsewhere(*elsewhere)
        if not flow_id:
            raise NothingToPickUp("no ready parcel for this person")
        return self.door.unlock(flow_id)

    def parcels_for(self, person: Person) -> list[ParcelView]:
        """The ready parcels of one person, for the UI to offer."""
        with self.ctx.tx() as (s, now):
            rows = (
                s.execute(self._owned(each_hash(self.ctx.secret, id_hash, person.id_number))).scalars().all()
            )
            return [store.parcel_view(s, p, now) for p in rows]

    def _owned(self, h: list[str], *, here: bool = True) -> Select[tuple[Parcel]]:
        """Ready results of one owner (their ID hash under each active key) in this kiosk's cabinets
        (``here=False``: in any other cabinet)."""
        mine = Compartment.cabinet_id.in_(list(self.ctx.buses))
        return (
            select(Parcel)
            .join(Compartment, Compartment.id == Parcel.compartment_id)
            .where(
                Parcel.owner_id_hash.in_(h),
                Parcel.kind == S.RESULT,
                Parcel.state == S.READY,
                mine if here else ~mine,
            )
            .order_by(Parcel.id)
        )

    def _begin_pickup(self, s: Session, now: dt.datetime, parcel: Parcel, actor: str, via: str) -> int:
        comp = s.get(Compartment, parcel.compartment_id)
        parcel.state = S.PICKING
        return self.door.begin(
            s, now, S.PICKUP, comp, parcel, actor, flowdata.for_kind(S.PICKUP, via=via, prev_state=S.READY)
        )

    # --- drop-off (citizen) --------------------------------------------------------------
    def start_dropoff(
        self,
        person: Person,
        *,
        case_number: str | None = None,
        matter_code: str | None = None,
        matter_name: str | None = None,
        size: str = "M",
        actor: str = "citizen",
    ) -> FlowHandle:
        """Open a compartment for a citizen's materials; the receipt number comes when the door closes."""
        if not case_number and not matter_code:
            raise ValidationError("a drop-off needs a case number or a matter", field="case_number")
        case = _case(case_number) if case_number else None
        number = _id(person)

        def confirm(s: Session, now: dt.datetime, comp: Compartment) -> int:
            parcel = Parcel(
                kind=S.DROPOFF,
                state=S.DROPPING,
                case_number=case,
                matter_code=matter_code,
                matter_name=matter_name,
                compartment_id=comp.id,
                owner_id_hash=id_hash(self.ctx.secret, number),
                owner_id_masked=mask_id_number(number),
                owner_name_masked=mask_name(person.name),
                created_by=actor,
                created_at=now,
            )
            s.add(parcel)
            s.flush()
            return self.door.begin(
                s, now, S.DROPOFF_FLOW, comp, parcel, actor, flowdata.for_kind(S.DROPOFF_FLOW, size=size)
            )

        flow_id = allocate.take(self.ctx, size, actor, confirm)
        if flow_id is None:
            raise _no_compartment(size)
        return self.door.unlock(flow_id)

    # --- collect (staff) ---------------------------------------------------------------------
    def collectable(self, *, include_ready: bool = False) -> list[ParcelView]:
        """What staff should take out: drop-offs, overdue results, and parcels waiting for attention.

        ``include_ready`` adds results still waiting for their owner, for staff taking one back by name
        (a wrong case deposited, the citizen at the desk): every parcel :meth:`start_collect` accepts."""
        with self.ctx.tx() as (s, now):
            rows = (
                s.execute(
                    select(Parcel)
                    .join(Compartment, Compartment.id == Parcel.compartment_id)
                    .where(Parcel.state.in_(COLLECTABLE), Compartment.cabinet_id.in_(list(self.ctx.buses)))
                    .order_by(Compartment.label)
                )
                .scalars()
                .all()
            )
            views = [store.parcel_view(s, p, now) for p in rows]
        return [v for v in views if include_ready or v.state != S.READY or v.overdue]

    def start_collect(self, parcel_id: int, *, actor: str, reason: str = "") -> FlowHandle:
        """Open one parcel's compartment for staff to take it out: any drop-off or result stored in it, overdue
        or not. From now on its pickup code and its owner's card no longer open it; once the door closes with the
        compartment empty, a result is reported RETURNED_TO_CENTRE (its code dies), a drop-off DROPOFF_RECEIVED."""
        with self.ctx.tx() as (s, now):
            parcel = s.get(Parcel, parcel_id, with_for_update=True)
            comp = s.get(Compartment, parcel.compartment_id) if parcel and parcel.compartment_id else None
            if (
                parcel is None
                or parcel.state not in COLLECTABLE
                or comp is None
                or comp.cabinet_id not in self.ctx.buses
            ):
                state = f" ({parcel.state})" if parcel else ""
                raise FlowError(
                    f"parcel {parcel_id}{state} is not stored in a compartment of this kiosk",
                    hint="`kiosk cabinet status` lists the parcels in each compartment.",
                )
            prev = parcel.state
            overdue = store.parcel_view(s, parcel, now).overdue
            audit(
                s,
                now,
                actor,
                "cabinet.collect_requested",
                comp.label,
                parcel=parcel.id,
                kind=parcel.kind,
                state=prev,
                overdue=overdue,
                case_number=parcel.case_number,
                # A code as it is; typed text (it may name someone) kept as a deletable note, its id audited.
                **notes.for_audit(
                    s,
                    now,
                    actor=actor,
                    subject_kind="parcel",
                    subject_id=parcel.id,
                    text=reason,
                    codes=COLLECT_REASONS + COMMAND_REASONS,
                ),
            )
            parcel.state = S.COLLECTING  # a code typed meanwhile is refused: the parcel is not ready any more
            flow_id = self.door.begin(
                s, now, S.COLLECT, comp, parcel, actor, flowdata.for_kind(S.COLLECT, prev_state=prev)
            )
        return self.door.unlock(flow_id)

    def run_collect(
        self, *, actor: str, on_open: Callable[[FlowHandle], None] | None = None
    ) -> list[FlowResult | KioskError]:
        """Collect everything collectable in one go (the CLI); ``on_open(handle)`` tells the person which door."""
        out: list[FlowResult | KioskError] = []
        for view in self.collectable():
            try:
                handle = self.start_collect(view.id, actor=actor)
                if on_open is not None:
                    on_open(handle)
                out.append(self.door.wait_closed(handle))
            except KioskError as err:
                out.append(err)
        return out
