"""Staff tasks are found by their columns, never by their text (migration 0005 converts the prose of old rows)."""

from __future__ import annotations

import ast
import datetime as dt
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy import select

from kiosk.cabinet import Cabinet
from kiosk.cabinet import states as S
from kiosk.errors import LockBoardError
from kiosk.storage.db import Database
from kiosk.storage.models import StaffTask
from tests.cabinet.cabinet_support import case

ROOT = Path(__file__).resolve().parents[2]
T0 = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)

# One prose row of every kind the cabinet and the outbox raised before 0005, and the columns it must get.
OLD_ROWS: list[tuple[str, str, bool, tuple[str | None, int | None, int | None]]] = [
    (
        "board_not_answering",
        "board 2 (cabinet CAB-01) not answering: no answer; its doors were left as they were",
        False,
        ("CAB-01", 2, None),
    ),
    (
        "board_not_answering",
        "the lock bus of cabinet CAB-02 not answering: port failed",
        False,
        ("CAB-02", None, None),
    ),
    (
        "item_sensors",
        "item sensors look wrong on board 0 (cabinet CAB-01): 3 compartments in a row",
        True,
        ("CAB-01", 0, None),
    ),
    ("door_fault", "A01: OpenNotDetected: did not open", True, ("CAB-01", 0, None)),
    ("pickup_door_fault", "A01 would not open for parcel 1 (x)", True, ("CAB-01", 0, None)),
    ("item_left", "A01: parcel 1 still reads present after pickup", True, ("CAB-01", 0, None)),
    ("reconcile", "A01: unfinished deposit (flow 1, parcel 1): x", True, ("CAB-01", 0, None)),
    (
        "sensor_mismatch",
        "A01: after the restore from backup its door is open; open it",
        True,
        ("CAB-01", 0, None),
    ),
    (
        "door_left_open",
        "A01: door left open during pickup (flow 1, parcel 1, by citizen) [flow 1 ended: x]",
        True,
        ("CAB-01", 0, None),
    ),
    ("reported_problem", "A01: door stuck (reported by citizen)", True, ("CAB-01", 0, None)),
    (
        "sms_not_sent",
        "Pickup SMS for case X not sent: ... [outbox 17] [resolved: retried]",
        False,
        (None, None, 17),
    ),
    ("delivery_not_reported", "Delivery not reported ... [outbox 23]", False, (None, None, 23)),
    ("help_request", "kiosk K-1, screen start, topic OTHER", False, (None, None, None)),
]


def test_0007_converts_every_kind_of_old_row(db_url: str) -> None:
    db = Database(db_url)
    try:
        command.upgrade(db._alembic(), "0006")
        with db.engine.begin() as c:
            c.execute(
                sa.text(
                    "INSERT INTO compartments (id, cabinet_id, label, size, board, channel, state, updated_at) "
                    "VALUES (1, 'CAB-01', 'A01', 'S', 0, 1, 'free', :t)"
                ),
                {"t": T0},
            )
            for kind, detail, on_comp, _want in OLD_ROWS:
                c.execute(
                    sa.text(
                        "INSERT INTO staff_tasks (kind, compartment_id, detail, created_at) "
                        "VALUES (:k, :c, :d, :t)"
                    ),
                    {"k": kind, "c": 1 if on_comp else None, "d": detail, "t": T0},
                )
        command.upgrade(db._alembic(), "0007")
        with db.transaction() as s:
            rows = s.execute(select(StaffTask).order_by(StaffTask.id)).scalars()
            got = [(t.kind, (t.cabinet_id, t.board, t.outbox_id)) for t in rows]
        assert got == [(k, want) for k, _d, _c, want in OLD_ROWS]
        db.upgrade()  # and on to this release's head
    finally:
        db.dispose()


def test_dedup_holds_whatever_the_text_says(cabinet: Cabinet, sim, db) -> None:
    """Notes appended to (and words changed in) every task's text do not make the cabinet raise a second one."""
    sim.silence(0)
    with pytest.raises(LockBoardError):
        cabinet.start_deposit(case(1), actor="staff", size="S")
    with db.transaction() as s:
        for t in s.execute(select(StaffTask)).scalars():
            t.detail = f"(checked by the night shift) {t.detail} [note: cable replaced]"
    with pytest.raises(LockBoardError):
        cabinet.start_deposit(case(2), actor="staff", size="S")
    tasks = cabinet.tasks()
    assert [t.kind for t in tasks] == [S.TaskKind.BOARD_NOT_ANSWERING]
    with db.transaction() as s:
        t = s.execute(select(StaffTask)).scalar_one()
    assert (t.cabinet_id, t.board) == ("CAB-01", 0)


def _detail_in_filters(tree: ast.AST) -> list[int]:
    lines = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("where", "filter")
        ):
            for arg in node.args:
                if "StaffTask.detail" in ast.unparse(arg):
                    lines.append(node.lineno)
    return lines


def test_no_cabinet_query_filters_on_a_task_text() -> None:
    found = [
        f"{p.relative_to(ROOT)}:{line}"
        for p in sorted((ROOT / "kiosk" / "cabinet").rglob("*.py"))
        for line in _detail_in_filters(ast.parse(p.read_text(encoding="utf-8")))
    ]
    assert found == []


def test_the_ast_check_sees_a_text_filter() -> None:
    src = "q = select(StaffTask).where(StaffTask.kind == 'x', StaffTask.detail.startswith('board 1'))\n"
    assert _detail_in_filters(ast.parse(src)) == [1]


def test_a_task_raised_by_the_cabinet_names_its_kiosk(db_url, bus, cab_cfg, clock, sim, db) -> None:
    """kiosk_id is filled when a task is added (by a staff report, by a flow's ending): the database handle's
    writing kiosk, the same fact the outbox stamps on its rows."""
    from tests.cabinet.cabinet_support import make_cabinet

    mine = Database(db_url, kiosk_id="KIOSK-7")
    try:
        cabinet = make_cabinet(mine, bus, cab_cfg, clock)
        cabinet.start()
        h = cabinet.start_deposit(case(1), actor="staff", size="S", applicant=_person())
        sim.put_item(0, 1)
        sim.close_door(0, 1)
        code = cabinet.wait_closed(h).code
        cabinet.report_problem("A01", "hinge squeaks", actor="staff:1")
        h = cabinet.start_pickup_by_code(code)
        sim.close_door(0, 1)  # shut on the parcel: an item_left task
        assert cabinet.wait_closed(h).outcome == "item_left"
    finally:
        mine.dispose()
    with db.transaction() as s:
        rows = s.execute(select(StaffTask.kind, StaffTask.kiosk_id).order_by(StaffTask.id)).all()
    assert [k for k, _ in rows] == ["reported_problem", S.TASK_ITEM_LEFT]
    assert {kid for _, kid in rows} == {"KIOSK-7"}


def _person():
    from tests.cabinet.cabinet_support import person

    return person(1)
