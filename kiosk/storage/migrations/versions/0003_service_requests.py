"""service requests: receipts for bundles, 12345 tickets, ratings and reply confirmations (interface 1.1)

Revision ID: 0003
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None
additive = True  # the previous release still reads and writes this schema (see kiosk.storage.db)


def upgrade() -> None:
    op.create_table(
        "service_requests",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("receipt_number", sa.String(length=32), nullable=False, unique=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("subject_code", sa.String(length=64), nullable=True),
        sa.Column("subject_name", sa.String(length=200), nullable=True),
        sa.Column("applicant_id_hash", sa.String(length=64), nullable=True),
        sa.Column("applicant_id_masked", sa.String(length=32), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("reference", sa.String(length=64), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_service_requests_owner", "service_requests", ["applicant_id_hash"])


def downgrade() -> None:
    op.drop_index("ix_service_requests_owner", table_name="service_requests")
    op.drop_table("service_requests")
