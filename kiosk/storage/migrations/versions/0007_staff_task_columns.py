"""staff tasks: real columns for what a task is about (cabinet, board, outbox message, kiosk)

Existing rows are converted from their prose: a board task's "board N (cabinet X) ..." or "the lock bus of
cabinet X ...", an outbox task's "[outbox N]" marker, and a compartment's cabinet and board. Nothing is found by
its text afterwards.

Revision ID: 0007
Revises: 0006
"""
import re

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None
additive = True  # new nullable columns only: the previous release still reads and writes this table

_BOARD = re.compile(r"^(?:item sensors look wrong on )?board (\d+) \(cabinet ([A-Z0-9\-]+)\)")
_BUS = re.compile(r"^(?:item sensors look wrong on )?the lock bus of cabinet ([A-Z0-9\-]+)")
_OUTBOX = re.compile(r"\[outbox (\d+)\]")


def upgrade() -> None:
    with op.batch_alter_table("staff_tasks") as t:
        t.add_column(sa.Column("cabinet_id", sa.String(length=32), nullable=True))
        t.add_column(sa.Column("board", sa.Integer(), nullable=True))
        t.add_column(sa.Column("outbox_id", sa.Integer(), nullable=True))
        t.add_column(sa.Column("kiosk_id", sa.String(length=32), nullable=True))
    op.create_index("ix_staff_tasks_board", "staff_tasks", ["cabinet_id", "board"])
    op.create_index("ix_staff_tasks_outbox", "staff_tasks", ["outbox_id"])
    bind = op.get_bind()
    tasks = sa.table("staff_tasks", sa.column("id", sa.Integer), sa.column("detail", sa.Text),
                     sa.column("compartment_id", sa.Integer), sa.column("cabinet_id", sa.String),
                     sa.column("board", sa.Integer), sa.column("outbox_id", sa.Integer))
    comps = sa.table("compartments", sa.column("id", sa.Integer), sa.column("cabinet_id", sa.String),
                     sa.column("board", sa.Integer))
    where = {cid: (cab, board) for cid, cab, board in bind.execute(sa.select(comps.c.id, comps.c.cabinet_id, comps.c.board))}
    for tid, detail, comp_id in bind.execute(sa.select(tasks.c.id, tasks.c.detail, tasks.c.compartment_id)).all():
        values: dict[str, object] = {}
        if comp_id is not None and comp_id in where:
            values["cabinet_id"], values["board"] = where[comp_id]
        if m := _BOARD.match(detail or ""):
            values["board"], values["cabinet_id"] = int(m.group(1)), m.group(2)
        elif m := _BUS.match(detail or ""):
            values["board"], values["cabinet_id"] = None, m.group(1)
        if m := _OUTBOX.search(detail or ""):
            values["outbox_id"] = int(m.group(1))
        if values:
            bind.execute(tasks.update().where(tasks.c.id == tid).values(**values))


def downgrade() -> None:
    op.drop_index("ix_staff_tasks_outbox", table_name="staff_tasks")
    op.drop_index("ix_staff_tasks_board", table_name="staff_tasks")
    with op.batch_alter_table("staff_tasks") as t:
        for col in ("kiosk_id", "outbox_id", "board", "cabinet_id"):
            t.drop_column(col)
