"""Bench: a full `kiosk diag` against the shipped simulators, healthy and with faults that make it wait.

Prints, per scenario, the wall time, the configured timeouts the checks actually
sat through (the report's ``waited_s``), the work beyond them (must stay under
2 s), and the ratio of total time to timeouts waited.

Run: ``python bench/bench_diag.py [--runs N]``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from backend_client.sim import PlatformSim
from drivers.cardreader.ga467_sim import Ga467Sim
from drivers.lockboard.sim import SimLockBoard
from hallkiosk.diag import run_checks
from hallkiosk.wiring import App
from kiosk.config import load_config
from kiosk.datadir import init
from kiosk.secret import load_or_create_secret

PASSWORD = "bench-password"
LIMIT_S = 2.0


def _config(tmp: Path, bus: str, card: str, endpoint: str) -> Path:
    comps = ",\n".join(
        f'  {{ label = "A{i:02d}", size = "M", board = {(i - 1) // 16}, channel = {(i - 1) % 16 + 1} }}'
        for i in range(1, 33)
    )
    p = tmp / "kiosk.toml"
    p.write_text(
        f"""
[kiosk]
id = "BENCH-01"
hall = "bench"
data_dir = "{tmp / "data"}"

[[cabinets]]
id = "CAB-B"
bus = "{bus}"
family = "kerong-cu"
boards = [0, 1, 2]
reply_timeout_s = 0.3
retries = 1
compartments = [
{comps}
]

[[card_readers]]
kind = "ga467"
name = "id"
url = "{card}"

[platform]
endpoint = "{endpoint}"
username = "bench"
password_env = "BENCH_PW"
timeout_s = 2
connect_timeout_s = 1

[printer]
kind = "none"
""",
        encoding="utf-8",
    )
    return p


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="bench a full kiosk diag")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    os.environ["BENCH_PW"] = PASSWORD
    boards = SimLockBoard("kerong-cu", [0, 1, 2])
    bus = boards.serve_pty()
    card = Ga467Sim().start()
    platform = PlatformSim(users={"bench": (PASSWORD, ["BENCH-01"])}).start()
    worst_overhead = 0.0
    try:
        with tempfile.TemporaryDirectory() as d:
            tmp = Path(d)
            cfg = load_config(_config(tmp, bus, card.path, platform.url))
            init(cfg, dt.datetime.now(dt.UTC), actor="bench")  # `kiosk db init`: migrates, writes the marker
            load_or_create_secret(cfg.data_dir)
            print(f"{'scenario':<34} {'total s':>8} {'waited s':>9} {'beyond s':>9} {'ratio':>7}")
            scenarios = [
                ("healthy", lambda: None),
                ("board 2 silent", lambda: boards.silence(2)),
                ("+ card reader silent", lambda: card.inject("silent", cmd="sam", times=10**6)),
                ("+ platform slow (timeout)", lambda: platform.faults.slow(5.0, times=None)),
            ]
            for name, inject in scenarios:
                inject()
                totals, waits = [], []
                for _ in range(args.runs):
                    app = App(cfg)
                    try:
                        t0 = time.perf_counter()
                        rep = run_checks(app)
                        totals.append(time.perf_counter() - t0)
                        waits.append(rep.waited_s)
                    finally:
                        app.close()
                total, waited = statistics.median(totals), statistics.median(waits)
                beyond = total - waited
                worst_overhead = max(worst_overhead, max(t - w for t, w in zip(totals, waits, strict=True)))
                ratio = f"{total / waited:7.2f}" if waited else "    n/a"
                print(f"{name:<34} {total:8.3f} {waited:9.3f} {beyond:9.3f} {ratio}  ({rep.status})")
    finally:
        platform.stop()
        card.stop()
        boards.stop()
    ok = worst_overhead < LIMIT_S
    verdict = "OK" if ok else "TOO SLOW"
    print(
        f"worst work beyond the configured timeouts: {worst_overhead:.3f} s (limit {LIMIT_S:g} s): {verdict}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
