"""After a restore from backup: compare every compartment's sensors with the (restored) records.

A backup is older than the cabinet: parcels picked up or put in since it was
taken are in the doors but not in the records, or the other way round. ``kiosk db
restore`` leaves a request in the restored database (:data:`PENDING_KEY`); the next
start of the kiosk that owns the lock buses reads every door once and raises one
``sensor_mismatch`` task per compartment that disagrees, then clears the request.

| records say                     | sensor reads        | outcome                 |
| ------------------------------- | ------------------- | ----------------------- |
| occupied (a live parcel)        | closed, item present| agrees                  |
| occupied                        | closed, empty       | task: parcel not there  |
| free                            | closed, item present| task: something inside  |
| free                            | closed, empty       | agrees                  |
| any                             | door open           | task: door open         |
| any                             | no item sensor      | not comparable (counted)|
| any                             | board silent        | task: could not read    |

Reserved, faulty and disabled compartments are left to the flows' reconciliation and to staff.
"""

from __future__ import annotations

import json

from sqlalchemy import select
from sqlalchemy.orm import Session

from kiosk.audit import append as audit
from kiosk.cabinet import states as S
from kiosk.cabinet import store
from kiosk.cabinet.context import Context
from kiosk.errors import LockBoardError
from kiosk.storage.models import Compartment, KeyValue, StaffTask

PENDING_KEY = "restore.sensor_check"  # value: {"restored_at": ..., "backup_audit_seq": N}


def request(session: Session, restored_at: str, backup_audit_seq: int) -> None:
    """Written by the restore into the restored database, in the same transaction as its audit record."""
    row = session.get(KeyValue, PENDING_KEY)
    value = json.dumps({"restored_at": restored_at, "backup_audit_seq": backup_audit_seq})
    if row is None:
        session.add(KeyValue(key=PENDING_KEY, value=value))
    else:
        row.value = value


def pending(eng: Context) -> bool:
    with eng.tx() as (s, _now):
        return s.get(KeyValue, PENDING_KEY) is not None


def run(eng: Context) -> list[str]:
    """Compare sensors and records once; returns one line per mismatch (each also a staff task)."""
    return compare(eng, "after the restore from backup", clear_request=True)


def compare(
    eng: Context,
    when: str,
    *,
    clear_request: bool = False,
    cabinet_id: str | None = None,
    board: int | None = None,
) -> list[str]:
    """Compare every free or occupied compartment (of one board, if given) with its sensors: one task per
    compartment that disagrees ("{label}: {when} ..."), none twice while one is open."""
    with eng.tx() as (s, _now):
        q = (
            select(
                Compartment.id,
                Compartment.cabinet_id,
                Compartment.label,
                Compartment.board,
                Compartment.channel,
                Compartment.state,
            )
            .where(Compartment.cabinet_id.in_(list(eng.buses)), Compartment.state.in_([S.FREE, S.OCCUPIED]))
            .order_by(Compartment.cabinet_id, Compartment.label)
        )
        if cabinet_id is not None:
            q = q.where(Compartment.cabinet_id == cabinet_id)
        if board is not None:
            q = q.where(Compartment.board == board)
        comps = s.execute(q).all()
    findings: list[tuple[int, str, str]] = []  # (compartment id, label, what disagrees)
    not_comparable = 0
    for comp_id, cab_id, label, board, channel, state in comps:
        if board < 0:
            continue
        try:
            st = eng.buses[cab_id].door_state(board, channel)
        except LockBoardError as err:
            findings.append((comp_id, label, f"its board did not answer ({type(err).__name__})"))
            continue
        expected = state == S.OCCUPIED
        if not st.closed:
            findings.append((comp_id, label, "its door is open"))
        elif st.item_present is None:
            not_comparable += 1
        elif st.item_present != expected:
            findings.append(
                (
                    comp_id,
                    label,
                    "the records say occupied, the item sensor reads empty"
                    if expected
                    else "the records say free, the item sensor reads an item inside",
                )
            )
    lines: list[str] = []
    with eng.tx() as (s, _now):
        now = eng.clock.now()
        for comp_id, label, what in findings:
            open_task = s.execute(
                select(StaffTask.id).where(
                    StaffTask.compartment_id == comp_id,
                    StaffTask.kind == S.TASK_SENSOR_MISMATCH,
                    StaffTask.resolved_at.is_(None),
                )
            ).first()
            if open_task is not None:  # one task per compartment, however often the kiosk restarts
                continue
            parcel = store.live_parcel_in(s, comp_id)
            detail = f"{label}: {when} {what}; open it, check and correct the records"
            store.add_task(
                s,
                now,
                S.TASK_SENSOR_MISMATCH,
                detail,
                compartment_id=comp_id,
                parcel_id=parcel.id if parcel else None,
            )
            lines.append(detail)
        row = s.get(KeyValue, PENDING_KEY) if clear_request else None
        if row is not None:
            s.delete(row)
        audit(
            s,
            now,
            "kiosk",
            "cabinet.sensor_check",
            ",".join(eng.buses),
            compartments=len(comps),
            mismatches=len(findings),
            not_comparable=not_comparable,
            when=when,
        )
    return lines
