"""Alembic environment: the engine comes from kiosk.storage.db.Database, never from an ini file."""

from alembic import context

from kiosk.storage.db import SCHEMA_HISTORY
from kiosk.storage.models import Base

config = context.config
engine = config.attributes["engine"]


def _record(ctx, step, heads, run_args) -> None:
    """Note each applied revision and whether it was additive, for kiosks of an older release to read."""
    if not step.is_upgrade:
        ctx.connection.execute(
            SCHEMA_HISTORY.delete().where(SCHEMA_HISTORY.c.revision == step.up_revision_id)
        )
        return
    additive = getattr(step.up_revision.module, "additive", None)
    if not isinstance(additive, bool):
        raise RuntimeError(f"migration {step.up_revision_id} must declare additive = True or False")
    ctx.connection.execute(SCHEMA_HISTORY.delete().where(SCHEMA_HISTORY.c.revision == step.up_revision_id))
    ctx.connection.execute(SCHEMA_HISTORY.insert().values(revision=step.up_revision_id, additive=additive))


with engine.connect() as connection:
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        # SQLite's own recipe for rebuilding a table others point at (0011's compartments): foreign keys off
        # before the transaction (the pragma is a no-op inside one), every key checked before the commit.
        connection.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")
    try:
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            render_as_batch=sqlite,
            on_version_apply=[_record],
            # The history table is not a model: autogenerate must not propose dropping it.
            include_name=lambda name, type_, _parent: not (type_ == "table" and name == SCHEMA_HISTORY.name),
        )
        with context.begin_transaction():
            SCHEMA_HISTORY.create(connection, checkfirst=True)
            context.run_migrations()
            if sqlite and (broken := connection.exec_driver_sql("PRAGMA foreign_key_check").all()):
                raise RuntimeError(f"a migration left rows pointing at nothing: {broken[:5]}")
        connection.commit()
    finally:
        if sqlite:
            connection.connection.driver_connection.execute("PRAGMA foreign_keys=ON")
