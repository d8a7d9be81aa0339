"""A message is sent by the kiosk that queued it (issue 11, item 2): two real kiosk processes on the test
PostgreSQL, each with its own platform account, and `kiosk outbox adopt` for a kiosk killed for good.

The platform simulator plays the rule of kiosk-platform.md: an account may send only as its own kiosk, and
requestId is scoped per kiosk. Every request it saw is checked against the row it came from."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from backend_client.client import PlatformClient
from backend_client.sim import PlatformSim
from kiosk import audit
from kiosk.applications import ApplicationService
from kiosk.catalog import CatalogService
from kiosk.clock import SystemClock
from kiosk.config import load_config
from kiosk.hall_secret import open_hall_secret
from kiosk.storage.db import Database
from kiosk.storage.models import OutboxMessage
from tests.conftest import REPO, init_kiosk
from tests.support.cli import run_cli
from tests.support.config import write_config

from .helpers import SENIOR

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

ACCOUNTS = {"KIOSK-A": ("user-a", "pw-a-not-a-secret"), "KIOSK-B": ("user-b", "pw-b-not-a-secret")}


@pytest.fixture
def sim() -> Iterator[PlatformSim]:
    s = PlatformSim(
        users={user: (pw, [kiosk]) for kiosk, (user, pw) in ACCOUNTS.items()}, seed_demo=False
    ).start()
    yield s
    s.stop()


def _config(tmp: Path, pg_url: str, sim: PlatformSim, kiosk_id: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    user, pw = ACCOUNTS[kiosk_id]
    env = f"TEST_PW_{kiosk_id.replace('-', '_')}"
    monkeypatch.setenv(env, pw)  # the kiosk processes inherit it: each kiosk its own credentials
    p = write_config(
        tmp / kiosk_id,
        kiosk={"id": kiosk_id, "hall": "测试政务服务中心"},
        storage={"url": pg_url},
        platform={
            "endpoint": sim.url,
            "username": user,
            "password_env": env,
            "outbox_backoff_initial_s": 0.05,
            "outbox_backoff_max_s": 0.4,
        },
    )
    init_kiosk(p)
    return p


def _start_kiosk(cfg: Path) -> subprocess.Popen[str]:
    """The real runtime, headless, in its own process (tests.console.kiosk_proc)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.console.kiosk_proc", str(cfg)],
        cwd=REPO,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert proc.stdout is not None
    seen: list[str] = []
    for line in proc.stdout:
        seen.append(line)
        if line.strip() == "ready":
            threading.Thread(target=proc.stdout.read, daemon=True).start()  # a full pipe must not block it
            return proc
    raise AssertionError("the kiosk did not start:\n" + "".join(seen))


def _wait(cond: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def _rows(db: Database) -> list[OutboxMessage]:
    with db.transaction() as s:
        return list(s.execute(select(OutboxMessage).order_by(OutboxMessage.id)).scalars())


def test_each_kiosk_sends_only_its_own_rows_and_adopt_sends_a_retired_kiosks(
    pg_url: str, sim: PlatformSim, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KIOSK_SECRET_FILE", str(tmp_path / "hall-secret.key"))  # one hall secret
    cfg = {k: _config(tmp_path, pg_url, sim, k, monkeypatch) for k in ACCOUNTS}
    dbs = {k: Database(pg_url, kiosk_id=k) for k in ACCOUNTS}
    secret = open_hall_secret(load_config(cfg["KIOSK-A"]), dbs["KIOSK-A"])
    user, pw = ACCOUNTS["KIOSK-A"]
    client = PlatformClient(sim.url, user, pw, "KIOSK-A")
    catalog = CatalogService(dbs["KIOSK-A"], client, SystemClock())
    catalog.refresh()

    def queue(kiosk: str, n: int) -> list[int]:
        # Queued only (no fast path), exactly as kiosk `kiosk` queues a citizen's application.
        apps = ApplicationService(dbs[kiosk], secret, SystemClock(), catalog, sender=None)
        return [
            apps.submit(SENIOR, "MZ-ELDER-CARD", {"phone": "13800138000"}, "LOCKER").submission_id
            for _ in range(n)
        ]

    queue("KIOSK-A", 20)
    queue("KIOSK-B", 20)
    origin = {m.request_id: m.origin_kiosk for m in _rows(dbs["KIOSK-A"])}
    assert Counter(origin.values()) == {"KIOSK-A": 20, "KIOSK-B": 20}

    procs = {k: _start_kiosk(cfg[k]) for k in ACCOUNTS}
    try:
        _wait(
            lambda: all(m.state == "sent" for m in _rows(dbs["KIOSK-A"])),
            90,
            "both kiosks to send their rows",
        )
        seen = [r for r in sim.requests() if r.operation == "SubmitApplication"]
        # Every request went out under the kioskId (and so the account) of the kiosk that queued its row ...
        assert {(r.request_id, r.kiosk_id) for r in seen} == set(origin.items())
        # ... and was taken: no AUTH_FAILED, no CONFLICT; a replay (a lease run out) answers the same.
        assert {r.outcome for r in seen} <= {"ok", "replayed"}
        assert Counter(r.outcome for r in seen)["ok"] == 40 and sim.backoffice.count_cases() == 40

        # KIOSK-B is killed for good with rows waiting; KIOSK-A's sender leaves them alone.
        procs["KIOSK-B"].send_signal(signal.SIGKILL)
        procs["KIOSK-B"].wait(10)
        queue("KIOSK-B", 5)
        waiting = [m.request_id for m in _rows(dbs["KIOSK-B"]) if m.state == "pending"]
        assert len(waiting) == 5
        time.sleep(3)  # KIOSK-A's sender runs meanwhile (its heartbeat and status loops too)
        assert [m.state for m in _rows(dbs["KIOSK-B"]) if m.request_id in waiting] == ["pending"] * 5
        assert not [r for r in sim.requests() if r.request_id in waiting]

        # Staff on KIOSK-A see the whole hall's backlog ...
        r = run_cli(cfg["KIOSK-A"], "outbox", "list", "--all-kiosks", "--json", own_process=True)
        assert r.code == 0, r.err
        listing = json.loads(r.out)
        by_kiosk = {k["kiosk"]: k for k in listing["kiosks"]}
        assert by_kiosk["KIOSK-B"]["pending"] == 5 and by_kiosk["KIOSK-B"]["oldest_age_s"] >= 3
        assert "KIOSK-A" not in by_kiosk  # nothing waiting or dead there
        assert {m["kiosk"] for m in listing["messages"]} == {"KIOSK-B"}
        mine = json.loads(run_cli(cfg["KIOSK-A"], "outbox", "list", "--json", own_process=True).out)
        assert mine["messages"] == [] and mine["counts"] == {"sent": 20}

        # ... and a config that is not KIOSK-B's is refused, in one line, nothing sent.
        r = run_cli(
            cfg["KIOSK-A"], "outbox", "adopt", "KIOSK-B", "--config-of", str(cfg["KIOSK-A"]), own_process=True
        )
        assert (
            r.code == 2 and "is kiosk KIOSK-A's config, not KIOSK-B's" in r.err and "Traceback" not in r.err
        )
        assert not [x for x in sim.requests() if x.request_id in waiting]

        # Adopted: KIOSK-B's rows go out under KIOSK-B's own identity and account, audited.
        r = run_cli(
            cfg["KIOSK-A"],
            "outbox",
            "adopt",
            "KIOSK-B",
            "--config-of",
            str(cfg["KIOSK-B"]),
            "--actor",
            "staff:S0042",
            own_process=True,
        )
        assert r.code == 0, r.out + r.err
        assert "kiosk KIOSK-B: 5 waiting message(s) taken over; 5 sent, 0 dead, 0 still waiting" in r.out
        adopted = [x for x in sim.requests() if x.request_id in waiting]
        assert sorted(x.request_id for x in adopted) == sorted(waiting)
        assert {(x.kiosk_id, x.outcome) for x in adopted} == {("KIOSK-B", "ok")}
        assert {m.state for m in _rows(dbs["KIOSK-B"])} == {"sent"}
        with dbs["KIOSK-A"].transaction() as s:
            rec = audit.search(s, action="outbox.adopt")
            assert audit.verify(s).ok
        assert len(rec) == 1 and rec[0].subject == "kiosk:KIOSK-B" and rec[0].actor == "staff:S0042"
        assert (rec[0].detail["by"], rec[0].detail["sent"], rec[0].detail["left"]) == ("KIOSK-A", 5, 0)
    finally:
        for p in procs.values():
            if p.poll() is None:
                p.kill()
                p.wait(10)
        client.close()
        for db in dbs.values():
            db.dispose()
