"""Independent stroke data for the handwriting tests and bench: hanzi-writer-data's stroke medians (npm, derived from
the Make Me a Hanzi project), installed at test time into a cache directory with the ordinary npm client."""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
from pathlib import Path

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
        done = subprocess.run(["npm", "install", "--prefix", str(CACHE), "--no-audit", "--no-fund", "--silent", PACKAGE],
                              capture_output=True, text=True, timeout=300, check=False)
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
    return [[(float(x), 900.0 - float(y)) for x, y in stroke] for stroke in json.loads(f.read_text("utf-8"))["medians"]]


def jittered(strokes: list[list[tuple[float, float]]], rng: random.Random) -> list[list[tuple[float, float]]]:
    """As a finger draws it: the whole character shifted, scaled and slightly sheared; each stroke moved a little;
    every point wobbling; points resampled along each line (a finger reports more points than a median has)."""
    sx, sy = rng.uniform(0.7, 1.2), rng.uniform(0.7, 1.2)
    shear, dx, dy = rng.uniform(-0.08, 0.08), rng.uniform(-80, 80), rng.uniform(-80, 80)
    out = []
    for stroke in strokes:
        ox, oy = rng.gauss(0, 12), rng.gauss(0, 12)
        pts = []
        for (x1, y1), (x2, y2) in zip(stroke, stroke[1:] or stroke, strict=False):
            for t in (0.0, 0.33, 0.66):
                x, y = x1 + (x2 - x1) * t, y1 + (y2 - y1) * t
                pts.append((x, y))
        pts.append(stroke[-1])
        out.append([((x + shear * y) * sx + dx + ox + rng.gauss(0, 8), y * sy + dy + oy + rng.gauss(0, 8))
                    for x, y in pts])
    return out


def common_characters(n: int) -> list[str]:
    """The first ``n`` of Jun Da's most frequent characters (tests/data, with its provenance)."""
    text = "".join(line for line in (DATA / "common_chars_500.txt").read_text("utf-8").splitlines()
                   if not line.startswith("#"))
    return [ch for ch in text if not ch.isspace()][:n]
