"""Bench: voice latency — a screen is shown (``Voice.say``) -> its first sample is written to a timestamped WAV sink.

Measured cold (each sentence rendered by espeak-ng for the first time, empty cache) and warm (the sentence's
segments cached, as on a kiosk after its first hour), with the dynamic part (a count) varying. The baseline,
timed in the same run, is one bare ``espeak-ng --stdout`` call for the same sentence: the ratio says what the
voice's thread, cache and sink add to the engine itself. Target: p95 <= 300 ms, cold.

Run: ``python -m bench voice [--runs N]``.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from drivers.speech import EspeakEngine, WavSink
from kiosk.voice import Voice

TARGET_MS = 300.0
SCREENS = [
    ("start", "zh", ["欢迎使用自助服务终端，请点击您要办理的业务"]),
    ("identify", "zh", ["请将身份证放在读卡区，或将社保卡插入卡槽"]),
    ("pickup", "zh", ["请输入取件码"]),
    ("pickup", "zh", ["取件码不正确，还剩", "{n}", "次机会"]),
    ("door", "zh", ["柜门", "A0{n}", "已打开，请取出材料后关好柜门"]),
    ("door", "zh", ["请取回您的身份证"]),
    ("start", "en", ["Welcome. Tap what you would like to do."]),
    ("pickup", "en", ["Wrong code.", "{n}", "tries left."]),
    ("door", "en", ["Please take your ID card."]),
]


def _pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round(q * (len(xs) - 1)))]


def _latencies(voice: Voice, sink: WavSink, runs: int, offset: int) -> list[float]:
    out = []
    for r in range(runs):
        for screen, lang, parts in SCREENS:
            n = len(sink.records)
            t0 = time.monotonic()
            voice.say(screen, [p.format(n=(r + offset) % 9 + 1) for p in parts], lang)
            if not sink.wait_for(n + 1, 10):
                raise SystemExit(f"no sample within 10 s for {screen}")
            out.append((sink.records[n].first_sample_at - t0) * 1000)
    return out


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=10)
    args, _ = ap.parse_known_args(argv)  # `python -m bench voice` leaves "voice" in argv
    with tempfile.TemporaryDirectory() as tmp:
        sink = WavSink(Path(tmp) / "sink")
        voice = Voice(EspeakEngine(Path(tmp) / "cache"), sink)
        cold = _latencies(voice, sink, 1, 0)
        warm = _latencies(voice, sink, args.runs, 0)
        voice.close()
    base = []
    for _ in range(args.runs):
        for _s, lang, parts in SCREENS:
            t0 = time.monotonic()
            subprocess.run(
                ["espeak-ng", "-v", "cmn" if lang == "zh" else "en-gb", "--stdout", "".join(parts)],
                capture_output=True,
                check=True,
            )
            base.append((time.monotonic() - t0) * 1000)
    p95c, p95w, p95b = _pct(cold, 0.95), _pct(warm, 0.95), _pct(base, 0.95)
    print(
        f"screen -> first sample, cold (espeak-ng renders): p50 {_pct(cold, 0.5):.1f} ms  p95 {p95c:.1f} ms"
    )
    print(f"screen -> first sample, warm (cached segments):  p50 {_pct(warm, 0.5):.1f} ms  p95 {p95w:.1f} ms")
    print(
        f"baseline: one bare espeak-ng call:                p50 {_pct(base, 0.5):.1f} ms  p95 {p95b:.1f} ms"
    )
    print(
        f"ratio warm/baseline p95: {p95w / p95b:.2f}   cold/baseline: {p95c / p95b:.2f}   target p95 <= {TARGET_MS:.0f} ms"
    )
    ok = max(p95c, p95w) <= TARGET_MS
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
