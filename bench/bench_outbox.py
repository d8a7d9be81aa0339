"""Outbox drain rate against a bare client loop, same simulator, same requests, same run.

    python bench/bench_outbox.py [-n 300] [--rounds 3] [--db URL]

The bare loop calls ``PlatformClient.submit_application`` back to back (zeep,
WS-Security, reply validation: everything the outbox also goes through); the
outbox drains the same number of queued, sealed SubmitApplication rows with
their Submission rows, one commit per row. Also shown: a loop on a plain zeep
client (no reply validation, no history) for scale. Target: ratio >= 0.9.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import zeep
from zeep.wsse.username import UsernameToken

from backend_client.client import PlatformClient
from backend_client.sim import PlatformSim
from backend_client.wsdl import BINDING, WSDL_PATH
from kiosk.applications import ApplicationService
from kiosk.catalog import CatalogService
from kiosk.clock import SystemClock
from kiosk.config import PlatformConfig
from kiosk.outbox_sender import OutboxSender
from kiosk.platform_models import Applicant
from kiosk.storage.db import Database

USER, PASSWORD, KIOSK = "bench", "bench-password-not-a-secret", "BENCH-01"
APPLICANT = Applicant("RESIDENT_ID", "110105195803121232", "张三", "13800138000")
MATTER, FIELDS, MODE = "MZ-ELDER-CARD", {"phone": "13800138000"}, "LOCKER"


def bare_loop(client: PlatformClient, n: int) -> float:
    """Requests per second, the client called in a tight loop."""
    t0 = time.perf_counter()
    for _ in range(n):
        client.submit_application(str(uuid.uuid4()), APPLICANT, MATTER, FIELDS, MODE)
    return n / (time.perf_counter() - t0)


def plain_zeep_loop(url: str, n: int) -> float:
    """Requests per second on a zeep client with nothing of ours around it."""
    client = zeep.Client(
        str(WSDL_PATH),
        wsse=UsernameToken(USER, PASSWORD, use_digest=True),
        transport=zeep.Transport(timeout=10, operation_timeout=10),
    )
    service = client.create_service(BINDING, url)
    app = {
        "idType": APPLICANT.id_type,
        "idNumber": APPLICANT.id_number,
        "name": APPLICANT.name,
        "phone": APPLICANT.phone,
    }
    t0 = time.perf_counter()
    for _ in range(n):
        header = {"kioskId": KIOSK, "requestId": str(uuid.uuid4()), "sentAt": dt.datetime.now(dt.UTC)}
        service.SubmitApplication(
            header=header,
            applicant=app,
            matterCode=MATTER,
            field=[{"key": k, "value": v} for k, v in FIELDS.items()],
            deliveryMode=MODE,
        )
    return n / (time.perf_counter() - t0)


def outbox_drain(db: Database, client: PlatformClient, n: int) -> float:
    """Rows per second, the sender draining n queued applications."""
    clock, secret = SystemClock(), os.urandom(32)
    apps = ApplicationService(db, secret, clock, CatalogService(db, client, clock), sender=None)
    for _ in range(n):
        apps.submit(APPLICANT, MATTER, FIELDS, MODE)
    sender = OutboxSender(db, client, secret, clock, PlatformConfig())
    t0 = time.perf_counter()
    counts = sender.run_once()
    rate = n / (time.perf_counter() - t0)
    if counts.sent != n:
        raise SystemExit(f"outbox sent {counts.sent} of {n}: {counts}")
    return rate


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("-n", type=int, default=300, help="requests per round")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--db", default="", help="a database URL (default: SQLite in a temporary directory)")
    args = p.parse_known_args(argv)[0]  # `python -m bench outbox` leaves the runner's own arguments
    sim = PlatformSim(users={USER: (PASSWORD, [KIOSK])}, seed_demo=False).start()
    client = PlatformClient(sim.url, USER, PASSWORD, KIOSK)
    bare, outb, plain = [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        try:
            client.submit_application(str(uuid.uuid4()), APPLICANT, MATTER, FIELDS, MODE)  # warm up
            for r in range(args.rounds):
                db = Database(args.db or f"sqlite:///{Path(tmp) / f'bench{r}.db'}")
                db.upgrade()
                bare.append(bare_loop(client, args.n))
                outb.append(outbox_drain(db, client, args.n))
                plain.append(plain_zeep_loop(sim.url, args.n))
                db.dispose()
        finally:
            client.close()
            sim.stop()
    b, o, z = statistics.median(bare), statistics.median(outb), statistics.median(plain)
    print(
        f"database:            {'SQLite (WAL, synchronous=FULL)' if not args.db else args.db.split('@')[-1]}"
    )
    print(f"bare client loop:    {b:8.1f} req/s   (median of {args.rounds} x {args.n})")
    print(f"plain zeep loop:     {z:8.1f} req/s")
    print(f"outbox drain:        {o:8.1f} rows/s")
    print(f"ratio outbox/bare:   {o / b:8.2f}   (target >= 0.90)")
    print(f"ratio outbox/zeep:   {o / z:8.2f}")
    return 0 if o / b >= 0.9 else 1


if __name__ == "__main__":
    sys.exit(main())
