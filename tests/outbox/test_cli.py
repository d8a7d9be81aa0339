"""``kiosk outbox list|retry`` and ``kiosk catalog show`` on a real database and the simulator."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from backend_client.sim import PlatformSim
from kiosk import audit, outbox
from kiosk.clock import SystemClock
from kiosk.heartbeat import auth_alarm, raise_auth_alarm
from kiosk.storage.db import Database
from kiosk.storage.models import OutboxMessage
from tests.conftest import init_kiosk
from tests.support.cli import run_cli
from tests.support.config import write_config
from tests.support.platform import KIOSK, PASSWORD, USER


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    """The database as kiosk KIOSK writes it: rows it queues are its own (``kiosk outbox list`` shows those)."""
    database = Database(db_url, kiosk_id=KIOSK)
    database.upgrade()
    yield database
    database.dispose()


@pytest.fixture
def kiosk_toml(tmp_path: Path, db_url: str, sim: PlatformSim, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("KIOSK_TEST_PLATFORM_PW", PASSWORD)
    p = write_config(
        tmp_path,
        kiosk={"id": KIOSK},
        storage={"url": db_url},
        platform={"endpoint": sim.url, "username": USER, "password_env": "KIOSK_TEST_PLATFORM_PW"},
    )
    init_kiosk(p)
    return p


def test_list_and_retry_dead_message(kiosk_toml: Path, db: Database) -> None:
    now = SystemClock().now()
    with db.transaction() as s:
        m = outbox.enqueue(
            s,
            now,
            "SubmitApplication",
            {"applicant": {"id_number": "110105195803121232"}},
            secret=b"k" * 32,
            sensitive=True,
        )
        m.state, m.last_error = (
            "dead",
            "UNKNOWN_MATTER: matter X is not in catalog (applicant 110105195803121232)",
        )
    r = run_cli(kiosk_toml, "outbox", "list")
    assert r.code == 0
    out = r.out
    assert f"{m.id:>6} SubmitApplication" in out and "dead" in out
    assert "110105195803121232" not in out and "110105********1232" in out  # the error is scrubbed
    r = run_cli(kiosk_toml, "outbox", "retry", str(m.id), "--actor", "staff:wang")
    assert r.code == 0
    with db.transaction() as s:
        row = s.get(OutboxMessage, m.id)
        assert (row.state, row.attempts) == ("pending", 0)
        assert audit.tail(s, 1)[0].action == "outbox.retry"
    r = run_cli(kiosk_toml, "outbox", "retry", "999")
    assert r.code == 2
    r = run_cli(kiosk_toml, "outbox", "list", "--all", "--json")
    assert r.code == 0
    data = json.loads(r.out.strip().splitlines()[-1])
    assert data["counts"] == {"pending": 1} and data["auth_alarm"] is None


def test_adopt_refused_credentials_stop_only_the_adoption(
    kiosk_toml: Path, db: Database, sim: PlatformSim, tmp_path: Path
) -> None:
    retired = Database(str(db.url), kiosk_id="LS-HALL-09")
    with retired.transaction() as s:
        now = SystemClock().now()
        m = outbox.enqueue(
            s,
            now,
            "ReportDelivery",
            {
                "case_number": "CASE00000001",
                "event": "DEPOSITED",
                "cabinet_id": "CAB-01",
                "compartment": "A01",
                "occurred_at": now.isoformat(),
            },
        )
    retired.dispose()
    # Its config names an account the platform does not let send as LS-HALL-09.
    other = write_config(
        tmp_path / "retired",
        kiosk={"id": "LS-HALL-09"},
        platform={"endpoint": sim.url, "username": USER, "password_env": "KIOSK_TEST_PLATFORM_PW"},
    )
    r = run_cli(kiosk_toml, "outbox", "adopt", "LS-HALL-09", "--config-of", str(other))
    assert r.code == 1
    assert "1 waiting message(s) taken over; 0 sent, 0 dead, 1 still waiting" in r.out
    assert "stopped early: the platform refused kiosk LS-HALL-09's credentials" in r.out
    assert [x.outcome for x in sim.requests() if x.request_id == m.request_id] == ["fault:AUTH_FAILED"]
    with db.transaction() as s:
        row = s.get(OutboxMessage, m.id)
        assert (row.state, row.attempts, row.origin_kiosk) == ("pending", 0, "LS-HALL-09")  # not counted
        assert auth_alarm(s) is None  # this kiosk's own sender goes on
        (rec,) = audit.search(s, action="outbox.adopt")
        assert rec.detail["left"] == 1 and "credentials" in rec.detail["stopped"]
    r = run_cli(kiosk_toml, "outbox", "adopt", KIOSK, "--config-of", str(kiosk_toml))
    assert r.code == 2 and f"{KIOSK} is this kiosk" in r.err


def test_retry_clears_the_auth_alarm(kiosk_toml: Path, db: Database) -> None:
    with db.transaction() as s:
        raise_auth_alarm(
            s, SystemClock().now(), "AUTH_FAILED on Heartbeat: wrong password digest", actor="test"
        )
    r = run_cli(kiosk_toml, "outbox", "list")
    assert r.code == 0
    assert "AUTH_FAILED alarm" in r.out
    r = run_cli(kiosk_toml, "outbox", "retry")
    assert r.code == 0
    assert "alarm cleared" in r.out
    with db.transaction() as s:
        assert auth_alarm(s) is None


def test_catalog_show(kiosk_toml: Path, db: Database, sim: PlatformSim) -> None:
    r = run_cli(kiosk_toml, "catalog", "show")
    assert r.code == 1  # nothing cached yet
    r = run_cli(kiosk_toml, "catalog", "show", "--refresh")
    assert r.code == 0
    out = r.out
    assert (
        sim.backoffice.catalog_version in out and "MZ-ELDER-CARD" in out and "pattern 1[3-9][0-9]{9}" in out
    )
    sim.stop()
    r = run_cli(kiosk_toml, "catalog", "show", "--json")
    assert r.code == 0  # from the cache, platform down
    assert json.loads(r.out)["version"] == sim.backoffice.catalog_version


def test_purge_scrubs_old_dead_personal_data(kiosk_toml: Path, db: Database) -> None:
    import datetime as dt

    now = SystemClock().now()
    with db.transaction() as s:
        old = outbox.enqueue(
            s,
            now - dt.timedelta(days=40),
            "SubmitApplication",
            {"applicant": {"id_number": "110105195803121232"}},
            secret=b"k" * 32,
            sensitive=True,
        )
        young = outbox.enqueue(
            s,
            now - dt.timedelta(days=3),
            "SubmitApplication",
            {"applicant": {"id_number": "110105195803121232"}},
            secret=b"k" * 32,
            sensitive=True,
        )
        alive = outbox.enqueue(
            s,
            now - dt.timedelta(days=40),
            "SubmitApplication",
            {"applicant": {"id_number": "110105195803121232"}},
            secret=b"k" * 32,
            sensitive=True,
        )
        old.state = young.state = "dead"
    r = run_cli(kiosk_toml, "outbox", "purge", "--older-than", "30", "--actor", "staff:wang")
    assert r.code == 0
    assert f"scrubbed 1 dead message(s): {old.id}" in r.out
    with db.transaction() as s:
        assert s.get(OutboxMessage, old.id).payload == {"scrubbed": True}
        assert "sealed" in s.get(OutboxMessage, young.id).payload  # too recent
        assert "sealed" in s.get(OutboxMessage, alive.id).payload  # still being delivered
        assert audit.tail(s, 1)[0].action == "outbox.purge"
    r = run_cli(kiosk_toml, "outbox", "retry", str(old.id))
    assert r.code == 2  # nothing left to send
    r = run_cli(kiosk_toml, "outbox", "purge", "--older-than", "0")
    assert r.code == 2
