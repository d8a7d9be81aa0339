"""The test PostgreSQL (started by ``make test``, URL in KIOSK_TEST_PG_URL): a fresh database per test.

The root conftest registers :func:`pg_url`; a test that needs PostgreSQL alone asks for ``pg_url``, one that runs
on both backends asks for ``db_url`` (tests/conftest.py)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text

PG_URL = os.environ.get("KIOSK_TEST_PG_URL")


def need_pg() -> None:
    """Skip without PostgreSQL; under CI its absence is a failure (make test must start it)."""
    if PG_URL:
        return
    if os.environ.get("CI"):
        pytest.fail("KIOSK_TEST_PG_URL is not set: make test must start PostgreSQL")
    pytest.skip("no PostgreSQL: run under `make test`")


def pg_database() -> Iterator[str]:
    """A fresh database on the test PostgreSQL, dropped afterwards."""
    assert PG_URL
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    base = PG_URL.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database URL (skips without PostgreSQL)."""
    need_pg()
    yield from pg_database()
