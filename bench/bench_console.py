"""The hall console at hall scale: each page's server time p95, and a kiosk event reaching an open page.

    python -m bench console              # full: 50 kiosks, 2,000 compartments, 20,000 parcels, 100,000 audit records
    BENCH_CONSOLE=quick python -m bench console   # (also what `python -m bench` with no name runs) a tenth of that

Starts its own PostgreSQL (scripts/pg-test.sh with a private directory and port, as scripts/run-tests.sh does),
seeds it through the core's models (the audit chain built record by record with the core's own hash, and
checked with :func:`kiosk.audit.verify` before measuring), starts the real console process (``kiosk console
--port 0``), signs in over HTTP like a browser (sign-in form, double-submit token) and then:

- **pages**: each page requested ``--rounds`` times on one keep-alive connection over loopback; the time is
  the request's round trip (server time plus a loopback hop, so an upper bound). Target p95 <= 150 ms.
- **live**: an event stream open as a page has it (``/events``); a kiosk raises a staff task the way the
  cabinet core does (task + audit record in one transaction, on its own connection); measured from that
  commit to the page having re-fetched its tasks region with the new task in it. Target p95 <= 2 s.

Set KIOSK_BENCH_PG_URL to use a running PostgreSQL instead (the bench creates and drops its own database).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import queue
import re
import select
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import requests  # noqa: E402
from sqlalchemy import create_engine, insert, text  # noqa: E402

from kiosk import audit  # noqa: E402
from kiosk.cabinet import states as S  # noqa: E402
from kiosk.cabinet import store  # noqa: E402
from kiosk.clock import SystemClock  # noqa: E402
from kiosk.config import load_config  # noqa: E402
from kiosk.datadir import init as datadir_init  # noqa: E402
from kiosk.hall_secret import open_hall_secret  # noqa: E402
from kiosk.help import TASK_HELP_REQUEST  # noqa: E402
from kiosk.staff import StaffDirectory  # noqa: E402
from kiosk.storage.db import Database  # noqa: E402
from kiosk.storage.models import Compartment, KioskStatus, Parcel, StaffTask  # noqa: E402

PAGE_TARGET_MS = 150.0
LIVE_TARGET_S = 2.0
STAFF, PASSWORD = "BENCH1", "bench-password-not-a-secret"
FULL = {"kiosks": 50, "compartments": 2000, "parcels": 20_000, "audit": 100_000, "rounds": 40, "events": 20}
QUICK = {"kiosks": 10, "compartments": 200, "parcels": 2_000, "audit": 10_000, "rounds": 15, "events": 6}
PER_CABINET = 40
INFO_ALL = "all cabinets at once"  # the optional every-door view: shown, not part of the verdict
BATCH = 5000


def fail(message: str) -> None:
    """Say why and stop (``python -m bench`` runs this file with runpy: a SystemExit's text would be lost)."""
    print(f"bench console: {message}", file=sys.stderr, flush=True)
    raise SystemExit(1)


def pct(xs: list[float], p: float) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, max(0, round(p / 100 * len(s) + 0.5) - 1))]


# --- PostgreSQL ----------------------------------------------------------------------------------------------
@contextmanager
def postgres() -> Iterator[str]:
    """A database of its own: on KIOSK_BENCH_PG_URL's server, or on a private server started here."""
    given = os.environ.get("KIOSK_BENCH_PG_URL")
    env = dict(os.environ)
    if not given:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        env.update(PGTEST_PORT=str(port), PGTEST_DIR=f"/tmp/hall-kiosk-pgbench-{port}")
        out = subprocess.run(
            [str(REPO / "scripts/pg-test.sh"), "start"], env=env, capture_output=True, text=True
        )
        if out.returncode != 0:
            fail(f"could not start PostgreSQL: {out.stderr.strip()}")
        given = out.stdout.strip()
    name = f"bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(given, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as c:
            c.execute(text(f'CREATE DATABASE "{name}"'))
        yield f"{given.rsplit('/', 1)[0]}/{name}"
    finally:
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
        if not os.environ.get("KIOSK_BENCH_PG_URL"):
            subprocess.run([str(REPO / "scripts/pg-test.sh"), "stop"], env=env, capture_output=True)


# --- seeding -------------------------------------------------------------------------------------------------
def seed(db: Database, n: dict[str, int]) -> dict[str, object]:
    """Bulk rows through the core's models. Returns what the measurements ask for (a label, a case number)."""
    now = dt.datetime.now(dt.UTC)
    t0 = time.perf_counter()
    with db.transaction() as s:
        s.execute(
            insert(KioskStatus),
            [
                {
                    "kiosk_id": f"KIOSK-{k:03d}",
                    "hall": "基准政务服务中心",
                    "last_seen_at": now,
                    "started_at": now,
                    "software_version": "bench",
                    "screen": "start",
                    "health": "OK" if k % 7 else "DEGRADED",
                    "devices": [
                        {"name": "lockboard", "state": "OK", "detail": ""},
                        {"name": "printer", "state": "OK", "detail": ""},
                    ],
                    "platform_reachable": True,
                    "outbox_pending": k % 3,
                    "outbox_dead": 0,
                    "outbox_oldest_at": None,
                    "interval_s": 5.0,
                }
                for k in range(n["kiosks"])
            ],
        )
        comps = []
        for i in range(n["compartments"]):
            cab, ch = divmod(i, PER_CABINET)
            state = S.DISABLED if i % 97 == 5 else S.FAULTY if i % 89 == 7 else S.FREE
            comps.append(
                {
                    "id": i + 1,
                    "cabinet_id": f"CAB-{cab + 1:02d}",
                    "label": f"C{cab + 1:02d}-{ch + 1:02d}",
                    "size": "SMML"[ch % 4],
                    "board": 0,
                    "channel": ch + 1,
                    "state": state,
                    "fault_reason": "bench" if state != S.FREE else None,
                    "updated_at": now,
                }
            )
        s.execute(insert(Compartment), comps)
        # Parcels: most long finished; the newest fill about 60% of the free compartments (a tenth overdue).
        live_in = [c["id"] for c in comps if c["state"] == S.FREE and c["id"] % 5 < 3]
        rows = []
        n_done = n["parcels"] - len(live_in)
        for p in range(n["parcels"]):
            live = p >= n_done
            comp_id = live_in[p - n_done] if live else (p % n["compartments"]) + 1
            stored = now - dt.timedelta(days=(10 if live and p % 10 == 0 else 1) if live else 30 + p % 300)
            rows.append(
                {
                    "id": p + 1,
                    "kind": S.RESULT if p % 6 else S.DROPOFF,
                    "state": (S.READY if p % 6 else S.DROPPED_OFF)
                    if live
                    else (S.PICKED_UP if p % 6 else S.COLLECTED),
                    "case_number": f"LS2026{p:08d}",
                    "matter_name": "老年人优待证办理",
                    "compartment_id": comp_id,
                    "owner_id_hash": f"{p:064x}",
                    "owner_id_masked": "1101**********123X",
                    "owner_name_masked": "张*",
                    "code_hmac": None,
                    "receipt_number": f"R{p:010d}",
                    "created_by": "staff:S0001",
                    "created_at": stored,
                    "stored_at": stored,
                    "expires_at": stored + dt.timedelta(days=7),
                    "finished_at": None if live else stored + dt.timedelta(days=2),
                }
            )
        for i in range(0, len(rows), BATCH):
            s.execute(insert(Parcel), rows[i : i + BATCH])
        occupied = {r["compartment_id"] for r in rows[n_done:]}
        s.execute(Compartment.__table__.update().where(Compartment.id.in_(occupied)).values(state=S.OCCUPIED))
        tasks = [
            {
                "kind": TASK_HELP_REQUEST if t % 10 == 0 else S.TASK_DOOR_FAULT,
                "compartment_id": (t % 50) + 1,
                "parcel_id": None,
                "flow_id": None,
                "detail": "bench task",
                "created_at": now - dt.timedelta(hours=t),
                "resolved_at": None if t < 40 else now,
                "resolved_by": None if t < 40 else "staff:S0001",
            }
            for t in range(400)
        ]
        s.execute(insert(StaffTask), tasks)
    audit_rows(db, n["audit"], n["compartments"], now)
    return {
        "label": comps[len(comps) // 2]["label"],
        "case": rows[-3]["case_number"][:10],
        "seed_s": time.perf_counter() - t0,
    }


def audit_rows(db: Database, count: int, comps: int, now: dt.datetime) -> None:
    """``count`` chained records (bench_audit.write_chain chains them as kiosk.audit.append does)."""
    from bench.bench_audit import write_chain

    actions = (
        "cabinet.deposited",
        "cabinet.picked_up",
        "cabinet.door_opened",
        "console.login",
        "application.submitted",
        "cabinet.door_closed",
        "outbox.sent",
        "cabinet.code_attempt",
    )
    start = now - dt.timedelta(seconds=count * 3)

    def rows() -> Iterator[dict]:
        for seq in range(1, count + 1):
            action = actions[seq % len(actions)]
            yield {
                "seq": seq,
                "at": start + dt.timedelta(seconds=seq * 3),
                "action": action,
                "actor": "citizen" if action.startswith("cabinet.") else f"staff:S{seq % 40:04d}",
                "subject": f"C{(seq % comps) // PER_CABINET + 1:02d}-{seq % PER_CABINET + 1:02d}",
                "detail": {"n": seq, "ok": True},
            }

    with db.transaction() as s:
        write_chain(s, rows())


# --- the console ---------------------------------------------------------------------------------------------
def start_console(cfg_path: Path) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "hallkiosk.cli", "-c", str(cfg_path), "console", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=REPO,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert proc.stdout is not None
    lines, deadline = [], time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        if select.select([proc.stdout], [], [], 0.5)[0]:
            line = proc.stdout.readline()
            lines.append(line.rstrip())
            m = re.match(r"console: (https?://\S+)", line)
            if m:
                threading.Thread(target=proc.stdout.read, daemon=True).start()  # keep its pipe drained
                return proc, m.group(1).rstrip("/")
    proc.kill()
    fail("the console did not start:\n" + "\n".join(lines))


def sign_in(base: str) -> requests.Session:
    """The sign-in form as a browser sends it. The console's cookies are ``Secure``: a browser sends them to
    http://127.0.0.1 (a secure context), requests does not, so they are copied into the jar as plain ones."""
    http = requests.Session()

    def keep(r: requests.Response) -> None:
        for c in r.cookies:
            http.cookies.set(c.name, c.value)

    form = http.get(f"{base}/login", timeout=10)
    keep(form)
    token = re.search(r'name="csrf" value="([^"]+)"', form.text)
    if not token:
        fail("no sign-in token on the sign-in page")
    r = http.post(
        f"{base}/login",
        data={"csrf": token.group(1), "staff_id": STAFF, "password": PASSWORD, "next": "/kiosks"},
        timeout=10,
        allow_redirects=False,
    )
    keep(r)
    if r.status_code != 303 or "/login" in r.headers.get("location", "/login"):
        fail(f"sign-in failed ({r.status_code})")
    return http


def kiosk_change(db: Database, n: int) -> None:
    """An audited change as a kiosk makes one (every change a page shows is audited), so nothing built
    before it may be served after it."""
    with db.transaction() as s:
        audit.append(s, dt.datetime.now(dt.UTC), "kiosk", "cabinet.sensor_check", "bench", round=n)


def sched_of(pid: int) -> tuple[float, float]:
    """A process's (on-CPU, waiting-for-a-CPU) milliseconds so far, all its threads (the kernel's schedstat)."""
    run = wait = 0
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return 0.0, 0.0
    for tid in tasks:
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat", encoding="ascii") as f:
                r, w, _ = f.read().split()
        except OSError:
            continue  # a thread that ended meanwhile
        run, wait = run + int(r), wait + int(w)
    return run / 1e6, wait / 1e6


def measure_pages(
    http: requests.Session, base: str, db: Database, pages: dict[str, str], rounds: int, pid: int
) -> tuple[dict[str, list[float]], dict[str, list[float]], dict[str, list[float]]]:
    """A name ending in "after a change" is requested right after a kiosk's audited change (its cold time).

    Besides each request's time: the console process's own CPU time during it, and its time ready to run but
    waiting for a CPU (other processes on a shared machine), so a miss can be told apart: our work or the
    machine's load. (The console's change feed runs in the same process: its polls count in both.)"""
    times: dict[str, list[float]] = {name: [] for name in pages}
    cpu: dict[str, list[float]] = {name: [] for name in pages}
    runq: dict[str, list[float]] = {name: [] for name in pages}
    for path in pages.values():  # one warm-up each (template compile, plan cache), not counted
        r = http.get(base + path, timeout=30)
        if r.status_code != 200:
            fail(f"{path} answered {r.status_code}")
    for i in range(rounds):
        for name, path in pages.items():
            if name.endswith("after a change"):
                kiosk_change(db, i)
            c0, q0 = sched_of(pid)
            t0 = time.perf_counter()
            r = http.get(base + path, timeout=30)
            times[name].append((time.perf_counter() - t0) * 1000)
            c1, q1 = sched_of(pid)
            cpu[name].append(c1 - c0)
            runq[name].append(q1 - q0)
            assert r.status_code == 200, (path, r.status_code)
    return times, cpu, runq


def measure_live(
    http: requests.Session, base: str, db: Database, events: int, grid_refetch: list[float]
) -> list[float]:
    """Kiosk commit -> the page's tasks region holds the new task, as the page's script does it."""
    got: queue.Queue[int] = queue.Queue()
    stream = http.get(f"{base}/events", stream=True, timeout=30)
    assert stream.status_code == 200

    def listen() -> None:
        try:
            for line in stream.iter_lines(decode_unicode=True):
                if line and line.startswith("data: "):
                    msg = json.loads(line[6:])
                    if "tasks" in msg["topics"]:
                        got.put(msg["audit_seq"])
        except (requests.RequestException, AttributeError, ValueError):
            pass  # closed at the end of the measurement (urllib3 drops its socket under the reader)

    threading.Thread(target=listen, daemon=True).start()
    page = requests.Session()
    page.cookies.update(http.cookies)
    lat = []
    for i in range(events):
        time.sleep(0.37)  # events not in step with the console's poll
        while not got.empty():
            got.get_nowait()
        with db.transaction() as s:  # what the kiosk's cabinet core does when a citizen presses "Get help"
            now = dt.datetime.now(dt.UTC)
            task_id = store.add_task(s, now, TASK_HELP_REQUEST, f"bench help {i}").id
            rec = audit.append(s, now, "citizen", "help.requested", f"task {task_id}", task=task_id)
            seq = rec.seq
        t0 = time.perf_counter()
        while got.get(timeout=10) < seq:  # the stream names the newest audit seq it has seen
            pass
        r = page.get(f"{base}/tasks?fragment=1", timeout=10)
        assert f"bench help {i}" in r.text, "the re-fetched tasks region lacks the new task"
        lat.append(time.perf_counter() - t0)
        t1 = time.perf_counter()  # an open cabinets page re-fetches its region on the same event
        assert page.get(f"{base}/cabinets?fragment=1&cabinet=CAB-01", timeout=10).status_code == 200
        grid_refetch.append((time.perf_counter() - t1) * 1000)
    stream.close()
    return lat


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--quick",
        action="store_true",
        default=os.environ.get("BENCH_CONSOLE") == "quick" or os.environ.get("BENCH_SOAK") == "quick",
    )
    ap.add_argument("--full", action="store_true", help="the full size even under `python -m bench`")
    args = ap.parse_args(
        [a for a in sys.argv[1:] if a.startswith("--")]
    )  # `python -m bench console` passes its name
    n = QUICK if args.quick and not args.full else FULL
    print(
        f"hall: {n['kiosks']} kiosks, {n['compartments']} compartments, {n['parcels']} parcels, "
        f"{n['audit']} audit records ({'quick' if n is QUICK else 'full'})",
        flush=True,
    )
    with postgres() as url, tempfile.TemporaryDirectory(prefix="bench-console-") as tmp:
        tmp_path = Path(tmp)
        cfg_path = tmp_path / "kiosk.toml"
        cfg_path.write_text(
            f'[kiosk]\nid = "HALL-PC-01"\nhall = "基准政务服务中心"\ndata_dir = "{tmp_path / "data"}"\n'
            f'[storage]\nurl = "{url}"\n[platform]\nendpoint = "sim"\n',
            encoding="utf-8",
        )
        cfg = load_config(cfg_path)
        db = Database(url)
        db.upgrade()
        info = seed(db, n)
        datadir_init(cfg, dt.datetime.now(dt.UTC), actor="bench")
        StaffDirectory(db, open_hall_secret(cfg, db), SystemClock()).add(
            STAFF, "基准员", ["hall_admin", "staff"], actor="bench", password=PASSWORD
        )
        with db.transaction() as s:
            t0 = time.perf_counter()
            res = audit.verify(s)
            verify_s = time.perf_counter() - t0
            s.execute(text("ANALYZE audit_log, parcels, compartments, staff_tasks, kiosk_status"))
        print(
            f"seeded in {info['seed_s']:.1f} s; audit chain verifies: {res.ok} ({res.checked} records in "
            f"{verify_s:.1f} s){'' if res.ok else ': ' + res.reason}",
            flush=True,
        )
        if not res.ok:
            return 1
        proc, base = start_console(cfg_path)
        try:
            http = sign_in(base)
            pages = {
                "kiosks": "/kiosks",
                "cabinets": "/cabinets",
                "cabinets after a change": "/cabinets",
                "cabinet 26 of 50": "/cabinets?cabinet=CAB-26",
                INFO_ALL: "/cabinets?cabinet=all",
                "compartment": f"/cabinets/{info['label']}",
                "tasks": "/tasks",
                "tasks (all, day old)": "/tasks?open=0&age=day",
                "help badge": "/tasks/help.json",
                "parcels": "/parcels",
                "parcels search": f"/parcels?q={info['case']}",
                "overdue print": "/parcels/overdue",
                "audit": "/audit",
                "audit by event": "/audit?action=console.",
                "audit by subject": f"/audit?subject={info['label']}",
                "audit page back": f"/audit?before={n['audit'] // 2}",
            }
            times, cpu, runq = measure_pages(http, base, db, pages, n["rounds"], proc.pid)
            worst = 0.0
            print(
                f"\n{'page':<26}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}        "
                f"{'console CPU p50/p95 ms':>22}{'waiting for a CPU p50/p95 ms':>30}"
            )
            for name, xs in times.items():
                p95 = pct(xs, 95)
                verdict = "info" if name == INFO_ALL else "PASS" if p95 <= PAGE_TARGET_MS else "FAIL"
                if name != INFO_ALL:
                    worst = max(worst, p95)
                print(
                    f"{name:<26}{statistics.median(xs):>9.1f}{p95:>9.1f}{max(xs):>9.1f}  {verdict}"
                    f"{statistics.median(cpu[name]):>15.1f} /{pct(cpu[name], 95):>6.1f}"
                    f"{statistics.median(runq[name]):>22.1f} /{pct(runq[name], 95):>6.1f}"
                )
            refetch: list[float] = []
            lat = measure_live(http, base, db, n["events"], refetch)
            lp50, lp95 = statistics.median(lat), pct(lat, 95)
            print(
                f"\nkiosk event -> open page ({len(lat)} events): p50 {lp50 * 1000:.0f} ms, p95 {lp95 * 1000:.0f} ms,"
                f" max {max(lat) * 1000:.0f} ms  {'PASS' if lp95 <= LIVE_TARGET_S else 'FAIL'}"
            )
            rp95 = pct(refetch, 95)
            worst = max(worst, rp95)
            print(
                f"cabinets region re-fetched on that event: p50 {statistics.median(refetch):.0f} ms, "
                f"p95 {rp95:.0f} ms  {'PASS' if rp95 <= PAGE_TARGET_MS else 'FAIL'}"
            )
            load = os.getloadavg()
            print(
                f"machine load average (1/5/15 min): {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} on "
                f"{os.cpu_count()} CPUs (a shared machine inflates every figure above)"
            )
            ok = worst <= PAGE_TARGET_MS and lp95 <= LIVE_TARGET_S
            print(
                f"\npages: worst p95 {worst:.1f} ms (target <= {PAGE_TARGET_MS:.0f}); live p95 {lp95:.2f} s "
                f"(target <= {LIVE_TARGET_S:.0f}): {'PASS' if ok else 'FAIL'}"
            )
            return 0 if ok else 1
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
            db.dispose()


if __name__ == "__main__":
    sys.exit(main())
