"""Lengths are checked before the database: the same refusal on SQLite and PostgreSQL, never the value, no SQL text."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from kiosk.config import Config
from kiosk.errors import InputTooLong
from kiosk.storage.db import Database
from kiosk.storage.models import Compartment, Parcel, StaffTask
from tests.conftest import REPO

NOW = dt.datetime(2026, 12, 5, 8, 0, tzinfo=dt.UTC)


def _parcel(**kw: object) -> Parcel:
    base = {"kind": "result", "state": "ready", "created_at": NOW}
    return Parcel(**{**base, **kw})


def test_typed_text_too_long_is_refused_naming_the_column(db: Database) -> None:
    name = "王" * 100_000
    with pytest.raises(InputTooLong) as err, db.transaction() as s:
        s.add(_parcel(case_number="LS" + "1" * 99_998, matter_name=name))
    assert err.value.message in (
        "parcels.case_number is too long: at most 32 characters, 100000 given",
        "parcels.matter_name is too long: at most 200 characters, 100000 given",
    )
    assert "王王" not in str(err.value) and "1111" not in str(err.value)
    with db.transaction() as s:
        assert s.execute(select(func.count()).select_from(Parcel)).scalar_one() == 0  # nothing stored


def test_a_change_to_an_existing_row_is_checked_too(db: Database) -> None:
    with db.transaction() as s:
        s.add(StaffTask(kind="reconcile", detail="A01: check", created_at=NOW))
    with (
        pytest.raises(InputTooLong, match=r"staff_tasks\.resolved_by is too long: at most 64"),
        db.transaction() as s,
    ):
        t = s.execute(select(StaffTask)).scalar_one()
        t.resolved_at, t.resolved_by = NOW, "staff:" + "x" * 500
    with db.transaction() as s:
        assert s.execute(select(StaffTask.resolved_by)).scalar_one() is None


def test_only_derived_masked_forms_are_cut(db: Database) -> None:
    with db.transaction() as s:
        s.add(
            _parcel(
                case_number="LS202600000001",
                owner_id_masked="110105********002X" + "*" * 50,
                owner_name_masked="张*" * 100,
            )
        )
    with db.transaction() as s:
        p = s.execute(select(Parcel)).scalar_one()
        assert len(p.owner_id_masked) == 32 and p.owner_id_masked.startswith("110105********002X")
        assert len(p.owner_name_masked) == 64


def test_exactly_the_limit_fits(db: Database) -> None:
    with db.transaction() as s:
        s.add(
            Compartment(
                cabinet_id="C" * 32, label="A" * 8, size="S", board=0, channel=1, state="free", updated_at=NOW
            )
        )
    with (
        pytest.raises(InputTooLong, match=r"compartments\.label is too long: at most 8 characters, 9 given"),
        db.transaction() as s,
    ):
        s.add(
            Compartment(
                cabinet_id="C", label="A" * 9, size="S", board=0, channel=2, state="free", updated_at=NOW
            )
        )


def test_database_errors_never_carry_the_sql_parameters(db: Database) -> None:
    secret_ish = "LS-UNIQUE-110105194912310021"
    with db.transaction() as s:
        s.add(_parcel(receipt_number=secret_ish[:32]))
    with pytest.raises(IntegrityError) as err, db.transaction() as s:
        s.add(_parcel(receipt_number=secret_ish[:32]))
    assert "parameters hidden" in str(err.value)
    if db.is_sqlite:  # PostgreSQL's own DETAIL names a duplicate key; the kiosk never prints these errors raw
        assert "110105" not in str(err.value)


def test_the_cli_says_it_in_one_line(cfg: Config) -> None:
    """A staff member's display name typed at the command line: refused before the database, in one line."""
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "hallkiosk.cli",
            "--config",
            cfg.source,
            "console",
            "user",
            "add",
            "STAFF9",
            "--name",
            "王" * 5000,
            "--role",
            "staff",
            "--no-password",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "Traceback" not in r.stderr and "王王" not in r.stderr, r.stderr[-2000:]
    err = [ln for ln in r.stderr.splitlines() if ln.startswith("error: ")]
    # Refused where it is typed (the directory's own rule) or else by the flush guard: one line naming the limit.
    assert r.returncode != 0 and len(err) == 1 and "64" in err[0], r.stderr
