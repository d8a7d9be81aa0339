"""One policy per flow kind: what each kind does when its door opens, fails to open, shuts, is left open, is
refused (another door's state is unknown), or is found unfinished at start-up. The door engine
(:mod:`kiosk.cabinet.door`) knows doors; it asks :func:`policy` for the rest.

| kind       | start (kiosk.cabinet.flows)  | open failed (the door's fault)     | closed             | reconcile    |
| ---------- | ---------------------------- | ---------------------------------- | ------------------ | ------------ |
| deposit    | allocate; parcel depositing  | compartment faulty, move on        | deposited / empty  | item = done  |
| drop-off   | allocate; parcel dropping    | compartment faulty, move on        | dropped_off / empty| item = done  |
| pickup     | code or card; parcel picking | parcel attention, task, citizen    | picked_up / left   | empty = done |
| collect    | staff; parcel collecting     | parcel attention, task, re-raise   | collected / inside | empty = done |
| tech. open | staff; no parcel             | task, re-raise                     | opened (at unlock) | closed off   |

Left open (all kinds): one door-left-open task after close_timeout_s; the flow finishes when the door shuts.
A take-back of a result stays a *collect* with a reason (audited with its flow): same door, same endings, the
reason audited; no new kind and no migration.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from kiosk.audit import append as audit
from kiosk.cabinet import finish, flowdata, store
from kiosk.cabinet import states as S
from kiosk.cabinet.allocate import BoardNotAnswering, Down, board_task, down_after
from kiosk.cabinet.context import Context
from kiosk.cabinet.results import FlowResult, PickupDoorFault
from kiosk.errors import LockBoardError
from kiosk.ports import DoorStatus
from kiosk.storage.models import Compartment, Flow, Parcel


@dataclass(frozen=True)
class OpenFault:
    """Why an unlock failed, judged once by the door engine: ``where`` is "door", "board" or "bus"."""

    where: str
    reason: str
    err: LockBoardError
    board_down: BoardNotAnswering


@dataclass(frozen=True)
class MoveOn:
    """An open-failed rule's answer "try another compartment" (deposit, drop-off)."""

    size: str
    down: list[Down]
    tried: list[str]


Closed = Callable[[Context, Session, Flow, Compartment, Parcel, DoorStatus, dt.datetime], FlowResult]
OpenFailed = Callable[
    [Context, Session, dt.datetime, Flow, Compartment, Parcel | None, OpenFault],
    "MoveOn | LockBoardError | PickupDoorFault",
]
Refused = Callable[[Context, Session, dt.datetime, Flow, Compartment, Parcel | None, str], None]
RollBack = Callable[[Context, Session, dt.datetime, Flow, Compartment, Parcel, str], None]


@dataclass(frozen=True)
class FlowPolicy:
    """The rules of one flow kind (see the module table)."""

    kind: str
    puts_in: bool  # an item inside when the door shuts means done (deposit, drop-off); else empty means done
    closed: Closed
    open_failed: OpenFailed
    refused: Refused
    roll_back: RollBack


# --- open failed --------------------------------------------------------------------------------------------
def _move_on(
    ctx: Context,
    s: Session,
    now: dt.datetime,
    flow: Flow,
    comp: Compartment,
    parcel: Parcel | None,
    f: OpenFault,
) -> MoveOn:
    if f.where == "door":
        store.add_task(
            s, now, S.TASK_DOOR_FAULT, f"{comp.label}: {f.reason}", compartment_id=comp.id, flow_id=flow.id
        )
    else:
        board_task(
            s,
            now,
            comp.cabinet_id,
            f.board_down.board,
            f"{comp.label} was not opened ({f.reason})",
            flow_id=flow.id,
        )
    data = flowdata.load(flow)
    mine = data.of_kind
    assert isinstance(mine, flowdata.DepositData | flowdata.DropoffData)
    down: list[Down] = list(mine.down)  # boards found dead earlier in this flow stay off its list
    if f.where != "door":
        down += down_after(ctx, f.err, comp.cabinet_id, comp.board)
    tried = [*mine.tried, comp.label]
    flowdata.save(flow, data.with_kind(tried=tuple(tried), down=tuple(down)))
    return MoveOn(mine.size, down, tried)


def _pickup_fault(
    ctx: Context,
    s: Session,
    now: dt.datetime,
    flow: Flow,
    comp: Compartment,
    parcel: Parcel | None,
    f: OpenFault,
) -> PickupDoorFault:
    assert parcel is not None
    store.to_attention(s, now, parcel, f"{comp.label} would not open")
    why = f.reason if f.where == "door" else f.board_down.message
    detail = f"{comp.label} would not open for parcel {parcel.id} ({why})"
    task = store.add_task(
        s, now, S.TASK_PICKUP_DOOR, detail, compartment_id=comp.id, parcel_id=parcel.id, flow_id=flow.id
    )
    finish.close_flow(flow, now, "door_fault", comp.label, task_id=task.id)
    return PickupDoorFault(f"compartment {comp.label} did not open for parcel {parcel.id}: {why}")


def _person_there(
    ctx: Context,
    s: Session,
    now: dt.datetime,
    flow: Flow,
    comp: Compartment,
    parcel: Parcel | None,
    f: OpenFault,
) -> LockBoardError:
    """Collect, technician open: a person is standing there; the board's error is theirs to read."""
    if parcel is not None:
        store.to_attention(s, now, parcel, f"{comp.label} would not open")
    pid = parcel.id if parcel else None
    if f.where == "door":
        task = store.add_task(
            s,
            now,
            S.TASK_DOOR_FAULT,
            f"{comp.label}: {f.reason}",
            compartment_id=comp.id,
            parcel_id=pid,
            flow_id=flow.id,
        )
    else:
        task = store.add_task(
            s,
            now,
            S.TaskKind.BOARD_NOT_ANSWERING,
            f"{f.board_down.message}; parcel {pid}",
            compartment_id=comp.id,
            parcel_id=pid,
            flow_id=flow.id,
            cabinet_id=comp.cabinet_id,
            board=f.board_down.board,
        )
    finish.close_flow(flow, now, "door_fault", comp.label, task_id=task.id)
    return f.err if f.where == "door" else f.board_down


# --- refused: another door's state is unknown ------------------------------------------------------------------
def _nothing_went_in(
    ctx: Context, s: Session, now: dt.datetime, flow: Flow, comp: Compartment, parcel: Parcel | None, why: str
) -> None:
    if parcel is not None:
        parcel.state, parcel.finished_at, parcel.compartment_id = S.CANCELLED, now, None
        store.release(comp, now)
    finish.close_flow(flow, now, "not_opened", comp.label)


def _as_it_was(
    ctx: Context, s: Session, now: dt.datetime, flow: Flow, comp: Compartment, parcel: Parcel | None, why: str
) -> None:
    if parcel is None:
        finish.close_flow(flow, now, "not_opened", comp.label)
        return
    policy(flow.kind).roll_back(ctx, s, now, flow, comp, parcel, why)


# --- roll back (reconciliation: the sensors show nothing changed hands) --------------------------------------------
def _cancel_empty(
    ctx: Context, s: Session, now: dt.datetime, flow: Flow, comp: Compartment, parcel: Parcel, why: str
) -> None:
    # Reconciliation rolls these back only on "closed, empty": the same ending as when the kiosk saw it shut.
    finish.cancelled_empty(s, flow, comp, parcel, now, "kiosk", f"at start-up: {why}")
    finish.end_left_open(s, now, flow)


def _restore(state: Callable[[Flow], str], outcome: str) -> RollBack:
    def roll_back(
        ctx: Context, s: Session, now: dt.datetime, flow: Flow, comp: Compartment, parcel: Parcel, why: str
    ) -> None:
        parcel.state = state(flow)
        audit(
            s,
            now,
            "kiosk",
            "cabinet.flow_rolled_back",
            comp.label,
            flow=flow.id,
            kind=flow.kind,
            parcel=parcel.id,
            why=why,
        )
        finish.close_flow(flow, now, outcome, comp.label)
        finish.end_left_open(s, now, flow)

    return roll_back


def _tech_closed(
    ctx: Context,
    s: Session,
    flow: Flow,
    comp: Compartment,
    parcel: Parcel | None,
    status: DoorStatus,
    now: dt.datetime,
) -> FlowResult:
    finish.close_flow(flow, now, "opened", comp.label)
    return finish.stored_result(flow)


def _no_roll_back(
    ctx: Context, s: Session, now: dt.datetime, flow: Flow, comp: Compartment, parcel: Parcel, why: str
) -> None:
    finish.close_flow(flow, now, "interrupted", comp.label)


_POLICIES: dict[str, FlowPolicy] = {
    p.kind: p
    for p in (
        FlowPolicy(S.DEPOSIT, True, finish.deposited, _move_on, _nothing_went_in, _cancel_empty),
        FlowPolicy(S.DROPOFF_FLOW, True, finish.dropped_off, _move_on, _nothing_went_in, _cancel_empty),
        FlowPolicy(
            S.PICKUP,
            False,
            finish.picked_up,
            _pickup_fault,
            _as_it_was,
            _restore(lambda _f: S.READY, "not_picked_up"),
        ),
        FlowPolicy(
            S.COLLECT,
            False,
            finish.collected,
            _person_there,
            _as_it_was,
            _restore(lambda f: flowdata.of(f, flowdata.CollectData).prev_state, "not_collected"),
        ),
        FlowPolicy(S.TECH_OPEN, False, _tech_closed, _person_there, _nothing_went_in, _no_roll_back),  # type: ignore[arg-type]
    )
}


def policy(kind: str) -> FlowPolicy:
    return _POLICIES[kind]


def complete(ctx: Context, s: Session, flow: Flow, status: DoorStatus) -> FlowResult:
    """The door reads closed: give the flow its kind's normal outcome."""
    now = ctx.clock.now()
    comp, parcel = finish.parts(s, flow)
    audit(
        s,
        now,
        flow.actor,
        "cabinet.door_closed",
        comp.label,
        flow=flow.id,
        kind=flow.kind,
        parcel=parcel.id if parcel else None,
        item_present=status.item_present,
    )
    result = policy(flow.kind).closed(ctx, s, flow, comp, parcel, status, now)  # type: ignore[arg-type]
    finish.end_left_open(s, now, flow)
    return result


def roll_back(ctx: Context, s: Session, flow: Flow, why: str) -> None:
    """The sensors show nothing changed hands: undo the flow's claim (reconciliation)."""
    comp, parcel = finish.parts(s, flow)
    assert parcel is not None
    policy(flow.kind).roll_back(ctx, s, ctx.clock.now(), flow, comp, parcel, why)
