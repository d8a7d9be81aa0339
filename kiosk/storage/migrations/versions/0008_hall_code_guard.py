"""hall code guard: one row holding the hall-wide pickup-code wait, locked while a code is checked

Revision ID: 0008
Revises: 0007
"""
import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None
additive = True  # the previous release still reads and writes this schema (see kiosk.storage.db)

_KV = sa.table("kv", sa.column("key", sa.String), sa.column("value", sa.Text))
KEY = "cabinet.code_guard"  # kiosk.cabinet.codes.CodeGuard.KEY


def upgrade() -> None:
    # Created here, not on first use, so two kiosks never race to insert it: every code check locks this row.
    op.bulk_insert(_KV, [{"key": KEY, "value": "{}"}])


def downgrade() -> None:
    op.execute(_KV.delete().where(_KV.c.key == KEY))
