"""Start-up reconciliation: settle every unfinished flow against the doors' real state.

Decision table (door and item sensor read now):

| flow               | door open | closed, item present | closed, item absent | closed, no sensor |
| ------------------ | --------- | -------------------- | ------------------- | ----------------- |
| deposit / drop-off | watch     | complete             | cancelled_empty     | task              |
| pickup / collect   | watch     | roll back (restore)  | complete            | task              |
| technician open    | finish    | finish               | finish              | finish            |

"watch": the door stands open, so the person may still be at it. The flow stays open (``door_open``) and the
process that started the cabinet reads the door every few seconds (:func:`settle_found_open`, from
``settle_open_flows``): once it shuts, the same table decides by the item sensor (a deposit gets its code and
SMS; a pickup completes or rolls back). A staff task only if it stays open past ``close_timeout_s``, or at
once when the board has no item sensor (an open door with no sensor can never be decided). A command-line
process leaves the flow open and never watches it: the kiosk's own start does.

"Closed, empty" ends an unfinished deposit or drop-off exactly as when the
kiosk sees it shut empty while running (``finish.cancelled_empty``): nothing
was put in, so nothing is reported and no code or receipt is made.

A board that does not answer is a task too. A task holds the parcel in
``attention`` and leaves its compartment reserved or occupied, so nothing is
lost and nothing is handed out twice.
"""

from __future__ import annotations

import logging

from sqlalchemy import func, select

from kiosk.audit import append as audit
from kiosk.cabinet import finish, policies, store
from kiosk.cabinet import states as S
from kiosk.cabinet.context import Context
from kiosk.cabinet.door import DoorEngine
from kiosk.cabinet.results import FlowResult, ReconcileReport
from kiosk.cabinet.transitions import transition
from kiosk.errors import LockBoardError
from kiosk.ports import DoorStatus
from kiosk.storage.models import Compartment, Flow, Parcel

log = logging.getLogger(__name__)


def reconcile(door: DoorEngine) -> ReconcileReport:
    """Settle this kiosk's unfinished flows; free compartments left reserved by nothing."""
    eng = door.ctx
    report = ReconcileReport()
    with eng.tx() as (s, _now):
        rows = s.execute(
            select(Flow.id, Compartment.cabinet_id, Compartment.board, Compartment.channel)
            .join(Compartment, Compartment.id == Flow.compartment_id)
            .where(Flow.finished_at.is_(None), Compartment.cabinet_id.in_(list(eng.buses)))
            .order_by(Flow.id)
        ).all()
    for flow_id, cab_id, board, channel in rows:
        status: DoorStatus | None = None
        why = ""
        try:
            status = eng.buses[cab_id].door_state(board, channel)
        except LockBoardError as err:
            why = f"the board did not answer ({type(err).__name__}: {err.message})"
        _settle(door, flow_id, status, why, report)
    _free_orphans(eng, report)
    return report


def _settle(
    door: DoorEngine, flow_id: int, status: DoorStatus | None, why: str, report: ReconcileReport
) -> None:
    eng = door.ctx
    with eng.tx() as (s, _now):
        flow = s.get(Flow, flow_id, with_for_update=True)
        if flow is None or flow.finished_at is not None:
            return
        now = eng.clock.now()
        comp = s.get(Compartment, flow.compartment_id)
        assert comp is not None
        audit(
            s,
            now,
            "kiosk",
            "cabinet.reconcile",
            comp.label,
            flow=flow.id,
            kind=flow.kind,
            state=flow.state,
            door_closed=status.closed if status else None,
            item_present=status.item_present if status else None,
        )
        head = f"flow {flow.id} ({flow.kind} {flow.state}, {comp.label})"
        if flow.kind == S.TECH_OPEN:
            finish.close_flow(flow, now, "interrupted", comp.label)
            report.completed.append(flow.id)
            report.lines.append(f"{head}: technician open closed off")
            return
        if status is None:
            decision = "task"
        elif not status.closed and status.item_present is None:
            decision, why = (
                "task",
                "the door was open at start-up and this board has no item sensor to tell what happened",
            )
        elif not status.closed:
            decision = "watch"
        elif status.item_present is None:
            decision, why = (
                "task",
                "the door is closed and this board has no item sensor to tell what happened",
            )
        else:
            putting_in = policies.policy(flow.kind).puts_in
            decision = "complete" if status.item_present == putting_in else "roll_back"
        if decision == "watch":
            if (
                flow.state == S.OPENING
            ):  # the unlock went out before the crash: the door is confirmed open now
                transition(flow, S.DOOR_OPEN, now)
            audit(
                s,
                now,
                "kiosk",
                "cabinet.door_found_open",
                comp.label,
                flow=flow.id,
                kind=flow.kind,
                parcel=flow.parcel_id,
            )
            eng.found_open.add(flow.id)
            eng.open_since[flow.id] = eng.clock.monotonic()
            report.watched.append(flow.id)
            report.lines.append(f"{head}: door open at start-up: watched until it shuts")
        elif decision == "complete":
            policies.complete(eng, s, flow, status)  # a deposit's code goes out only by the applicant's SMS
            report.completed.append(flow.id)
            report.lines.append(
                f"{head}: completed (item sensor {'present' if status.item_present else 'empty'})"
            )
        elif decision == "roll_back":
            policies.roll_back(
                eng, s, flow, f"item sensor reads {'present' if status.item_present else 'empty'}"
            )
            report.rolled_back.append(flow.id)
            report.lines.append(f"{head}: rolled back")
        else:
            task_id = finish.undecided(eng, s, flow, why)
            report.staff_tasks.append(task_id)
            report.lines.append(f"{head}: staff task {task_id}: {why}")
    log.info("reconciled %s", report.lines[-1])


def settle_found_open(door: DoorEngine) -> list[FlowResult]:
    """Read the doors start-up found open: once one shuts, settle its flow by the start-up table; one still open
    past close_timeout_s gets its door-left-open task (once)."""
    eng = door.ctx
    done: list[FlowResult] = []
    for flow_id in sorted(eng.found_open):
        with eng.tx() as (s, _now):
            flow = s.get(Flow, flow_id)
            comp = s.get(Compartment, flow.compartment_id) if flow else None
            if flow is None or comp is None or flow.finished_at is not None:
                eng.found_open.discard(flow_id)  # settled elsewhere (a person resolved it)
                continue
            cab_id, board, channel = comp.cabinet_id, comp.board, comp.channel
        try:
            status = eng.buses[cab_id].door_state(board, channel)
        except LockBoardError as err:
            log.warning("door of flow %s not readable (%s); trying again later", flow_id, err.message)
            continue
        if status.closed:
            eng.found_open.discard(flow_id)
            eng.open_since.pop(flow_id, None)
            _settle(door, flow_id, status, "", ReconcileReport())
            with eng.tx() as (s, _now):
                flow = s.get(Flow, flow_id)
                if flow is not None and flow.finished_at is not None:
                    done.append(finish.stored_result(flow))
        elif eng.clock.monotonic() - eng.open_since.get(flow_id, 0.0) >= eng.close_timeout_s(cab_id):
            door.flag_left_open(flow_id)
    return done


def _free_orphans(eng: Context, report: ReconcileReport) -> None:
    """A compartment reserved with no live parcel and no running flow is free again (e.g. after a crash mid-fault)."""
    with eng.tx() as (s, _now):
        now = eng.clock.now()
        for comp in s.execute(
            select(Compartment).where(
                Compartment.state == S.RESERVED, Compartment.cabinet_id.in_(list(eng.buses))
            )
        ).scalars():
            busy = s.execute(
                select(Flow.id).where(Flow.compartment_id == comp.id, Flow.finished_at.is_(None))
            ).first()
            if busy is None and store.live_parcel_in(s, comp.id) is None:
                store.release(comp, now)
                audit(s, now, "kiosk", "cabinet.reconcile_freed", comp.label)
                report.lines.append(f"{comp.label}: reserved by nothing, freed")
        # Two live parcels in one compartment must never happen; if it ever does, a person must look.
        doubles = (
            s.execute(
                select(Parcel.compartment_id)
                .where(Parcel.state.in_(S.LIVE), Parcel.compartment_id.is_not(None))
                .group_by(Parcel.compartment_id)
                .having(func.count() > 1)
            )
            .scalars()
            .all()
        )
        for comp_id in doubles:
            comp = s.get(Compartment, comp_id)
            label = comp.label if comp else str(comp_id)
            log.error("compartment %s holds more than one live parcel", label)
            task = store.add_task(
                s,
                now,
                S.TASK_RECONCILE,
                f"{label}: more than one live parcel assigned",
                compartment_id=comp_id,
            )
            report.staff_tasks.append(task.id)
