"""A right pickup code while another kiosk holds the parcel's row (PostgreSQL, SKIP LOCKED): not a wrong code."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text

from kiosk.cabinet import Cabinet
from kiosk.cabinet.flows import ParcelBeingPickedUp
from kiosk.storage.db import Database
from kiosk.storage.models import AuditRecord, CodeAttempt
from tests.cabinet.cabinet_support import case


def _deposit(cabinet: Cabinet, sim, n: int) -> tuple[str, int, str]:
    h = cabinet.start_deposit(case(n), actor="staff", size="S")
    ch = int(h.label[1:])
    sim.put_item(0, ch)
    sim.close_door(0, ch)
    r = cabinet.wait_closed(h)
    return r.code, r.parcel_id, h.label


def test_right_code_while_another_kiosk_holds_the_row(cabinet: Cabinet, sim, db: Database) -> None:
    if db.is_sqlite:
        pytest.skip("SQLite serialises writers (BEGIN IMMEDIATE): no row is ever skipped")
    code, parcel_id, label = _deposit(cabinet, sim, 1)
    with db.engine.connect() as other:  # "the other kiosk": its pickup transaction holds the parcel's row
        other.execute(text("SELECT id FROM parcels WHERE id = :id FOR UPDATE"), {"id": parcel_id})
        with pytest.raises(ParcelBeingPickedUp):
            cabinet.start_pickup_by_code(code)
        other.rollback()
    with db.transaction() as s:
        wrong = s.execute(select(CodeAttempt).where(CodeAttempt.ok.is_(False))).scalars().all()
        busy = (
            s.execute(select(AuditRecord.detail).where(AuditRecord.action == "cabinet.code_attempt"))
            .scalars()
            .all()
        )
    assert wrong == []  # no wrong code counted toward the lockout
    assert {"result": "busy_elsewhere"} in busy
    assert not sim.is_open(0, int(label[1:]))
    # Once the other transaction is gone the same code opens the door.
    h = cabinet.start_pickup_by_code(code)
    assert h.label == label and sim.is_open(0, int(label[1:]))


def test_right_code_while_another_row_refers_to_the_parcel(cabinet: Cabinet, sim, db: Database) -> None:
    """A transaction that only writes a row pointing at the parcel (here a code attempt, as any kiosk's code check
    writes one) holds KEY SHARE on it; that is no pickup in progress and must not make the right code "busy"."""
    if db.is_sqlite:
        pytest.skip("SQLite serialises writers (BEGIN IMMEDIATE): no row is ever skipped")
    code, parcel_id, label = _deposit(cabinet, sim, 1)
    with db.engine.connect() as other:
        other.execute(
            text("INSERT INTO code_attempts (kiosk_id, at, ok, parcel_id) VALUES ('K2', now(), false, :id)"),
            {"id": parcel_id},
        )
        h = cabinet.start_pickup_by_code(code)
        other.rollback()
    assert h.label == label and sim.is_open(0, int(label[1:]))
