"""door commands and sensor readings for the hall console

door_commands: a door move asked for at the hall console, addressed to the kiosk that owns the cabinet.

The console never drives a lock board: it writes a row here, and the owning kiosk runs it only after a staff
member signed in at that kiosk confirms (kiosk/door_commands.py, hallkiosk/console_link.py).

compartment_sensors: each compartment's door and item sensor as its owning kiosk last read them while idle
(kiosk/sensor_readings.py), with the time read, for the console's grid.

Revision ID: 0010
Revises: 0009
"""
import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None
additive = True  # new tables only: the previous release never reads them


def upgrade() -> None:
    op.create_table(
        "door_commands",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kiosk_id", sa.String(length=32), nullable=False),
        sa.Column("label", sa.String(length=8), nullable=False),
        sa.Column("parcel_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("requested_by", sa.String(length=32), nullable=False),
        sa.Column("confirmed_by", sa.String(length=32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("result", sa.Text(), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_door_commands_kiosk_state", "door_commands", ["kiosk_id", "state"])
    op.create_table(
        "compartment_sensors",
        sa.Column("label", sa.String(length=8), primary_key=True),
        sa.Column("kiosk_id", sa.String(length=32), nullable=False),
        sa.Column("door_closed", sa.Boolean(), nullable=True),
        sa.Column("item_present", sa.Boolean(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("compartment_sensors")
    op.drop_index("ix_door_commands_kiosk_state", table_name="door_commands")
    op.drop_table("door_commands")
