"""outbox rows record the kiosk that queued them: only that kiosk's identity may send them

Revision ID: 0005
Revises: 0004
"""
import sqlalchemy as sa
from alembic import context, op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None
additive = True  # the previous release still reads and writes this schema (see kiosk.storage.db)


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("origin_kiosk", sa.String(length=32), nullable=True))
        batch.create_index("ix_outbox_origin_due", ["origin_kiosk", "state", "next_attempt_at"])
    # Rows queued before this revision were queued by the kiosk running it (one kiosk per database until now;
    # on a shared database, its sender took every row). A tool upgrading without a kiosk id leaves them NULL:
    # a Database without a kiosk id sends exactly those.
    kiosk_id = context.config.attributes.get("kiosk_id")
    if kiosk_id:
        op.execute(sa.text("UPDATE outbox SET origin_kiosk = :k WHERE origin_kiosk IS NULL").bindparams(k=kiosk_id))


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_index("ix_outbox_origin_due")
        batch.drop_column("origin_kiosk")
