"""Migrations in a fleet: an advisory lock on PostgreSQL, and rolling upgrades across additive revisions."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, select

from kiosk.errors import SchemaTooNew
from kiosk.storage.db import MIGRATIONS, Database
from kiosk.storage.models import Compartment
from tests.conftest import PG_URL, REPO, _pg_database

VERSIONS = MIGRATIONS / "versions"


def _chain() -> list[str]:
    """This release's revisions, oldest first."""
    db = Database("sqlite://")
    script = ScriptDirectory.from_config(db._alembic())
    db.dispose()
    return [s.revision for s in reversed(list(script.walk_revisions()))]


def _declared(rev: str) -> bool | None:
    """What migration ``rev`` declares: additive or not (None: it does not say)."""
    spec = importlib.util.spec_from_file_location(rev, next(VERSIONS.glob(f"{rev}_*.py")))
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    additive = getattr(mod, "additive", None)
    return additive if isinstance(additive, bool) else None


def test_every_migration_declares_whether_it_is_additive() -> None:
    for rev in _chain():
        assert _declared(rev) is not None, f"{rev}: additive = True/False missing"
    assert "0004" in _chain()
    # Labels per cabinet: the release before it would take another cabinet's A01 for its own.
    assert _declared("0011") is False


def _shape(engine: sa.Engine) -> dict[str, dict[str, tuple[bool, bool]]]:
    """table -> column -> (nullable, has a server default)."""
    insp = inspect(engine)
    return {
        t: {c["name"]: (c["nullable"], c.get("default") is not None) for c in insp.get_columns(t)}
        for t in insp.get_table_names()
        if t not in ("alembic_version", "kiosk_schema_history")
    }


def test_additive_migrations_only_add(db_url: str) -> None:
    """What a migration declares additive keeps every table and column the release before it reads and writes."""
    from alembic import command

    db = Database(db_url)
    before: dict[str, dict[str, tuple[bool, bool]]] = {}
    for rev in _chain():
        command.upgrade(db._alembic(), rev)
        after = _shape(db.engine)
        if _declared(rev):
            for table, cols in before.items():
                assert table in after, f"{rev} is declared additive but drops table {table}"
                for name, (nullable, _) in cols.items():
                    assert name in after[table], f"{rev} is declared additive but drops {table}.{name}"
                    assert after[table][name][0] or not nullable, f"{rev} makes {table}.{name} NOT NULL"
                for name, (nullable, has_default) in after[table].items():
                    if name not in cols:  # an old release's INSERT does not name it
                        assert nullable or has_default, (
                            f"{rev} adds {table}.{name} NOT NULL without a default"
                        )
        before = after
    with db.engine.connect() as c:
        rows = dict(c.execute(sa.text("SELECT revision, additive FROM kiosk_schema_history")).all())
    assert {r: bool(a) for r, a in rows.items()} == {r: _declared(r) for r in _chain()}
    db.dispose()


def _extended_chain(tmp_path: Path, *, additive: bool) -> Path:
    """This release's migrations plus one from a future release on top of its head."""
    versions = tmp_path / "future_versions"
    shutil.copytree(VERSIONS, versions, ignore=shutil.ignore_patterns("__pycache__"))
    head = _chain()[-1]
    body = (
        'op.add_column("kiosk_status", sa.Column("next_release_note", sa.String(80), nullable=True))'
        if additive
        else 'with op.batch_alter_table("kiosk_status") as b:\n        b.alter_column("hall", new_column_name="hall_name")'
    )
    (versions / "9001_next_release.py").write_text(
        f'"""a later release\'s migration"""\nimport sqlalchemy as sa\nfrom alembic import op\n\n'
        f'revision = "9001"\ndown_revision = "{head}"\nbranch_labels = None\ndepends_on = None\n'
        f"additive = {additive}\n\n\ndef upgrade() -> None:\n    {body}\n\n\ndef downgrade() -> None:\n    pass\n",
        encoding="utf-8",
    )
    return versions


def test_previous_release_runs_on_an_additive_newer_head(db_url: str, tmp_path: Path) -> None:
    newer = Database(db_url, versions=_extended_chain(tmp_path, additive=True))
    newer.upgrade()
    assert newer.current_revision() == "9001"
    newer.dispose()

    # This release is now "one behind": it starts, and its own code path reads and writes the newer schema.
    db = Database(db_url)
    db.upgrade()
    assert db.schema_ahead == ["9001"]
    assert db.current_revision() == "9001"  # left as the newer release made it
    import datetime as dt

    now = dt.datetime.now(dt.UTC)
    with db.transaction() as s:
        s.add(
            Compartment(
                cabinet_id="CAB-01", label="A01", size="S", board=0, channel=1, state="free", updated_at=now
            )
        )
    with db.transaction() as s:
        assert s.execute(select(Compartment.label)).scalar_one() == "A01"
    db.dispose()


def test_release_before_this_one_runs_on_this_head(db_url: str, tmp_path: Path) -> None:
    """The code path of head-1 (this chain without its newest migration) against this release's head."""
    Database(db_url).upgrade()
    previous = tmp_path / "previous_versions"
    shutil.copytree(VERSIONS, previous, ignore=shutil.ignore_patterns("__pycache__"))
    newest = _chain()[-1]
    next(previous.glob(f"{newest}_*.py")).unlink()
    db = Database(db_url, versions=previous)
    if _declared(newest):
        db.upgrade()
        assert db.schema_ahead == [newest]
    else:  # the newest changed what head-1 reads: head-1 refuses it rather than misread it
        with pytest.raises(SchemaTooNew, match=newest):
            db.upgrade()
    db.dispose()


def test_previous_release_refuses_a_non_additive_newer_head(db_url: str, tmp_path: Path) -> None:
    newer = Database(db_url, versions=_extended_chain(tmp_path, additive=False))
    newer.upgrade()
    newer.dispose()
    db = Database(db_url)
    with pytest.raises(SchemaTooNew, match=r"9001.*cannot read: revision\(s\) 9001 changed"):
        db.upgrade()
    db.dispose()


_STARTER = """
import sys, time
from pathlib import Path
go = Path(sys.argv[2])
while not go.exists():
    time.sleep(0.005)
from kiosk.storage.db import Database
db = Database(sys.argv[1])
db.upgrade()
print(db.current_revision())
"""


@pytest.mark.postgres
def test_three_kiosks_migrate_an_empty_database_together(tmp_path: Path) -> None:
    if not PG_URL:
        pytest.skip("no PostgreSQL: run under `make test`")
    for url in _pg_database():
        go = tmp_path / "go"
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", _STARTER, url, str(go)],
                env=env,
                cwd=REPO,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(3)
        ]
        time.sleep(1.5)  # every process imported and waiting at the line
        go.touch()
        results = [p.communicate(timeout=120) for p in procs]
        for p, (out, err) in zip(procs, results, strict=True):
            assert p.returncode == 0, err
            assert out.strip() == _chain()[-1]
        db = Database(url)
        assert db.current_revision() == _chain()[-1]
        db.dispose()
