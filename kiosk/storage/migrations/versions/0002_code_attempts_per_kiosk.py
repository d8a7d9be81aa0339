"""code attempts per kiosk: halls sharing one database rate-limit each kiosk on its own

Revision ID: 0002
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None
additive = True  # the previous release still reads and writes this schema (see kiosk.storage.db)


def upgrade() -> None:
    with op.batch_alter_table("code_attempts") as batch:
        batch.add_column(sa.Column("kiosk_id", sa.String(length=32), nullable=False, server_default=""))
        batch.create_index("ix_code_attempts_kiosk", ["kiosk_id", "at"])


def downgrade() -> None:
    with op.batch_alter_table("code_attempts") as batch:
        batch.drop_index("ix_code_attempts_kiosk")
        batch.drop_column("kiosk_id")
