"""key ids on rows holding keyed hashes: a hall key is retired only once no row uses it

Revision ID: 0006
Revises: 0005
"""
import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None
additive = True  # the previous release still reads and writes this schema (see kiosk.storage.db)

# NULL: made before key ids, with the hall's first key (kiosk.hall_secret records which that is).
TABLES = ("parcels", "submissions", "service_requests", "staff_badges")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("key_id", sa.String(length=12), nullable=True))


def downgrade() -> None:
    for table in reversed(TABLES):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("key_id")
