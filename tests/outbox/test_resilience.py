"""Crashes, outages and lost replies: nothing lost, nothing doubled."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select

from backend_client.sim import Fault, PlatformSim
from kiosk import outbox
from kiosk.applications import ApplicationService
from kiosk.catalog import CatalogService
from kiosk.clock import SystemClock
from kiosk.config import PlatformConfig
from kiosk.outbox_sender import OutboxSender
from kiosk.storage.db import Database
from kiosk.storage.models import OutboxMessage, Submission

from .helpers import SENIOR

ELDER = "MZ-ELDER-CARD"
HERE = Path(__file__).resolve().parent


def _wait(cond, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def _queue(db: Database, secret: bytes, catalog: CatalogService, n: int) -> list[int]:
    apps = ApplicationService(db, secret, SystemClock(), catalog, sender=None)  # queued only, no fast path
    return [apps.submit(SENIOR, ELDER, {"phone": "13800138000"}, "LOCKER").submission_id for _ in range(n)]


def _states(db: Database) -> Counter[str]:
    with db.transaction() as s:
        return Counter(s.execute(select(OutboxMessage.state)).scalars())


def _assert_each_filed_once(db: Database, sim: PlatformSim, n: int) -> None:
    with db.transaction() as s:
        subs = s.execute(select(Submission)).scalars().all()
    assert len(subs) == n and {x.state for x in subs} == {"filed"}
    numbers = [x.case_number for x in subs]
    assert len(set(numbers)) == n  # every submission has its own case
    assert sim.backoffice.count_cases() == n  # and the platform has no extra one
    assert set(numbers) == set(sim.backoffice.cases)


def test_timeout_after_the_platform_did_the_work(
    db: Database, secret: bytes, sim: PlatformSim, make_client, pcfg: PlatformConfig, catalog: CatalogService
) -> None:
    sender = OutboxSender(db, make_client(timeout_s=0.5), secret, SystemClock(), pcfg)
    (sid,) = _queue(db, secret, catalog, 1)
    sim.faults.slow(1.5, operation="SubmitApplication")  # carried out, then the reply is too late
    assert sender.run_once().retried == 1
    assert sim.backoffice.count_cases() == 1  # the platform filed it; the kiosk does not know yet
    _wait(lambda: sender.paused_for_s() == 0, 5, "the backoff")
    sim.faults.reset(
        operation="SubmitApplication", after_processing=True
    )  # and once more: reply lost in a reset
    assert sender.run_once().retried == 1
    _wait(lambda: sender.paused_for_s() == 0, 5, "the backoff")
    assert sender.run_once().sent == 1
    _assert_each_filed_once(db, sim, 1)
    # One requestId throughout: filed once (its reply too late), the later sends answered from memory.
    _wait(lambda: sim.count("SubmitApplication", "ok") == 1, 5, "the slow reply to be logged")
    assert sim.count("SubmitApplication", "replayed") == 1  # the reset one is not logged by the simulator
    assert len({r.request_id for r in sim.requests() if r.operation == "SubmitApplication"}) == 1
    with db.transaction() as s:
        assert s.get(Submission, sid).case_number == next(iter(sim.backoffice.cases))


@pytest.mark.slow
def test_outage_then_restart_files_all_100_once(
    db: Database, secret: bytes, sim: PlatformSim, sender: OutboxSender, catalog: CatalogService
) -> None:
    catalog.current()  # cached while the platform is up
    sim.stop()
    apps = ApplicationService(db, secret, SystemClock(), catalog, sender)
    receipts = [apps.submit(SENIOR, ELDER, {"phone": "13800138000"}, "LOCKER") for _ in range(100)]
    assert {r.state for r in receipts} == {"queued"} and not any(r.case_number for r in receipts)
    assert "将" in receipts[0].text[0] and "受理" not in receipts[0].text[0]
    sender.start()
    time.sleep(1.5)  # the platform stays down a while; the worker keeps backing off
    assert _states(db) == {"pending": 100}
    sim.start()
    _wait(lambda: _states(db) == {"sent": 100}, 60, "all 100 sent")
    sender.stop()
    _assert_each_filed_once(db, sim, 100)
    assert sim.count("SubmitApplication", "ok") == 100


@pytest.mark.slow
def test_kill_mid_send_and_restart(
    db_url: str, db: Database, secret: bytes, sim: PlatformSim, catalog: CatalogService
) -> None:
    n = 30
    _queue(db, secret, catalog, n)
    cmd = [sys.executable, str(HERE / "kiosk_proc.py"), db_url, sim.url, secret.hex()]
    env = {**os.environ, "PYTHONPATH": str(HERE.parent.parent)}
    # Ten requests go through untouched; the eleventh is carried out by the platform but its reply hangs:
    # the kiosk is killed then. Armed in order before the kiosk starts, so no timing decides which request hangs.
    sim.faults.arm(Fault("slow", "SubmitApplication", times=10, delay_s=0.0, after_processing=True))
    fault = sim.faults.arm(Fault("slow", "SubmitApplication", times=1, delay_s=30, after_processing=True))
    first = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        _wait(lambda: fault not in sim.faults.armed(), 60, "the eleventh request to hang")
        _wait(lambda: sim.backoffice.count_cases() == 11, 10, "the eleventh case to be filed")
        time.sleep(0.3)
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    finally:
        if first.poll() is None:
            first.kill()
    states = _states(db)
    filed = sim.backoffice.count_cases()
    # Outcomes are committed per batch: the rows sent since the last commit (and the one in flight) are
    # filed on the platform but still pending here. They are sent again, with their requestIds, and replayed.
    unknown = filed - states["sent"]
    assert unknown >= 1 and states["pending"] == n - states["sent"]
    second = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        _wait(lambda: _states(db) == {"sent": n}, 60, "every row sent after the restart")
    finally:
        second.kill()
        second.wait(10)
    _assert_each_filed_once(db, sim, n)
    assert sim.count("SubmitApplication", "replayed") == unknown  # answered from the platform's memory


def test_two_senders_on_one_database_never_send_a_row_twice(
    db_url: str,
    db: Database,
    secret: bytes,
    sim: PlatformSim,
    make_client,
    pcfg: PlatformConfig,
    catalog: CatalogService,
) -> None:
    n = 120
    _queue(db, secret, catalog, n)
    senders, dbs = [], []
    for _ in range(2):
        other = Database(db_url)  # its own engine and connections, as a second kiosk would have
        dbs.append(other)
        senders.append(OutboxSender(other, make_client(), secret, SystemClock(), pcfg))
    results: list = [None, None]
    go = threading.Barrier(2)

    def drain(i: int) -> None:
        go.wait()
        results[i] = senders[i].run_once()

    threads = [threading.Thread(target=drain, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    for d in dbs:
        d.dispose()
    assert results[0].sent + results[1].sent == n
    if db.engine.dialect.name == "postgresql":
        assert results[0].sent > 0 and results[1].sent > 0  # they really ran side by side
    per_id = Counter(r.request_id for r in sim.requests() if r.operation == "SubmitApplication")
    assert len(per_id) == n and set(per_id.values()) == {1}  # no row sent twice, not even as a replay
    _assert_each_filed_once(db, sim, n)
    with db.transaction() as s:
        assert outbox.counts(s) == {"sent": n}
