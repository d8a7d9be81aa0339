"""Lock-board driver benchmark: software overhead against the wire time of the frames involved.

The simulator is run with ``honour_baud=True``: it takes each frame's 8N1 wire
time at the configured baud rate (10 bits per byte), so a perfect driver would
measure exactly the wire time. Everything above it is software overhead: the
driver, pyserial, the pty, and the simulator's own Python (counted against us,
to stay honest).

(a) unlock to confirmed open. The protocol itself waits: kerong-cu sleeps the
    poll interval before each status read (lockboards.md: ~150 ms), generic-8a
    boards answer an open after ~1 s. These modelled waits are not overhead, so
    the run sets them to their minimum (poll 1 ms, open reply delay 0) and
    subtracts the poll sleeps the driver actually asked for.
(b) status of 8 boards x 16 channels, one request per board, against the wire
    time of those 8 requests and replies (target <= 1.2x).
(c) garbled status replies: each costs at most one request+reply wire time
    + 5 ms; a scan with one bad reply per board <= 2.2x the clean wire time.

Run: ``python -m bench.bench_lockboard`` or ``python bench/bench_lockboard.py``.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a file: make the project importable without installing it
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from drivers.lockboard.bus import SerialLockBus
from drivers.lockboard.frames import KR_REQUEST_LEN, KR_STATUS_LEN, all_reply_len
from drivers.lockboard.settings import FAMILY_DEFAULTS, BusSettings
from drivers.lockboard.sim import SimLockBoard

POLL_S = 0.001  # the minimum modelled wait between unlock and status read
OPEN_ROUNDS = 40
SCAN_ROUNDS = 15
BOARDS = 8
CHANNELS = 16
OVERHEAD_TARGET_MS = 5.0
SCAN_TARGET_RATIO = 1.2
BAD_REPLY_MARGIN_MS = 5.0  # a bad reply may cost one request+reply on the wire and this much more
BAD_SCAN_TARGET_RATIO = 2.2


def _rig(family: str, boards: list[int]) -> tuple[SimLockBoard, SerialLockBus]:
    baud = FAMILY_DEFAULTS[family].baud
    sim = SimLockBoard(family, boards, CHANNELS, baud=baud, honour_baud=True, open_reply_delay_s=0.0)  # type: ignore[arg-type]
    path = sim.serve_pty()
    settings = BusSettings.for_family(family, open_poll_interval_s=POLL_S, channels_per_board=CHANNELS)  # type: ignore[arg-type]
    return sim, SerialLockBus(path, settings)


def _pct(values: list[float], q: float) -> float:
    return sorted(values)[min(len(values) - 1, int(q * len(values)))]


def bench_open(family: str) -> dict[str, float]:
    """Unlock-to-confirmed-open latency and the software overhead per command, in ms."""
    board = 0 if family == "kerong-cu" else 1
    sim, bus = _rig(family, [board])
    wire_ms, total_ms, overhead_ms, per_cmd_ms = [], [], [], []
    try:
        bus.board_state(board)  # warm up: port open, code paths imported
        for i in range(OPEN_ROUNDS):
            ch = i % CHANNELS + 1
            before = len(sim.received)
            t0 = time.perf_counter()
            bus.open(board, ch)
            elapsed = (time.perf_counter() - t0) * 1000
            sim.close_door(board, ch)
            sent = sim.received[before:]
            reads = len(sent) - 1
            if family == "kerong-cu":  # unlock (no reply), then status + reply per read
                nbytes = KR_REQUEST_LEN + reads * (KR_REQUEST_LEN + KR_STATUS_LEN)
                # The first poll sleep runs while the unlock is still on the wire (write() returns at once):
                # only the part of it longer than the unlock's wire time is a wait of its own.
                first = max(0.0, POLL_S - sim.wire_time_s(KR_REQUEST_LEN))
                modelled = (first + (reads - 1) * POLL_S) * 1000
            else:  # open + its reply, then query + reply per read; a poll sleep between reads
                nbytes = 10 + reads * 10
                modelled = (reads - 1) * POLL_S * 1000
            wire = sim.wire_time_s(nbytes) * 1000
            wire_ms.append(wire)
            total_ms.append(elapsed)
            overhead_ms.append(elapsed - wire - modelled)
            per_cmd_ms.append((elapsed - wire - modelled) / len(sent))
    finally:
        bus.close()
        sim.stop()
    return {
        "wire_ms": statistics.median(wire_ms),
        "median_ms": statistics.median(total_ms),
        "p95_ms": _pct(total_ms, 0.95),
        "ratio": statistics.median(total_ms) / statistics.median(wire_ms),
        "overhead_ms": statistics.median(overhead_ms),
        "overhead_per_cmd_ms": statistics.median(per_cmd_ms),
        "overhead_per_cmd_p95_ms": _pct(per_cmd_ms, 0.95),
    }


def bench_scan(family: str) -> dict[str, float]:
    """Status of BOARDS boards x CHANNELS channels, against the wire time of one request per board."""
    boards = list(range(BOARDS)) if family == "kerong-cu" else list(range(1, BOARDS + 1))
    sim, bus = _rig(family, boards)
    reply_len = KR_STATUS_LEN if family == "kerong-cu" else all_reply_len(CHANNELS)
    wire = sim.wire_time_s(BOARDS * (KR_REQUEST_LEN + reply_len)) * 1000
    times = []
    try:
        for b in boards:
            bus.board_state(b)  # warm up
        for _ in range(SCAN_ROUNDS):
            before = len(sim.received)
            t0 = time.perf_counter()
            doors = [bus.board_state(b) for b in boards]
            times.append((time.perf_counter() - t0) * 1000)
            assert len(sim.received) - before == BOARDS and sum(map(len, doors)) == BOARDS * CHANNELS
    finally:
        bus.close()
        sim.stop()
    med = statistics.median(times)
    return {
        "wire_ms": wire,
        "median_ms": med,
        "p95_ms": _pct(times, 0.95),
        "ratio": med / wire,
        "overhead_per_board_ms": (med - wire) / BOARDS,
    }


def bench_bad_replies(family: str) -> dict[str, float]:
    """What a garbled status reply costs: one bad reply on one board, and one bad reply on every board of a scan.

    The driver re-sends a status request as soon as it has rejected a whole frame and nothing more is waiting, so
    a bad reply should cost about one more request+reply on the wire, not a reply timeout."""
    boards = list(range(BOARDS)) if family == "kerong-cu" else list(range(1, BOARDS + 1))
    sim, bus = _rig(family, boards)
    reply_len = KR_STATUS_LEN if family == "kerong-cu" else all_reply_len(CHANNELS)
    one_wire = sim.wire_time_s(KR_REQUEST_LEN + reply_len) * 1000
    clean, bad, scans = [], [], []
    try:
        for b in boards:
            bus.board_state(b)  # warm up
        for _ in range(SCAN_ROUNDS * 2):
            t0 = time.perf_counter()
            bus.board_state(boards[0])
            clean.append((time.perf_counter() - t0) * 1000)
            sim.corrupt(boards[0], 1)
            before = len(sim.received)
            t0 = time.perf_counter()
            bus.board_state(boards[0])
            bad.append((time.perf_counter() - t0) * 1000)
            assert len(sim.received) - before == 2  # the garbled one and its re-send
        for _ in range(SCAN_ROUNDS):
            for b in boards:
                sim.corrupt(b, 1)
            before = len(sim.received)
            t0 = time.perf_counter()
            doors = [bus.board_state(b) for b in boards]
            scans.append((time.perf_counter() - t0) * 1000)
            assert len(sim.received) - before == 2 * BOARDS and sum(map(len, doors)) == BOARDS * CHANNELS
    finally:
        bus.close()
        sim.stop()
    cost = statistics.median(bad) - statistics.median(clean)
    scan_med = statistics.median(scans)
    return {
        "one_wire_ms": one_wire,
        "bad_cost_ms": cost,
        "bad_cost_p95_ms": _pct(bad, 0.95) - statistics.median(clean),
        "scan_median_ms": scan_med,
        "scan_ratio": scan_med / (BOARDS * one_wire),
    }


def main() -> int:
    """Run both measurements for both families and print the figures; exit 1 if a target is missed."""
    ok = True
    print(__doc__.split("\n\n")[1].replace("\n", " "))
    print(
        f"\n(a) unlock -> confirmed open, {OPEN_ROUNDS} opens, poll interval {POLL_S * 1000:g} ms, "
        "open reply delay 0; overhead = measured - wire - poll sleeps not hidden under wire time"
    )
    for family in ("kerong-cu", "generic-8a"):
        r = bench_open(family)
        good = r["overhead_per_cmd_ms"] < OVERHEAD_TARGET_MS
        ok &= good
        print(
            f"  {family:10} @{FAMILY_DEFAULTS[family].baud} baud: wire {r['wire_ms']:.2f} ms, measured median "
            f"{r['median_ms']:.2f} ms (p95 {r['p95_ms']:.2f}), ratio {r['ratio']:.2f}x; overhead "
            f"{r['overhead_ms']:.2f} ms per open = {r['overhead_per_cmd_ms']:.2f} ms per command "
            f"(p95 {r['overhead_per_cmd_p95_ms']:.2f}; target < {OVERHEAD_TARGET_MS:g}) {'OK' if good else 'MISSED'}"
        )
    print(
        "  With the real timings add the modelled waits: kerong-cu >= 150 ms poll before the first read; "
        "generic-8a ~1000 ms until the board answers the open."
    )
    print(
        f"\n(b) status of {BOARDS} boards x {CHANNELS} channels, one request per board, {SCAN_ROUNDS} rounds"
    )
    for family in ("kerong-cu", "generic-8a"):
        r = bench_scan(family)
        good = r["ratio"] <= SCAN_TARGET_RATIO
        ok &= good
        print(
            f"  {family:10} @{FAMILY_DEFAULTS[family].baud} baud: wire {r['wire_ms']:.2f} ms, measured median "
            f"{r['median_ms']:.2f} ms (p95 {r['p95_ms']:.2f}), ratio {r['ratio']:.3f}x "
            f"(target <= {SCAN_TARGET_RATIO}), overhead {r['overhead_per_board_ms']:.2f} ms per board "
            f"{'OK' if good else 'MISSED'}"
        )
    print(
        f"\n(c) garbled status replies (bad checksum), {SCAN_ROUNDS * 2} rounds; scans of {BOARDS} boards "
        "with one bad reply on every board"
    )
    for family in ("kerong-cu", "generic-8a"):
        r = bench_bad_replies(family)
        limit = r["one_wire_ms"] + BAD_REPLY_MARGIN_MS
        good = r["bad_cost_ms"] <= limit and r["scan_ratio"] <= BAD_SCAN_TARGET_RATIO
        ok &= good
        print(
            f"  {family:10} @{FAMILY_DEFAULTS[family].baud} baud: a bad reply costs {r['bad_cost_ms']:.2f} ms "
            f"(p95 {r['bad_cost_p95_ms']:.2f}; target <= request+reply wire {r['one_wire_ms']:.2f} + "
            f"{BAD_REPLY_MARGIN_MS:g} ms); scan with one bad reply per board: median {r['scan_median_ms']:.2f} ms, "
            f"ratio {r['scan_ratio']:.3f}x the clean wire time (target <= {BAD_SCAN_TARGET_RATIO}) "
            f"{'OK' if good else 'MISSED'}"
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
