"""staff notes: free text staff type (a reason, a note), kept out of the append-only audit

A reason typed at a collect, a take-back, a disable or a task's resolution can hold a name. The audit chain
cannot forget, so the text lives here, where staff can delete it and a retention period purges it
(kiosk/notes.py); the audit records the note's id and, where there is a fixed list, the reason's code.
``compartments.fault_note_id``: the note behind a compartment's out-of-service reason.

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None
additive = True  # a new table and a nullable column: the previous release reads and writes its tables unchanged


def upgrade() -> None:
    op.create_table(
        "staff_notes",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kiosk_id", sa.String(length=32), nullable=True),
        sa.Column("staff_id", sa.String(length=64), nullable=False),
        sa.Column("subject_kind", sa.String(length=16), nullable=False),
        sa.Column("subject_id", sa.String(length=48), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        # An id is never used twice (SQLite would reuse a deleted highest rowid): the audit names notes by id.
        sqlite_autoincrement=True,
    )
    op.create_index("ix_staff_notes_created", "staff_notes", ["created_at"])
    with op.batch_alter_table("compartments") as t:
        t.add_column(sa.Column("fault_note_id", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("compartments") as t:
        t.drop_column("fault_note_id")
    op.drop_index("ix_staff_notes_created", table_name="staff_notes")
    op.drop_table("staff_notes")
