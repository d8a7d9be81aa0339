"""Bench: the pinyin input method — index build and load time, and candidates() latency per keystroke.

Each keystroke is a full ``candidates(letters_so_far)`` call, as the candidate bar makes one per key.
A plain dict lookup of the same strings, timed in the same run, is the baseline the ratio is against
(it absorbs this machine's speed and load). The target is a p95 under 20 ms per keystroke.

Also: where the 500 most common characters and the 100 most common surnames (independent lists, tests/data) land
among the candidates for their reading: >= 95 % / 97 % within 10, all within 20.

Run: ``python bench/bench_pinyin.py [--runs N] [--words N]``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from ui.pinyin.engine import PinyinEngine
from ui.pinyin.lexicon import CACHE_NAME, DEFAULT_WORDS, Lexicon, build_lexicon

TARGET_MS = 20.0
# What citizens type into an address field, letter by letter (plus two deliberately ambiguous or long ones).
PHRASES = (
    "beijingshi",
    "haidianqu",
    "zhongguancunjiedao",
    "xiaoqu",
    "sanhaolou",
    "erdanyuan",
    "yaolingyishi",
    "shanghaishipudongxinqu",
    "guangdongshengshenzhenshi",
    "jiatingzhuzhi",
    "xi'anshi",
    "lvsehuayuan",
    "zhangsan",
    "shenfenzheng",
    "xianxianxianxianxianxian",
    "chuangchuangchuangchuang",
)


def _pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round(q * (len(xs) - 1)))]


def _keystrokes() -> list[str]:
    return [p[:i] for p in PHRASES for i in range(1, len(p) + 1)]


def _time_each(fn: Callable[[str], object], inputs: list[str], runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        for s in inputs:
            t0 = time.perf_counter()
            fn(s)
            out.append((time.perf_counter() - t0) * 1000)
    return out


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--words", type=int, default=DEFAULT_WORDS)
    args, _ = ap.parse_known_args(argv)  # `python -m bench pinyin` leaves "pinyin" in argv

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / CACHE_NAME
        t0 = time.perf_counter()
        lex = build_lexicon(args.words)
        build_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        lex.save(path)
        save_s = time.perf_counter() - t0
        loads = []
        for _ in range(3):
            t0 = time.perf_counter()
            loaded = Lexicon.load(path)
            loads.append(time.perf_counter() - t0)
        assert loaded == lex
        size_mb = path.stat().st_size / 1e6
    print(
        f"index: {len(lex)} entries under {len(lex.entries)} keys ({args.words} jieba words + every CJK character)"
    )
    print(
        f"  build {build_s:.2f} s (first start only, off the UI thread) | save {save_s * 1000:.0f} ms | "
        f"load median {statistics.median(loads) * 1000:.0f} ms | cache file {size_mb:.1f} MB"
    )

    eng = PinyinEngine(loaded)
    keys = _keystrokes()
    eng.candidates("warmup")
    ime = _time_each(lambda s: eng.candidates(s, 120), keys, args.runs)  # the bar asks for 120
    plain = _time_each(loaded.entries.get, keys, args.runs)
    med, p95, worst = statistics.median(ime), _pct(ime, 0.95), max(ime)
    base = statistics.median(plain)
    print(
        f"candidates() per keystroke over {len(keys)} keystrokes x {args.runs} runs: "
        f"median {med:.3f} ms, p95 {p95:.3f} ms, max {worst:.3f} ms"
    )
    print(
        f"  plain dict lookup, same run: median {base * 1000:.2f} µs -> ratio {med / base:.0f}x (median/median)"
    )
    slow = max(keys, key=lambda s: min(_time_each(lambda x: eng.candidates(x, 120), [s], 3)))
    print(f"  slowest keystroke: {slow!r}")
    ok = p95 < TARGET_MS
    print(f"target p95 < {TARGET_MS:.0f} ms per keystroke: {'PASS' if ok else 'FAIL'}")
    return 0 if ok and _coverage(eng) else 1


def _coverage(eng: PinyinEngine) -> bool:
    """Where independent lists' characters land among the candidates (the lists and their provenance: tests/data)."""
    from tests.pinyin.test_ranking import listed, positions

    ok = True
    for name, label, need10 in (
        ("common_chars_500.txt", "500 most common characters", 0.95),
        ("common_surnames_100.txt", "100 most common surnames", 0.97),
    ):
        pos = list(positions(eng, listed(name)).values())
        in10 = sum(1 for p in pos if p is not None and p <= 10)
        in20 = sum(1 for p in pos if p is not None and p <= 20)
        met = in10 >= need10 * len(pos) and in20 == len(pos)
        ok &= met
        print(
            f"{label}: {in10}/{len(pos)} within the first 10 candidates, {in20}/{len(pos)} within 20 "
            f"(target >= {need10:.0%} and all): {'PASS' if met else 'FAIL'}"
        )
    return ok


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
