"""Independent stroke data for the handwriting tests and bench: hanzi-writer-data's stroke medians (npm, derived from
the Make Me a Hanzi project), installed at test time into a cache directory with the ordinary npm client."""

from __future__ import annotations

import json
import math
import os
import random
import shutil
import subprocess
from pathlib import Path

from drivers.handwriting.zinnia import resample

PACKAGE = "hanzi-writer-data@2.0.1"
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "hall-kiosk" / "npm"
DATA = Path(__file__).resolve().parent.parent / "data"


def install() -> Path | str:
    """The package's directory, or why it could not be had (npm missing or the registry unreachable)."""
    pkg = CACHE / "node_modules" / "hanzi-writer-data"
    if (pkg / "十.json").is_file():
        return pkg
    if shutil.which("npm") is None:
        return "npm is not installed"
    CACHE.mkdir(parents=True, exist_ok=True)
    try:
        done = subprocess.run(
            ["npm", "install", "--prefix", str(CACHE), "--no-audit", "--no-fund", "--silent", PACKAGE],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return "npm install timed out (registry unreachable?)"
    if done.returncode != 0 or not (pkg / "十.json").is_file():
        return f"npm install {PACKAGE} failed: {(done.stderr or done.stdout).strip()[-300:]}"
    return pkg


def medians(pkg: Path, ch: str) -> list[list[tuple[float, float]]] | None:
    """The character's strokes as median lines, y downwards (the data's y grows upwards from a baseline at 900)."""
    f = pkg / f"{ch}.json"
    if not f.is_file():
        return None
    return [
        [(float(x), 900.0 - float(y)) for x, y in stroke]
        for stroke in json.loads(f.read_text("utf-8"))["medians"]
    ]


def jittered(strokes: list[list[tuple[float, float]]], rng: random.Random) -> list[list[tuple[float, float]]]:
    """As a finger draws it in a box: the whole character shifted, scaled, its aspect changed by up to 10 % and
    slightly sheared; each stroke moved a little and bowed by a slow wobble (a hand drifts, it does not shake at
    every point); points reported at a touch panel's rate, so spaced by the finger's speed (5-20 units per report
    in a 1000 box, varying per stroke), each rounded a little as a panel's coordinates are."""
    size, aspect = rng.uniform(0.7, 1.2), rng.uniform(0.9, 1.1)
    sx, sy = size * aspect, size / aspect
    shear, dx, dy = rng.uniform(-0.08, 0.08), rng.uniform(-80, 80), rng.uniform(-80, 80)
    out = []
    for stroke in strokes:
        ox, oy = rng.gauss(0, 12), rng.gauss(0, 12)
        pts = resample(stroke, rng.uniform(5, 20))
        phase, bow = rng.uniform(0, 2 * math.pi), rng.gauss(0, 6)
        wob = [
            (bow * math.sin(phase + 3 * i / len(pts)), bow * math.cos(phase + 3 * i / len(pts)))
            for i in range(len(pts))
        ]
        out.append(
            [
                (
                    (x + shear * y) * sx + dx + ox + wx + rng.gauss(0, 2),
                    y * sy + dy + oy + wy + rng.gauss(0, 2),
                )
                for (x, y), (wx, wy) in zip(pts, wob, strict=True)
            ]
        )
    return out


def common_characters(n: int) -> list[str]:
    """The first ``n`` of Jun Da's most frequent characters (tests/data, with its provenance)."""
    text = "".join(
        line
        for line in (DATA / "common_chars_500.txt").read_text("utf-8").splitlines()
        if not line.startswith("#")
    )
    return [ch for ch in text if not ch.isspace()][:n]
