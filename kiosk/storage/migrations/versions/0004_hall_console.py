"""hall console: staff directory, console sessions, kiosk status rows

Revision ID: 0004
Revises: 0003
"""
import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None
additive = True  # the previous release still reads and writes this schema (see kiosk.storage.db)


def upgrade() -> None:
    op.create_table(
        "staff_members",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.String(length=32), nullable=False),
        sa.Column("display_name", sa.String(length=64), nullable=False),
        sa.Column("roles", sa.String(length=64), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=True),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("demo", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("staff_id"),
    )
    op.create_table(
        "staff_badges",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("uid_hash", sa.String(length=64), nullable=False),
        sa.Column("uid_last4", sa.String(length=4), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["staff_members.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("uid_hash"),
    )
    op.create_index("ix_staff_badges_member_id", "staff_badges", ["member_id"])
    op.create_table(
        "console_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["staff_members.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index("ix_console_sessions_member_id", "console_sessions", ["member_id"])
    op.create_table(
        "kiosk_status",
        sa.Column("kiosk_id", sa.String(length=32), nullable=False),
        sa.Column("hall", sa.String(length=80), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("software_version", sa.String(length=32), nullable=False),
        sa.Column("screen", sa.String(length=32), nullable=False),
        sa.Column("health", sa.String(length=16), nullable=False),
        sa.Column("devices", sa.JSON(), nullable=False),
        sa.Column("platform_reachable", sa.Boolean(), nullable=True),
        sa.Column("outbox_pending", sa.Integer(), nullable=False),
        sa.Column("outbox_dead", sa.Integer(), nullable=False),
        sa.Column("outbox_oldest_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("interval_s", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("kiosk_id"),
    )


def downgrade() -> None:
    op.drop_table("kiosk_status")
    op.drop_index("ix_console_sessions_member_id", table_name="console_sessions")
    op.drop_table("console_sessions")
    op.drop_index("ix_staff_badges_member_id", table_name="staff_badges")
    op.drop_table("staff_badges")
    op.drop_table("staff_members")
