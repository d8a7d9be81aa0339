"""compartment labels unique per cabinet, not per database; door commands and sensor readings name the cabinet

Two cabinets of a hall may now both have an A01. The unique constraint on ``compartments.label`` becomes one on
(cabinet_id, label). ``door_commands`` gets the cabinet of its door (filled from the compartments for rows made
before); ``compartment_sensors``, a cache the owning kiosk rewrites every round, is keyed by (cabinet, label).

SQLite cannot drop an unnamed unique constraint: the table is rebuilt (Alembic batch mode) from the shape given
here, with the foreign keys that point at it checked before the commit (rows keep their ids, so they match).

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None
# Not additive: the previous release finds a compartment by its label alone and syncs its configuration by label,
# so once two cabinets share a label it would take another cabinet's A01 for its own (and open the wrong door).
additive = False

UNIQUE_PER_CABINET = "uq_compartments_cabinet_label"


def _compartments(*constraints: sa.Constraint) -> sa.Table:
    """The compartments table as 0001 made it, with ``constraints`` for its labels."""
    return sa.Table(
        "compartments",
        sa.MetaData(),
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("cabinet_id", sa.String(length=32), nullable=False),
        sa.Column("label", sa.String(length=8), nullable=False),
        sa.Column("size", sa.String(length=1), nullable=False),
        sa.Column("board", sa.Integer(), nullable=False),
        sa.Column("channel", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("fault_reason", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("cabinet_id", "board", "channel"),
        *constraints,
    )


def _relabel_compartments(name: str, unique: list[str], *, drop: list[str]) -> None:
    """Replace the unique constraint on the ``drop`` columns with ``name`` on the ``unique`` ones."""
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        # parcels, flows and staff_tasks point at compartments.id: env.py turns the foreign keys off around the
        # rebuild and checks every one before the commit (rows keep their ids).
        shape = _compartments(sa.UniqueConstraint(*unique, name=name))
        with op.batch_alter_table("compartments", copy_from=shape, recreate="always"):
            pass
        return
    for uc in sa.inspect(bind).get_unique_constraints("compartments"):
        if uc["column_names"] == drop:
            op.drop_constraint(uc["name"], "compartments", type_="unique")
    op.create_unique_constraint(name, "compartments", unique)


def _sensors(*key: str) -> None:
    op.create_table(
        "compartment_sensors",
        sa.Column("cabinet_id", sa.String(length=32), nullable=False, server_default=""),
        sa.Column("label", sa.String(length=8), nullable=False),
        sa.Column("kiosk_id", sa.String(length=32), nullable=False),
        sa.Column("door_closed", sa.Boolean(), nullable=True),
        sa.Column("item_present", sa.Boolean(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint(*key),
    )


def upgrade() -> None:
    _relabel_compartments(UNIQUE_PER_CABINET, ["cabinet_id", "label"], drop=["label"])
    with op.batch_alter_table("door_commands") as t:
        t.add_column(sa.Column("cabinet_id", sa.String(length=32), nullable=True))
    op.execute(
        "UPDATE door_commands SET cabinet_id = "
        "(SELECT c.cabinet_id FROM compartments c WHERE c.label = door_commands.label)"
    )
    # A cache of the last sensor round: rebuilt empty, the owning kiosks write it again within a round.
    op.drop_table("compartment_sensors")
    _sensors("cabinet_id", "label")


def downgrade() -> None:
    op.drop_table("compartment_sensors")
    _sensors("label")
    with op.batch_alter_table("door_commands") as t:
        t.drop_column("cabinet_id")
    _relabel_compartments("compartments_label_key", ["label"], drop=["cabinet_id", "label"])
