"""Bench: handwriting recognition — accuracy on independent strokes, and latency per character.

300 of Jun Da's most frequent characters, drawn from hanzi-writer-data's stroke medians (npm, installed into a
cache on first run) with a finger's jitter; the right character among the first 5 candidates: target >= 90 %.
Latency: one ``Recognizer.recognize`` with the frequency prior (what the pad calls on each stroke), p95 target
<= 50 ms; the baseline, timed in the same run, is zinnia's own classify without the prior.

Run: ``python -m bench handwriting``.
"""

from __future__ import annotations

import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from drivers.handwriting import Recognizer
from tests.handwriting.strokes import common_characters, install, jittered, medians
from ui.pinyin.lexicon import load_or_build

TARGET_TOP5 = 0.90
TARGET_P95_MS = 50.0


def _pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round(q * (len(xs) - 1)))]


def main() -> int:
    pkg = install()
    if isinstance(pkg, str):
        print(f"SKIP: hanzi-writer-data unavailable: {pkg}")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        prior = load_or_build(Path(tmp)).character_counts()
    rec = Recognizer()
    rng = random.Random(12)
    chars = [ch for ch in common_characters(500) if medians(pkg, ch) is not None][:300]
    samples = [(ch, jittered(medians(pkg, ch), rng)) for ch in chars]
    hits = {1: 0, 5: 0, 10: 0}
    with_prior, plain = [], []
    for ch, strokes in samples:
        t0 = time.perf_counter()
        got = rec.recognize(strokes, n=10, prior=prior)
        with_prior.append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        rec.recognize(strokes, n=10)
        plain.append((time.perf_counter() - t0) * 1000)
        for k in hits:
            hits[k] += ch in got[:k]
    n = len(samples)
    top5 = hits[5] / n
    p95, base = _pct(with_prior, 0.95), _pct(plain, 0.95)
    print(
        f"{n} characters with jitter: top-1 {hits[1] / n:.1%}  top-5 {top5:.1%}  top-10 {hits[10] / n:.1%} "
        f"(target top-5 >= {TARGET_TOP5:.0%}: {'PASS' if top5 >= TARGET_TOP5 else 'FAIL'})"
    )
    print(
        f"recognize with prior: median {statistics.median(with_prior):.1f} ms  p95 {p95:.1f} ms "
        f"(target <= {TARGET_P95_MS:.0f} ms: {'PASS' if p95 <= TARGET_P95_MS else 'FAIL'}); "
        f"zinnia alone p95 {base:.1f} ms, ratio {p95 / base:.2f}"
    )
    rec.close()
    return 0 if top5 >= TARGET_TOP5 and p95 <= TARGET_P95_MS else 1


if __name__ == "__main__":
    sys.exit(main())
