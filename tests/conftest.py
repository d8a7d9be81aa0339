"""Shared fixtures: a database on SQLite and (under `make test`) on a real PostgreSQL, a fake clock, a config."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk.clock import FakeClock
from kiosk.config import Config, load_config
from kiosk.storage.db import Database
from tests.support.postgres import PG_URL, need_pg, pg_url  # noqa: F401 - pg_url: the shared fixture
from tests.support.postgres import pg_database as _pg_database  # the name the test folders import

REPO = Path(__file__).resolve().parent.parent


def init_kiosk(cfg: Config | Path | str, *, force: bool = False) -> Config:
    """``kiosk db init`` for a test kiosk: write the data directory's marker for its database (kiosk.datadir).

    A kiosk refuses to start (App.db, the runtime, the console, every CLI command but ``db init``) on a data
    directory without a marker. Call this once after writing a config and before starting a kiosk or CLI on it;
    on a database a test filled first, call it after that (it adopts the database and audits ``db.init``).
    ``force``: the config now points at another database than the one the marker names."""
    from kiosk.datadir import init

    config = cfg if isinstance(cfg, Config) else load_config(cfg)
    init(config, dt.datetime.now(dt.UTC), actor="test", force=force)
    return config


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database URL on each backend. PostgreSQL runs when make test started it (KIOSK_TEST_PG_URL)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'kiosk.db'}"
        return
    need_pg()
    yield from _pg_database()


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = Database(db_url)
    database.upgrade()
    yield database
    database.dispose()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def secret() -> bytes:
    return b"k" * 32


@pytest.fixture
def cfg(tmp_path: Path) -> Config:
    """The built-in simulator config with its data directory moved under tmp_path."""
    text_ = (REPO / "kiosk" / "default.toml").read_text(encoding="utf-8")
    text_ = text_.replace('data_dir = "~/.local/share/hall-kiosk"', f'data_dir = "{tmp_path / "data"}"')
    p = tmp_path / "kiosk.toml"
    p.write_text(text_, encoding="utf-8")
    return init_kiosk(load_config(p))
