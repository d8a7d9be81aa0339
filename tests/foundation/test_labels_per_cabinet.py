"""Migration 0011: compartment labels unique per cabinet, upgraded with rows in place, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy.exc import IntegrityError

from kiosk.storage.db import Database

NOW = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)


def _row(cab: str, label: str, channel: int) -> dict[str, object]:
    return {
        "cabinet_id": cab,
        "label": label,
        "size": "S",
        "board": 1,
        "channel": channel,
        "state": "occupied",
        "updated_at": NOW,
    }


def test_upgrade_keeps_rows_and_lets_two_cabinets_share_a_label(db_url: str) -> None:
    db = Database(db_url)
    command.upgrade(db._alembic(), "0010")
    md = sa.MetaData()
    comps = sa.Table("compartments", md, autoload_with=db.engine)
    parcels = sa.Table("parcels", md, autoload_with=db.engine)
    cmds = sa.Table("door_commands", md, autoload_with=db.engine)
    with db.engine.begin() as c:
        c.execute(comps.insert(), [_row("CAB-01", "A01", 1), _row("CAB-01", "A02", 2)])
        a01 = c.execute(sa.select(comps.c.id).where(comps.c.label == "A01")).scalar_one()
        c.execute(
            parcels.insert().values(
                kind="result", state="ready", compartment_id=a01, created_at=NOW, case_number="C-1"
            )
        )
        c.execute(
            cmds.insert().values(
                kiosk_id="K1",
                label="A02",
                kind="inspect",
                reason="maintenance",
                requested_by="S1",
                created_at=NOW,
                expires_at=NOW,
                state="pending",
            )
        )
        # Before 0011 a second cabinet's A01 is refused: the constraint this migration replaces.
        with pytest.raises(IntegrityError):
            with c.begin_nested():
                c.execute(comps.insert(), [_row("CAB-02", "A01", 1)])

    command.upgrade(db._alembic(), "0011")
    md = sa.MetaData()
    comps = sa.Table("compartments", md, autoload_with=db.engine)
    parcels = sa.Table("parcels", md, autoload_with=db.engine)
    cmds = sa.Table("door_commands", md, autoload_with=db.engine)
    with db.engine.begin() as c:
        # The rows, their ids and what points at them are as they were.
        assert c.execute(sa.select(comps.c.label).order_by(comps.c.id)).scalars().all() == ["A01", "A02"]
        assert c.execute(sa.select(parcels.c.compartment_id)).scalar_one() == a01
        assert c.execute(sa.select(cmds.c.cabinet_id)).scalar_one() == "CAB-01"
        c.execute(comps.insert(), [_row("CAB-02", "A01", 1)])
        assert c.execute(sa.select(sa.func.count()).where(comps.c.label == "A01")).scalar_one() == 2
    # Still unique within one cabinet.
    with pytest.raises(IntegrityError), db.engine.begin() as c:
        c.execute(comps.insert(), [_row("CAB-02", "A01", 3)])
    if db.is_sqlite:
        with db.engine.connect() as c:
            assert c.exec_driver_sql("PRAGMA foreign_key_check").all() == []
    # And back: the downgrade restores the hall-wide constraint once the duplicate is gone.
    with db.engine.begin() as c:
        c.execute(comps.delete().where(comps.c.cabinet_id == "CAB-02"))
    command.downgrade(db._alembic(), "0010")
    with pytest.raises(IntegrityError), db.engine.begin() as c:
        c.execute(comps.insert(), [_row("CAB-02", "A01", 1)])
    db.dispose()
