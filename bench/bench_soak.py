"""Memory over months of citizen sessions: the runtime's resident memory must stay flat after warm-up.

A kiosk runs for months between restarts. This drives the real runtime (simulated lock boards and GA 467 card
reader on ptys, SQLite, the simulated printer) through citizen sessions, as the touch UI calls it: identify with
the card, list the matters, look up the cases, rate the service; every 10th session files an application, every
50th a drop-off (collected again by staff) or a pickup (of a result staff deposited). The platform simulator runs
in a child process, so its own records (cases, ratings) are not counted as the kiosk's.

RSS is printed every REPORT_EVERY sessions; growth from the end of warm-up to the end must stay under the limit.
When it does not, a tenth more sessions run under tracemalloc (not before: its own memory would count) and the
top allocation sites of that stretch are printed.

    python -m bench soak                 # 10,000 sessions, limit 5 MB (1.5-2 hours: the card is read as a person would)
    BENCH_SOAK=quick python -m bench soak   # 1,000 sessions (warm-up 300), same limit, about 10 minutes
    BENCH_SOAK=window xvfb-run -a python -m bench soak   # 500 sessions in the real touch UI, limit 10 MB
    BENCH_SOAK_TRIM=0 ...                   # RSS without malloc_trim (see _sample)

The window mode runs the real KioskApp in a real window (Xvfb here) and drives each session with real touches
through the window, as tests/ui does (its Driver): 我的办件 -> the identify screen -> the demo card on the
simulated reader -> 继续 -> my cases; the matters list; a five-star rating sent from the rating screen; 完成,
and the card taken off the pad. The application of every 10th session and the door flows of every 50th
go through the core, as in the headless mode (the form and door screens have their own UI tests); the window's
growth is what the relayouts, screens and bindings of 500 sessions leave. Warm-up 200 sessions (where the
issue saw the touch UI settle), RSS every 50.
"""

from __future__ import annotations

import ctypes
import datetime as dt
import gc
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import tracemalloc
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kiosk.voice import Voice

REPO = Path(__file__).resolve().parent.parent
MODE = os.environ.get("BENCH_SOAK", "")  # "", "quick" or "window"
QUICK = MODE == "quick"
WINDOW = MODE == "window"
SESSIONS = int(os.environ.get("BENCH_SOAK_SESSIONS", "500" if WINDOW else "1000" if QUICK else "10000"))
# Warm-up fills what is bounded but starts empty: the platform exchange ring, SQLite's page cache on each pooled
# connection, the simulators' logs (and in the window: Kivy's texture and label caches). The issue measured the
# headless runtime from 1,000 sessions on, and saw the touch UI settle after ~200.
WARMUP = int(os.environ.get("BENCH_SOAK_WARMUP", "200" if WINDOW else "300" if QUICK else "1000"))
REPORT_EVERY = int(os.environ.get("BENCH_SOAK_EVERY", "50" if WINDOW else "100" if QUICK else "1000"))
LIMIT_MB = 10.0 if WINDOW else 5.0
TRACE = (
    os.environ.get("BENCH_SOAK_TRACE", "1") != "0"
)  # over the limit: trace more sessions to name the sites

# The platform in its own process: serves the published interface; "approve" files and finishes a LOCKER case
# for the demo card's person (the back office's part of a pickup), answering its number; "fill N" files N.
_PLATFORM = """
import sys
from backend_client.sim import PlatformSim
from kiosk.platform_models import Applicant
sim = PlatformSim().start()
print(sim.url, flush=True)
person = Applicant("RESIDENT_ID", "110105199001011232", "张三", "13800138000")
for line in sys.stdin:
    bo = sim.backoffice
    for _ in range(int(line.split()[1]) if line.startswith("fill") else 1):
        case = bo.create_case(person, "GA-HUKOU-CERT", "LOCKER", fields={"purpose": "就业", "copies": "1"})
        bo.approve(case.number)
    print(case.number, flush=True)
"""


def _raw_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _rss_parts() -> str:
    """Resident memory by kind: anonymous (heaps, arenas, stacks) vs file-backed (code and data pages of the
    interpreter and libraries, touched for the first time as new paths run) vs shared memory (SQLite's WAL index)."""
    kinds = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(("RssAnon:", "RssFile:", "RssShmem:")):
            key, value = line.split(":", 1)
            kinds[key[3:].lower()] = int(value.split()[0]) / 1024
    return ", ".join(f"{k} {v:.1f}" for k, v in kinds.items()) or "rss parts ?"


def _malloc_trim() -> bool:
    try:
        return bool(ctypes.CDLL("libc.so.6").malloc_trim(0))
    except (OSError, AttributeError):  # not glibc: RSS is measured untrimmed
        return False


# Measurement choice: glibc keeps freed memory in its arenas (one per thread that allocated) and hands it back
# only at the top of the heap, so the same live memory can show a few MB more or less RSS depending on where the
# last free block sits. Every sample is taken after gc.collect() and malloc_trim(0), which returns the free pages;
# the untrimmed figure is printed beside it. A real leak is live memory: trimming does not lower it.
TRIM = os.environ.get("BENCH_SOAK_TRIM", "1") != "0"


def _sample() -> tuple[float, float]:
    """(RSS as the limit counts it, untrimmed RSS) in MB."""
    gc.collect()
    raw = _raw_rss_mb()
    if TRIM:
        _malloc_trim()
    return _raw_rss_mb(), raw


def _where(rt: object, voice: Voice | None = None) -> str:
    """Where memory sits, to tell a leak from a filling cache: engines alive (one per database is right), SQLite's
    own allocations (page caches of the pooled connections: bounded by cache_size each), Python's live blocks."""
    from sqlalchemy import Engine

    n = sum(1 for o in gc.get_objects() if isinstance(o, Engine))
    try:
        lib = ctypes.CDLL("libsqlite3.so.0")  # the library Debian's sqlite3 module is linked to
        lib.sqlite3_memory_used.restype = ctypes.c_int64
        sqlite = f"SQLite {lib.sqlite3_memory_used() / 2**20:5.1f} MB"
    except (OSError, AttributeError):
        sqlite = "SQLite ?"
    return (
        f"({_rss_parts()}) {n} engine{'s' if n != 1 else ''}, {sqlite}, {sys.getallocatedblocks() / 1000:.0f}k Python blocks, "
        f"malloc in use {_malloc_in_use_mb():5.1f} MB, {_pymalloc_arenas()}, {threading.active_count()} threads, "
        f"exchange ring {_ring_kchars(rt)}k chars"
        + (f", voice cache {voice.cache_bytes() / 2**20:4.1f} MB" if voice is not None else "")
    )


class _MallInfo2(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in (
            "arena",
            "ordblks",
            "smblks",
            "hblks",
            "hblkhd",
            "usmblks",
            "fsmblks",
            "uordblks",
            "fordblks",
            "keepcost",
        )
    ]


def _pymalloc_arenas() -> str:
    """Python's own allocator: its arenas come from mmap, outside glibc's counts, and are returned only when every
    block in them is free. Many arenas for the same live blocks is fragmentation, not a leak."""
    with tempfile.TemporaryFile(mode="w+") as out:
        saved = os.dup(2)
        try:
            sys.stderr.flush()
            os.dup2(out.fileno(), 2)  # _debugmallocstats writes to the C stderr
            sys._debugmallocstats()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        out.seek(0)
        text = out.read()
    arenas = re.search(r"# arenas allocated current\s*=\s*([\d,]+)", text)
    used = re.search(r"# bytes in allocated blocks\s*=\s*([\d,]+)", text)
    if arenas is None or used is None:
        return "pymalloc ?"
    n = int(arenas.group(1).replace(",", ""))
    return f"pymalloc {n} arenas, {int(used.group(1).replace(',', '')) / 2**20:.1f} MB in blocks"


def _malloc_in_use_mb() -> float:
    """Live bytes glibc has handed out (arenas + mmapped chunks): grows with a leak, not with fragmentation."""
    try:
        f = ctypes.CDLL("libc.so.6").mallinfo2
    except (OSError, AttributeError):
        return float("nan")
    f.restype = _MallInfo2
    mi = f()
    return (mi.uordblks + mi.hblkhd) / 2**20


def _ring_kchars(rt: object) -> int:
    """Characters held by the platform client's exchange ring (bounded by count, and per record by MAX_XML_CHARS)."""
    recs = rt.app.platform.history()  # type: ignore[attr-defined]
    return sum(len(r.request_xml or "") + len(r.reply_xml or "") for r in recs) // 1000


def _config(tmp: Path, url: str) -> Path:
    text = (REPO / "kiosk" / "default.toml").read_text(encoding="utf-8")
    text = text.replace('data_dir = "~/.local/share/hall-kiosk"', f'data_dir = "{tmp / "data"}"')
    text = re.sub(r'(?m)^endpoint = "sim"$', f'endpoint = "{url}"', text)
    assert url in text
    if WINDOW:  # the voice speaks every screen, into WAV files (no sound card here), as in the UI tests
        text += f'\n[voice]\noutput = "wav"\nwav_dir = "{tmp / "voice"}"\n'
    p = tmp / "kiosk.toml"
    p.write_text(text, encoding="utf-8")
    return p


class Soak:
    def __init__(self, rt: object, platform: subprocess.Popen[str]) -> None:
        from backend_client.sim.operations import LIST_LIMIT  # the cases listed for one applicant
        from kiosk.ports import CardEvent

        self.rt = rt
        self.platform = platform
        self._identified = threading.Event()
        self._removed = threading.Event()
        self.identity = None

        def on_card(ev: CardEvent) -> None:
            if ev.kind == "identified":
                self.identity = ev.identity
                self._identified.set()
            elif ev.kind == "removed":
                self._removed.set()

        rt.add_card_listener(on_card)  # type: ignore[attr-defined]
        self.matter = next(m for m in rt.filing.matters() if m.code == "GA-HUKOU-CERT")  # type: ignore[attr-defined]
        # The one demo citizen gathers a case every 10th session; the platform lists an applicant's newest 50. Start
        # with the list full, or what the list feeds (the exchange ring, the cases screen's rows) grows for the
        # first ~500 sessions and reads as a leak.
        self._platform_says(f"fill {LIST_LIMIT}")

    def _door(self, handle: object, *, put: bool = False, take: bool = False) -> object:
        rt = self.rt
        for cab in rt.cfg.cabinets:  # type: ignore[attr-defined]
            for c in cab.compartments:
                if c.label == handle.label:  # type: ignore[attr-defined]
                    sim = rt.sims.door_sim(cab.id)  # type: ignore[attr-defined]
                    if put:
                        sim.put_item(c.board, c.channel)
                    if take:
                        sim.take_item(c.board, c.channel)
                    sim.close_door(c.board, c.channel)
        return rt.doors.wait_closed(handle, 20)  # type: ignore[attr-defined]

    def session(self, i: int) -> None:
        rt = self.rt
        self._identified.clear()
        self._removed.clear()
        rt.sims.card_sim().insert_demo_card()  # type: ignore[attr-defined]
        if not self._identified.wait(20):
            raise RuntimeError(f"session {i}: the demo card was not read")
        who = self.identity
        rt.filing.matters()  # type: ignore[attr-defined]
        cases = rt.citizen.cases_of(who)  # type: ignore[attr-defined]
        if i % 10 == 0:
            rt.filing.submit_application(who, self.matter.code, {"purpose": "就业", "copies": "1"}, "WINDOW")  # type: ignore[attr-defined]
        if i % 50 == 0:
            if (i // 50) % 2:
                self._pickup(who)
            else:
                self._dropoff_and_collect(who)
        rt.feedback.rate(
            5,
            [],
            case_number=cases[0].case_number if cases else None,  # type: ignore[attr-defined]
            matter_code=None if cases else self.matter.code,
        )
        rt.sims.card_sim().remove_card()  # type: ignore[attr-defined]
        self._removed.wait(20)
        who.wipe()

    def _dropoff_and_collect(self, who: object) -> None:
        rt = self.rt
        h = rt.citizen.dropoff(who, matter_code=self.matter.code, matter_name=self.matter.name)  # type: ignore[attr-defined]
        self._door(h, put=True)
        c = rt.staff.collect(h.parcel_id, "DEMO-STAFF-01")  # type: ignore[attr-defined]
        self._door(c, take=True)

    def _platform_says(self, command: str) -> str:
        assert self.platform.stdin and self.platform.stdout
        self.platform.stdin.write(command + "\n")
        self.platform.stdin.flush()
        return self.platform.stdout.readline().strip()

    def _pickup(self, who: object) -> None:
        rt = self.rt
        case = self._platform_says("approve")
        d = rt.staff.deposit(case, "DEMO-STAFF-01")  # type: ignore[attr-defined]
        self._door(d, put=True)
        p = rt.citizen.pickup_by_identity(who)  # type: ignore[attr-defined]
        self._door(p, take=True)


def main() -> int:
    from hallkiosk.runtime import Runtime
    from kiosk.config import load_config
    from kiosk.datadir import init

    os.environ.setdefault("KIOSK_PLATFORM_PASSWORD", "demo-password-not-a-secret")
    platform = subprocess.Popen(
        [sys.executable, "-c", _PLATFORM], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=REPO
    )
    assert platform.stdout is not None
    url = platform.stdout.readline().strip()
    with tempfile.TemporaryDirectory(prefix="bench-soak-") as tmp:
        cfg = load_config(_config(Path(tmp), url))
        init(cfg, dt.datetime.now(dt.UTC), actor="bench")  # `kiosk db init`: the kiosk starts only after it
        if WINDOW:
            try:
                return _window(cfg, platform)
            finally:
                platform.terminate()
                platform.wait(10)
        rt = Runtime(cfg)
        rt.start()
        try:
            if not rt.wait_ready(60) or rt.start_error is not None:
                print(f"the kiosk did not start: {rt.start_error}", file=sys.stderr)
                return 1
            return _run(Soak(rt, platform))
        finally:
            rt.stop()
            platform.terminate()
            platform.wait(10)


class WindowSoak:
    """Citizen sessions through the real touch UI (tests/ui's Driver: real touches through the window)."""

    def __init__(self, driver: object, platform: subprocess.Popen[str]) -> None:
        self.d = driver
        self.app = driver.app  # type: ignore[attr-defined]
        self.rt = self.app.rt
        self.core = Soak(self.rt, platform)  # the application and door flows, through the core

    def session(self, i: int) -> None:
        d, app, rt = self.d, self.app, self.rt
        wait = d.wait_for  # type: ignore[attr-defined]
        self.core._identified.clear()
        d.tap_id("btn_cases")  # type: ignore[attr-defined]  # 我的办件 on the start screen: identify first
        wait(lambda: app.sm.current == "identify", what="the identify screen")
        rt.sims.card_sim().insert_demo_card()
        wait(lambda: app.screen.reader_state == "read", timeout=20, what="the card")
        d.tap_id("btn_continue")  # type: ignore[attr-defined]
        wait(lambda: app.sm.current == "cases" and not app.busy, timeout=20, what="my cases")
        self.core._identified.wait(5)
        who = self.core.identity
        app.go("matters")
        wait(
            lambda: app.sm.current == "matters" and app.screen.ids.rows.children and not app.busy,
            timeout=20,
            what="the matters list",
        )
        if i % 10 == 0:
            rt.filing.submit_application(
                who, self.core.matter.code, {"purpose": "就业", "copies": "1"}, "WINDOW"
            )
        if i % 50 == 0:
            if (i // 50) % 2:
                self.core._pickup(who)
            else:
                self.core._dropoff_and_collect(who)
        app.go("rate", case_number="", matter_code=self.core.matter.code)
        rate = app.screen
        d.tap_id("r5")  # type: ignore[attr-defined]
        d.tap_id("btn_send")  # type: ignore[attr-defined]
        wait(lambda: rate.thanked, timeout=20, what="the rating to be queued")
        d.tap_id("btn_skip")  # type: ignore[attr-defined]  # 完成 once thanked: the session ends
        wait(lambda: app.sm.current == "start", what="the start screen")
        d.clear_reader()  # type: ignore[attr-defined]  # then they take their card off the pad, as reminded
        wait(lambda: not app.busy, what="the start screen to settle")
        d.frames(3)  # type: ignore[attr-defined]


def _window(cfg: object, platform: subprocess.Popen[str]) -> int:
    """The real KioskApp in a real window (needs a DISPLAY: Xvfb under xvfb-run), stepped frame by frame."""
    if not os.environ.get("DISPLAY"):
        print("BENCH_SOAK=window needs a display: run it under xvfb-run -a", file=sys.stderr)
        return 2
    for k, v in (("KIVY_NO_ARGS", "1"), ("KIVY_USE_DEFAULTCONFIG", "1"), ("KIVY_NO_CONSOLELOG", "1")):
        os.environ.setdefault(k, v)
    from kivy.base import runTouchApp, stopTouchApp

    from hallkiosk.cli.run import build_touch_app
    from tests.ui.harness import Driver, FakeIdle

    idle = FakeIdle()  # the inactivity timer stands still: a session is never reset under the bench's feet
    app = build_touch_app(cfg, windowed=True, idle_clock=idle)  # type: ignore[arg-type]
    app._run_prepare()  # type: ignore[attr-defined]  # build, add the root to the window, on_start
    runTouchApp(embedded=True)
    try:
        d = Driver(app, idle)
        d.wait_for(lambda: app.rt.ready, timeout=60, what="the core to start")  # type: ignore[attr-defined]
        if app.rt.start_error is not None:  # type: ignore[attr-defined]
            print(f"the kiosk did not start: {app.rt.start_error}", file=sys.stderr)  # type: ignore[attr-defined]
            return 1
        d.settle()
        return _run(WindowSoak(d, platform))
    except Exception:  # Kivy has taken over sys.stderr (its log): say what broke where a person sees it
        traceback.print_exc(file=sys.__stderr__)
        return 1
    finally:
        app.stop()  # type: ignore[attr-defined]
        stopTouchApp()


def _run(soak: Soak | WindowSoak) -> int:
    where = "sessions in the real touch UI" if WINDOW else "headless sessions"
    print(f"{SESSIONS} {where}, warm-up {WARMUP}, limit {LIMIT_MB} MB growth after warm-up", flush=True)
    print(
        "RSS is sampled after gc.collect() and glibc malloc_trim(0) (free arena pages returned; the untrimmed "
        "figure in brackets)"
        if TRIM
        else "RSS is sampled after gc.collect(), untrimmed (BENCH_SOAK_TRIM=0)",
        flush=True,
    )
    start = time.perf_counter()
    base = (0.0, 0.0)
    base_live = 0.0
    for i in range(1, SESSIONS + 1):
        soak.session(i)
        if i not in (WARMUP, SESSIONS) and i % REPORT_EVERY:
            continue
        # One sample per point: a second one would read the untrimmed RSS just after the first one's trim.
        rss, raw = _sample()
        if i == WARMUP:
            base = (rss, raw)
            base_live = _malloc_in_use_mb()
        if i % REPORT_EVERY == 0:
            where = _where(soak.rt, soak.app.voice if isinstance(soak, WindowSoak) else None)
            print(
                f"  {i:6d} sessions  RSS {rss:7.1f} MB  (untrimmed {raw:7.1f})  {where}  "
                f"({(time.perf_counter() - start) / i * 1000:.0f} ms/session)",
                flush=True,
            )
    growth = rss - base[0]
    ok = growth < LIMIT_MB
    print(
        f"RSS growth after warm-up ({WARMUP} -> {SESSIONS} sessions): {growth:+.1f} MB "
        f"(untrimmed {raw - base[1]:+.1f} MB; malloc in use {_malloc_in_use_mb() - base_live:+.1f} MB) "
        f"(limit {LIMIT_MB} MB): {'OK' if ok else 'OVER'}"
    )
    if not ok and TRACE:
        _top_sites(soak, SESSIONS + 1, max(100, SESSIONS // 10))
    return 0 if ok else 1


def _top_sites(soak: Soak | WindowSoak, first: int, n: int) -> None:
    """Where live memory grows, over ``n`` more sessions traced (tracemalloc's own memory would skew the RSS above)."""
    tracemalloc.start(10)
    before = tracemalloc.take_snapshot()
    for i in range(first, first + n):
        soak.session(i)
    gc.collect()
    stats = tracemalloc.take_snapshot().compare_to(before, "traceback")
    tracemalloc.stop()
    print(
        f"top allocation sites over {n} more sessions (live Python memory {sum(s.size_diff for s in stats) / 2**20:+.2f} MB):"
    )
    for s in stats[:12]:
        print(f"  {s.size_diff / 1024:+9.1f} KiB  {s.count_diff:+7d} blocks")
        for line in s.traceback.format()[-6:]:
            print(f"      {line}")


if __name__ == "__main__":
    sys.exit(main())
