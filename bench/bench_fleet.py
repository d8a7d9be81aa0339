"""A hall fleet on one PostgreSQL under paced load: the database path of a deposit + pickup cycle.

    python -m bench fleet                     # 1, 2, 4, 8 kiosks; 40 s of paced load each, then the rate search
    python -m bench                           # every benchmark: this one with 20 s of paced load each
    python bench/bench_fleet.py --seconds 20 --kiosks 1,8

For each fleet size N a fresh database gets N real kiosk processes (this file with ``--worker``), each as a hall
runs one: its own data directory and config, the hall's one secret, its own cabinet (a simulated lock board on a
pty inside the process, as ``bus = "sim"`` builds it), its own outbox sender talking to one simulated platform.
No UI: a kiosk process is the core's Cabinet and OutboxSender only, so the figures are the database's and not
Kivy's. Each process does one deposit + pickup cycle per second: a staff deposit (allocation, parcel, door flow,
pickup code, the SMS queued), the door shut at once by an in-process hand, then a pickup by that code.

**What is measured**: the time spent inside the core's database transactions during the cycle (every
``Database.transaction`` the cycle's thread enters: allocation, flow records, each door poll's read, the
completion), not the serial bus or the door. Target: p95 with 8 kiosks <= 2x p95 with 1 kiosk.

**Where the time goes** (each kiosk's transactions, per cycle): the client's own CPU (SQLAlchemy, the audit
hash), the client waiting for a CPU (its run-queue wait, /proc/thread-self/schedstat), PostgreSQL backends waiting
on a lock (pg_stat_activity sampled every 20 ms: row locks, the audit chain's advisory lock, the code guard row),
PostgreSQL backends waiting for a CPU (their schedstat), and the rest (server work, loopback, commits). On a
2-core machine 8 kiosk processes, their outbox senders, the platform simulator and PostgreSQL share two CPUs:
when p95 grows with N, this table says whether CPU or the database's locks made it grow.

**Highest sustainable rate**: the pace is raised per kiosk (x1.5 a step) until the kiosks fall behind it (a
cycle starts more than a second late or fewer cycles finish than were due); the last rate kept up is reported.

Uses KIOSK_BENCH_PG_URL or KIOSK_TEST_PG_URL when set (creates and drops its own databases there), else starts
a private PostgreSQL with scripts/pg-test.sh (as the tests do) on PGTEST_PORT or a free port.
"""

from __future__ import annotations

import argparse
import json
import os
import select
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from sqlalchemy import create_engine, text  # noqa: E402

RATIO_TARGET = 2.0
SIZES = (1, 2, 4, 8)
COMPARTMENTS = 4  # per kiosk: a cycle uses one at a time
LATE_S = 1.0  # a cycle starting later than this behind its schedule: the kiosk fell behind the pace
SAMPLE_S = 0.02  # pg_stat_activity sampling interval


def fail(message: str) -> None:
    """Say why and stop (``python -m bench`` runs this file with runpy: a SystemExit's text would be lost)."""
    print(f"bench fleet: {message}", file=sys.stderr, flush=True)
    raise SystemExit(1)


def pct(xs: list[float], p: float) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, max(0, round(p / 100 * len(s) + 0.5) - 1))] if s else float("nan")


# === the kiosk process ===========================================================================================
def _sched() -> tuple[float, float]:
    """This thread's (on-CPU, waiting-for-a-CPU) seconds so far, from the kernel's schedstat."""
    with open("/proc/thread-self/schedstat", encoding="ascii") as f:
        run_ns, wait_ns, _ = f.read().split()
    return int(run_ns) / 1e9, int(wait_ns) / 1e9


@dataclass
class Meter:
    """Time inside database transactions on the measuring thread: wall, own CPU, run-queue wait, count."""

    thread: int = 0
    wall: float = 0.0
    cpu: float = 0.0
    runq: float = 0.0
    count: int = 0

    def reset(self) -> None:
        self.wall = self.cpu = self.runq = 0.0
        self.count = 0

    def wrap(self, db: Any) -> None:
        """Time every ``db.transaction()`` the measuring thread enters (the outbox sender's are not counted)."""
        inner = db.transaction

        @contextmanager
        def timed() -> Iterator[Any]:
            if threading.get_ident() != self.thread:
                with inner() as s:
                    yield s
                return
            c0, q0 = _sched()
            t0 = time.perf_counter()
            try:
                with inner() as s:
                    yield s
            finally:
                c1, q1 = _sched()
                self.wall += time.perf_counter() - t0
                self.cpu += c1 - c0
                self.runq += q1 - q0
                self.count += 1

        db.transaction = timed


def worker(cfg_path: str, index: int) -> int:
    """One kiosk: Cabinet + OutboxSender on its config; runs paced cycles on the driver's orders (stdin JSON)."""
    from hallkiosk.wiring import App
    from kiosk.cabinet import Cabinet
    from kiosk.config import load_config
    from kiosk.identity import Identity, check_digit
    from kiosk.outbox_sender import OutboxSender

    cfg = load_config(cfg_path)
    app = App(cfg)
    cab = Cabinet(
        app.db,
        app.buses,
        cfg.cabinets,
        cfg.pickup,
        app.clock,
        app.secret,
        cfg.kiosk.id,
        platform=app.platform,
    )
    cab.start()
    OutboxSender(app.db, app.platform, app.secret, app.clock, cfg.platform).start()
    sim = app.sims.boards[cfg.cabinets[0].id]
    where = {c.label: (c.board, c.channel) for c in cfg.cabinets[0].compartments}
    meter = Meter(thread=threading.get_ident())
    meter.wrap(app.db)
    seq = 0

    def hand(label: str, put: bool) -> None:
        board, channel = where[label]
        (sim.put_item if put else sim.take_item)(board, channel)
        sim.close_door(board, channel)

    def cycle() -> None:
        nonlocal seq
        seq += 1
        first17 = (
            f"11010519800101{(index * 100 + seq % 100) % 1000:03d}"  # one owner may hold several parcels
        )
        person = Identity(id_number=first17 + check_digit(first17), name="王五", card_kind="resident_id")
        h = cab.start_deposit(f"BENCH{index:02d}{seq:010d}", actor="staff:bench", size="S", applicant=person)
        hand(h.label, put=True)
        r = cab.wait_closed(h, timeout_s=10)
        if r.code is None:
            raise RuntimeError(f"deposit ended {r.outcome} without a code")
        h = cab.start_pickup_by_code(r.code)
        hand(h.label, put=False)
        r = cab.wait_closed(h, timeout_s=10)
        if r.outcome != "picked_up":
            raise RuntimeError(f"pickup ended {r.outcome}")

    for _ in range(3):  # warm-up: statement caches, connections, imports
        cycle()
    print("ready", flush=True)
    for line in sys.stdin:
        order = json.loads(line)
        if order.get("quit"):
            break
        prof = os.environ.get(
            "BENCH_FLEET_PROFILE"
        )  # a path: each kiosk's cProfile of its cycles, .K appended
        if prof:
            import cProfile

            with cProfile.Profile() as pr:
                out = run_paced(cycle, meter, order["rate"], order["n"], order["start_at"])
            pr.dump_stats(f"{prof}.{index}")
        else:
            out = run_paced(cycle, meter, order["rate"], order["n"], order["start_at"])
        print(json.dumps(out), flush=True)
    app.close()
    return 0


def run_paced(cycle: Any, meter: Meter, rate: float, n: int, start_at: float) -> dict[str, Any]:
    """``n`` cycles, the i-th due at ``start_at + i / rate`` (wall clock, shared by every kiosk process)."""
    rows, errors, worst_late = [], [], 0.0
    time.sleep(max(0.0, start_at - time.time()))
    c0 = time.process_time()
    for i in range(n):
        due = start_at + i / rate
        wait = due - time.time()
        if wait > 0:
            time.sleep(wait)
        worst_late = max(worst_late, -wait)
        meter.reset()
        t0 = time.perf_counter()
        try:
            cycle()
        except Exception as err:  # counted and said; the pace goes on
            errors.append(f"{type(err).__name__}: {err}")
            continue
        rows.append([meter.wall, meter.cpu, meter.runq, meter.count, time.perf_counter() - t0])
    return {
        "rows": rows,
        "errors": errors[:5],
        "n_errors": len(errors),
        "late_s": worst_late,
        "ended_late_s": max(0.0, time.time() - (start_at + n / rate)),
        "process_cpu_s": time.process_time() - c0,
    }


# === the driver ==================================================================================================
@contextmanager
def postgres() -> Iterator[str]:
    """The server's URL: KIOSK_BENCH_PG_URL / KIOSK_TEST_PG_URL, or a private server started here."""
    given = os.environ.get("KIOSK_BENCH_PG_URL") or os.environ.get("KIOSK_TEST_PG_URL")
    if given:
        yield given
        return
    env = dict(os.environ)
    port = env.get("PGTEST_PORT")
    if not port:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = str(s.getsockname()[1])
    env.update(PGTEST_PORT=port, PGTEST_DIR=f"/tmp/hall-kiosk-pgbench-{port}")
    out = subprocess.run([str(REPO / "scripts/pg-test.sh"), "start"], env=env, capture_output=True, text=True)
    if out.returncode != 0:  # e.g. PGTEST_PORT taken by another server: leave no data directory behind
        subprocess.run([str(REPO / "scripts/pg-test.sh"), "stop"], env=env, capture_output=True)
        fail(f"could not start PostgreSQL: {out.stderr.strip()}")
    try:
        yield out.stdout.strip()
    finally:
        subprocess.run([str(REPO / "scripts/pg-test.sh"), "stop"], env=env, capture_output=True)


@contextmanager
def database(server: str) -> Iterator[str]:
    """A fresh database on the server, dropped afterwards: the tests' own helper (tests/support/postgres.py),
    which reads the server from KIOSK_TEST_PG_URL as the suite does under `make test`."""
    os.environ["KIOSK_TEST_PG_URL"] = server  # read when the module is imported, here first
    from tests.support.postgres import pg_database

    yield from pg_database()


def kiosk_id(k: int) -> str:
    return f"HALL-B{k:02d}"


def cabinet(k: int) -> dict[str, Any]:
    letter = "ABCDEFGHJKLMNPQR"[k]
    return {
        "id": f"CAB-B{k:02d}",
        "family": "kerong-cu",
        "bus": "sim",
        "boards": [0],
        "compartments": [
            {"label": f"{letter}{i:02d}", "size": "S", "board": 0, "channel": i}
            for i in range(1, COMPARTMENTS + 1)
        ],
    }


@dataclass
class Fleet:
    """N kiosk processes on one database, ready for orders."""

    procs: list[subprocess.Popen[str]] = field(default_factory=list)

    def order(self, rate: float, seconds: float) -> list[dict[str, Any]]:
        n = max(3, round(rate * seconds))
        start_at = time.time() + 0.5
        for p in self.procs:
            assert p.stdin is not None
            p.stdin.write(json.dumps({"rate": rate, "n": n, "start_at": start_at}) + "\n")
            p.stdin.flush()
        return [json.loads(_line(p, 60 + 4 * seconds)) for p in self.procs]

    def stop(self) -> None:
        for p in self.procs:
            try:
                if p.stdin:
                    p.stdin.write(json.dumps({"quit": True}) + "\n")
                    p.stdin.close()
                p.wait(10)
            except (OSError, subprocess.TimeoutExpired):
                p.kill()
                p.wait(10)


def _line(p: subprocess.Popen[str], timeout_s: float) -> str:
    """The worker's next stdout line (its log lines, which do not start with "{" or "ready", are skipped)."""
    assert p.stdout is not None
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        ready, _, _ = select.select([p.stdout], [], [], 1.0)
        if not ready:
            if p.poll() is not None:
                break
            continue
        line = p.stdout.readline()
        if not line:
            break
        if line.startswith(("{", "ready")):
            return line.strip()
    log = Path(p.args[3]).parent / "worker.log"
    tail = log.read_text(encoding="utf-8")[-2000:] if log.exists() else ""
    fail(f"kiosk process {p.pid} stopped answering (exit {p.poll()}):\n{tail}")
    raise AssertionError  # fail() raised


@contextmanager
def fleet(url: str, n: int, tmp: Path, platform_url: str) -> Iterator[Fleet]:
    from kiosk.datadir import init as datadir_init
    from tests.support.config import write_config

    f = Fleet()
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "KIOSK_SECRET_FILE": str(tmp / "hall-secret.key")}
    try:
        cfgs = []
        for k in range(n):
            env[f"BENCH_PW_{k}"] = f"pw-{kiosk_id(k)}"
            cfgs.append(
                write_config(
                    tmp / f"n{n}" / kiosk_id(k),
                    kiosk={"id": kiosk_id(k), "hall": "基准政务服务中心"},
                    storage={"url": url},
                    platform={
                        "endpoint": platform_url,
                        "username": f"user-{k}",
                        "password_env": f"BENCH_PW_{k}",
                    },
                    cabinets=[cabinet(k)],
                )
            )
        os.environ["KIOSK_SECRET_FILE"] = env["KIOSK_SECRET_FILE"]
        from kiosk.config import load_config

        for c in cfgs:  # `kiosk db init`: the data directory's marker (the first one also migrates)
            datadir_init(load_config(c), _now(), actor="bench")
        for k, c in enumerate(cfgs):
            f.procs.append(
                subprocess.Popen(
                    [sys.executable, str(Path(__file__).resolve()), "--worker", str(c), "--index", str(k)],
                    cwd=REPO,
                    env=env,
                    text=True,
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=(c.parent / "worker.log").open("w", encoding="utf-8"),
                )
            )
        for p in f.procs:
            if _line(p, 120) != "ready":
                fail("a kiosk process did not start")
        yield f
    finally:
        f.stop()


def _now() -> Any:
    import datetime as dt

    return dt.datetime.now(dt.UTC)


class LockSampler(threading.Thread):
    """Samples pg_stat_activity: backend-seconds spent waiting on locks (heavyweight and advisory) in the database,
    and the backends' own schedstat (CPU run time and run-queue wait), when their /proc entries are readable."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.engine = create_engine(url, isolation_level="AUTOCOMMIT")
        self.stop_ = threading.Event()
        self.lock_s = 0.0
        self.by_event: dict[str, float] = {}
        self.pids: set[int] = set()

    def run(self) -> None:
        q = text(
            "SELECT pid, wait_event_type, wait_event FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        with self.engine.connect() as c:
            last = time.perf_counter()
            while not self.stop_.wait(SAMPLE_S):
                now = time.perf_counter()
                dt_, last = now - last, now
                for pid, wtype, wevent in c.execute(q):
                    self.pids.add(pid)
                    if wtype == "Lock":
                        self.lock_s += dt_
                        self.by_event[wevent] = self.by_event.get(wevent, 0.0) + dt_

    def finish(self) -> None:
        self.stop_.set()
        self.join(5)
        self.engine.dispose()


def backend_sched(pids: set[int]) -> tuple[float, float]:
    """Sum of (on-CPU, run-queue wait) seconds of PostgreSQL backends (0, 0 when /proc does not show them)."""
    run = wait = 0.0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/schedstat", encoding="ascii") as f:
                r, w, _ = f.read().split()
        except OSError:
            continue
        run, wait = run + int(r) / 1e9, wait + int(w) / 1e9
    return run, wait


def cpu_busy() -> tuple[float, float]:
    """Machine-wide (busy, total) jiffies from /proc/stat, and nothing else."""
    with open("/proc/stat", encoding="ascii") as f:
        vals = [int(x) for x in f.readline().split()[1:]]
    idle = vals[3] + vals[4]
    return sum(vals) - idle, sum(vals)


def psi_cpu() -> float:
    """Microseconds some task waited for a CPU (PSI), since boot; 0 without /proc/pressure."""
    try:
        with open("/proc/pressure/cpu", encoding="ascii") as f:
            return float(f.readline().split("total=")[1])
    except (OSError, IndexError):
        return 0.0


@dataclass
class Paced:
    n: int
    rate: float
    cycles: int
    errors: int
    db_ms: list[float]
    cycle_ms: list[float]  # the whole cycle: the transactions, the lock bus (unlock, status), the doors
    cpu_ms: float  # means per cycle
    runq_ms: float
    lock_ms: float
    srv_runq_ms: float
    tx: float
    late_s: float
    cpu_util: float
    psi: float
    others: (
        float  # share of the machine's CPUs used by processes outside this bench (other work on the machine)
    )
    lock_events: dict[str, float]
    sample_errors: list[str]


def paced(f: Fleet, url: str, n: int, rate: float, seconds: float) -> Paced:
    sampler = LockSampler(url)
    sampler.start()
    time.sleep(0.2)  # one sample round: the backends' pids
    b0, c0, p0, t0 = backend_sched(sampler.pids), cpu_busy(), psi_cpu(), time.perf_counter()
    d0 = time.process_time()
    results = f.order(rate, seconds)
    b1, c1, p1, t1 = backend_sched(sampler.pids), cpu_busy(), psi_cpu(), time.perf_counter()
    ours = (time.process_time() - d0) + (b1[0] - b0[0]) + sum(r["process_cpu_s"] for r in results)
    sampler.finish()
    busy_s = (c1[0] - c0[0]) / os.sysconf("SC_CLK_TCK")
    rows = [r for res in results for r in res["rows"]]
    k = max(1, len(rows))
    return Paced(
        n=n,
        rate=rate,
        cycles=len(rows),
        errors=sum(r["n_errors"] for r in results),
        db_ms=[r[0] * 1000 for r in rows],
        cycle_ms=[r[4] * 1000 for r in rows],
        cpu_ms=sum(r[1] for r in rows) * 1000 / k,
        runq_ms=sum(r[2] for r in rows) * 1000 / k,
        lock_ms=sampler.lock_s * 1000 / k,
        srv_runq_ms=(b1[1] - b0[1]) * 1000 / k,
        tx=sum(r[3] for r in rows) / k,
        late_s=max(max(r["late_s"], r["ended_late_s"]) for r in results),
        cpu_util=(c1[0] - c0[0]) / max(1, c1[1] - c0[1]),
        psi=(p1 - p0) / 1e6 / max(1e-9, t1 - t0),
        others=max(0.0, busy_s - ours) / ((t1 - t0) * (os.cpu_count() or 1)),
        lock_events={e: s * 1000 / k for e, s in sorted(sampler.by_event.items(), key=lambda x: -x[1])},
        sample_errors=[e for r in results for e in r["errors"]][:3],
    )


def keeps_up(p: Paced, due: int) -> bool:
    """Every due cycle ran (an error is counted and shown, not a fall behind) and none started over LATE_S late."""
    return p.cycles + p.errors >= due and p.late_s <= LATE_S


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--index", type=int, default=0, help=argparse.SUPPRESS)
    quick = os.environ.get("BENCH_SOAK") == "quick"  # every benchmark together (`python -m bench`): shorter
    ap.add_argument(
        "--seconds",
        type=float,
        default=20.0 if quick else 40.0,
        help="paced load per fleet size at 1 cycle/s",
    )
    ap.add_argument("--step-seconds", type=float, default=5.0 if quick else 8.0, help="each rate search step")
    ap.add_argument("--kiosks", default=",".join(map(str, SIZES)), help="fleet sizes, e.g. 1,2,4,8")
    ap.add_argument("--no-search", action="store_true", help="skip the highest-sustainable-rate search")
    args = ap.parse_known_args(argv)[0]  # `python -m bench fleet` leaves the runner's own arguments
    if args.worker:
        return worker(args.worker, args.index)
    sizes = [int(x) for x in args.kiosks.split(",")]
    from backend_client.sim import PlatformSim

    users = {f"user-{k}": (f"pw-{kiosk_id(k)}", [kiosk_id(k)]) for k in range(max(sizes))}
    platform = PlatformSim(users=users, seed_demo=False).start()
    print(
        f"load: per kiosk process one deposit + pickup cycle per second for {args.seconds:g} s (headless: Cabinet "
        f"+ OutboxSender, doors simulated in-process, one platform simulator); {os.cpu_count()} CPUs shared by "
        "the kiosks, PostgreSQL, the platform simulator and this driver",
        flush=True,
    )
    paced_rows: dict[int, Paced] = {}
    best: dict[int, tuple[float, Paced | None]] = {}
    try:
        with postgres() as server, tempfile.TemporaryDirectory(prefix="bench-fleet-") as tmp:
            print(
                f"database: PostgreSQL {server.split('@')[-1].rsplit('/', 1)[0]}, a fresh database per size"
            )
            for n in sizes:
                print(
                    f"  load average before {n} kiosk(s): {' '.join(open('/proc/loadavg').read().split()[:3])}"
                )
                with database(server) as url, fleet(url, n, Path(tmp), platform.url) as f:
                    p = paced(f, url, n, 1.0, args.seconds)
                    paced_rows[n] = p
                    print(
                        f"  {n} kiosk(s) at 1/s: {p.cycles} cycles, p50 {pct(p.db_ms, 50):6.1f} ms, "
                        f"p95 {pct(p.db_ms, 95):6.1f} ms, {p.tx:.1f} transactions a cycle, errors {p.errors}"
                        + (f" ({'; '.join(p.sample_errors)})" if p.sample_errors else ""),
                        flush=True,
                    )
                    if not args.no_search:
                        best[n] = search(f, url, n, args.step_seconds)
    finally:
        platform.stop()
    return report(paced_rows, best)


def search(f: Fleet, url: str, n: int, step_s: float) -> tuple[float, Paced | None]:
    """From 1/s per kiosk, x1.5 a step while the fleet keeps up (or /1.5 a step until it does); the last rate
    kept up, 0 when even the slowest step tried fell behind."""
    rate, kept, last, tried = 1.0, 0.0, None, 0
    while 0.1 <= rate <= 64 and tried < 8:
        tried += 1
        p = paced(f, url, n, rate, step_s)
        ok = keeps_up(p, n * max(3, round(rate * step_s)))
        print(
            f"    {n} x {rate:5.2f}/s: {'kept up' if ok else 'behind '} (late {p.late_s:5.2f} s, "
            f"p95 {pct(p.db_ms, 95):6.1f} ms, whole cycle p50 {pct(p.cycle_ms, 50):6.1f} ms, "
            f"CPU {p.cpu_util:4.0%} ({p.others:4.0%} not ours), "
            f"errors {p.errors})",
            flush=True,
        )
        if ok:
            kept, last = rate, p
            if rate < 1.0:  # stepping down: the first rate kept up is the answer
                break
            rate = round(rate * 1.5, 2)
        elif kept:  # stepping up: it fell behind above the last rate kept up
            break
        else:
            rate = round(rate / 1.5, 2)
    return kept, last


def report(rows: dict[int, Paced], best: dict[int, tuple[float, Paced | None]]) -> int:
    print(
        "\ndatabase path of one deposit + pickup cycle (time inside the core's transactions), 1 cycle/s each"
    )
    print(
        "kiosks  cycles   p50 ms   p95 ms  | per cycle, mean ms: client CPU  client runq  lock wait  "
        "server runq | machine CPU  not ours  CPU pressure"
    )
    for n, p in rows.items():
        print(
            f"{n:6d}  {p.cycles:6d}  {pct(p.db_ms, 50):7.1f}  {pct(p.db_ms, 95):7.1f}  | "
            f"{p.cpu_ms:21.1f}  {p.runq_ms:11.1f}  {p.lock_ms:9.1f}  {p.srv_runq_ms:11.1f} | "
            f"{p.cpu_util:11.0%}  {p.others:8.0%}  {p.psi:12.0%}"
        )
    print(
        "  (client: the kiosk process inside its transactions; runq: ready but waiting for a CPU; lock wait: "
        "PostgreSQL backends\n   of this database waiting on a lock, summed, per cycle: 'advisory' is the "
        "audit chain's hall-wide lock\n   (kiosk.audit.append, held to commit), 'transactionid'/'tuple' are row "
        "locks; server runq: backends waiting for a CPU)"
    )
    for n, p in rows.items():
        if p.lock_events:
            print(
                f"  lock waits with {n}: "
                + ", ".join(f"{e} {ms:.2f} ms/cycle" for e, ms in p.lock_events.items())
            )
    verdict = 0
    if 1 in rows and 8 in rows:
        r = pct(rows[8].db_ms, 95) / pct(rows[1].db_ms, 95)
        print(f"\nratio p95(8)/p95(1): {r:.2f}x   (target <= {RATIO_TARGET:g}x)")
        if r > RATIO_TARGET:
            verdict = 1
            one, eight = rows[1], rows[8]
            grew = {
                "client CPU": eight.cpu_ms - one.cpu_ms,
                "client run-queue wait": eight.runq_ms - one.runq_ms,
                "lock wait": eight.lock_ms - one.lock_ms,
                "server run-queue wait": eight.srv_runq_ms - one.srv_runq_ms,
            }
            print(
                "  missed; what grew from 1 to 8 kiosks (mean ms a cycle): "
                + ", ".join(f"{k} {v:+.1f}" for k, v in grew.items())
            )
            most = max(grew, key=lambda k: grew[k])
            cpu = grew["client CPU"] + grew["client run-queue wait"] + grew["server run-queue wait"]
            top = next(iter(eight.lock_events), "")
            print(
                f"  most of it: {most}"
                + (f" (mostly '{top}')" if most == "lock wait" and top else "")
                + f"; CPU (own work + waiting for a CPU) grew {cpu:+.1f} ms, lock waits {grew['lock wait']:+.1f} ms; "
                f"{eight.others:.0%} of the machine's CPU went to other processes during the 8-kiosk run"
            )
    if any(p.errors for p in rows.values()):
        verdict = 1
    if best:
        print("\nhighest sustainable pace (every due cycle run, none started over 1 s late)")
        print("kiosks  per kiosk /s  hall cycles/s  db p95 ms  whole cycle p50 ms  machine CPU  not ours")
        for n, (rate, p) in best.items():
            if p is None:
                print(f"{n:6d}  none kept up (the slowest pace tried fell behind)")
                continue
            print(
                f"{n:6d}  {rate:12.2f}  {rate * n:13.2f}  {pct(p.db_ms, 95):9.1f}  {pct(p.cycle_ms, 50):18.1f}  "
                f"{p.cpu_util:11.0%}  {p.others:8.0%}"
            )
        print(
            "  (a whole cycle includes two unlocks on the simulated lock board, each with the bus driver's wait for "
            "a reply and\n   its open check, so one kiosk's pace is bounded by its doors; the hall's rate is what "
            "the database shares out)"
        )
    return verdict


if __name__ == "__main__":
    sys.exit(main())
