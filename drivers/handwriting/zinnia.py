"""A small ctypes binding to libzinnia (Debian has no Python binding), and the recognizer the handwriting pad uses.

zinnia classifies a character from its strokes, each a list of points, drawn on a canvas of a stated size; the
Tegaki model (tegaki-zinnia-simplified-chinese) covers the GB2312 characters. Everything runs offline.
One zinnia recognizer is not safe to share between threads: :class:`Recognizer` serialises calls.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import itertools
import math
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path

from kiosk.errors import DeviceError

DEFAULT_MODEL = Path("/usr/share/tegaki/models/zinnia/handwriting-zh_CN.model")
CANVAS = 1000  # strokes are scaled into a CANVAS x CANVAS box before classifying (the model's own scale)
CHAR_SHARE = 0.5  # of the canvas the drawn character's longer side fills
WIDE = 50  # zinnia candidates the frequency prior re-ranks
STEP = (
    20.0  # canvas units between the points zinnia is given (strokes are resampled evenly along their length)
)
PRIOR_WEIGHT = 0.2  # per unit of log frequency, against zinnia's score (about -2 .. 1)
Stroke = Sequence[tuple[float, float]]  # points in drawing order; y grows downwards, as zinnia expects


def resample(stroke: Stroke, step: float) -> list[tuple[float, float]]:
    """The stroke as points every ``step`` along its length, both ends kept.

    A finger on a touch screen reports points at the screen's rate, so their spacing follows the finger's speed and
    the panel; Tegaki's samples were captured at a fixed rate. Even spacing makes the pad's strokes, a fast flick or
    a slow trace, look alike to zinnia whatever the panel reports."""
    pts = [(float(x), float(y)) for x, y in stroke]
    if len(pts) < 2:
        return pts
    out = [pts[0]]
    need = step  # distance still to go along the line before the next point
    for (x1, y1), (x2, y2) in itertools.pairwise(pts):
        d = math.hypot(x2 - x1, y2 - y1)
        at = need
        while at <= d:
            out.append((x1 + (x2 - x1) * at / d, y1 + (y2 - y1) * at / d))
            at += step
        need = at - d
    if math.dist(out[-1], pts[-1]) > step / 4:
        out.append(pts[-1])
    else:
        out[-1] = pts[-1]
    return out


class HandwritingError(DeviceError):
    """The recognizer cannot run (library or model missing); the keyboard and pinyin still work."""

    citizen_key = "error.handwriting"
    hint = "Install libzinnia0 and tegaki-zinnia-simplified-chinese (make deps installs both)."


def _load() -> ctypes.CDLL:
    name = ctypes.util.find_library("zinnia") or "libzinnia.so.0"
    try:
        lib = ctypes.CDLL(name)
    except OSError:
        raise HandwritingError(
            "handwriting: libzinnia is not installed (Debian package libzinnia0)"
        ) from None
    vp, sz = ctypes.c_void_p, ctypes.c_size_t
    for fn, res, args in (
        ("zinnia_recognizer_new", vp, []),
        ("zinnia_recognizer_destroy", None, [vp]),
        ("zinnia_recognizer_open", ctypes.c_int, [vp, ctypes.c_char_p]),
        ("zinnia_recognizer_strerror", ctypes.c_char_p, [vp]),
        ("zinnia_recognizer_classify", vp, [vp, vp, sz]),
        ("zinnia_character_new", vp, []),
        ("zinnia_character_destroy", None, [vp]),
        ("zinnia_character_set_width", None, [vp, sz]),
        ("zinnia_character_set_height", None, [vp, sz]),
        ("zinnia_character_clear", None, [vp]),
        ("zinnia_character_add", ctypes.c_int, [vp, sz, ctypes.c_int, ctypes.c_int]),
        ("zinnia_result_value", ctypes.c_char_p, [vp, sz]),
        ("zinnia_result_score", ctypes.c_float, [vp, sz]),
        ("zinnia_result_size", sz, [vp]),
        ("zinnia_result_destroy", None, [vp]),
    ):
        f = getattr(lib, fn)
        f.restype, f.argtypes = res, args
    return lib


class Recognizer:
    """Strokes in, the ``n`` likeliest characters out, best first."""

    def __init__(self, model: Path = DEFAULT_MODEL) -> None:
        if not model.is_file():
            raise HandwritingError(
                f"handwriting: no model at {model} (Debian package tegaki-zinnia-simplified-chinese)"
            )
        self._lib = _load()
        self._rec = self._lib.zinnia_recognizer_new()
        if not self._lib.zinnia_recognizer_open(self._rec, str(model).encode()):
            err = self._lib.zinnia_recognizer_strerror(self._rec)
            self._lib.zinnia_recognizer_destroy(self._rec)
            raise HandwritingError(
                f"handwriting: cannot open {model}: {(err or b'').decode(errors='replace')}"
            )
        self._char = self._lib.zinnia_character_new()
        self._lock = threading.Lock()

    def recognize(
        self, strokes: Sequence[Stroke], n: int = 10, prior: Mapping[str, float] | None = None
    ) -> list[str]:
        """The ``n`` likeliest characters for ``strokes`` (any coordinates), best first. Empty strokes: [].

        ``prior``: how common each character is (any scale). zinnia's own scores are re-weighted by it among its
        first WIDE candidates, as a phone's handwriting input does: of two shapes nearly as close, the everyday
        character is the likelier one (2-5 points more in the top five on the test set)."""
        return [c for c, _ in self.scored(strokes, n, prior)]

    def scored(
        self, strokes: Sequence[Stroke], n: int = 10, prior: Mapping[str, float] | None = None
    ) -> list[tuple[str, float]]:
        pts = [p for s in strokes for p in s]
        if not pts:
            return []
        x0, y0 = min(p[0] for p in pts), min(p[1] for p in pts)
        w, h = max(p[0] for p in pts) - x0, max(p[1] for p in pts) - y0
        # Aspect kept and centred (a flat 一 is not stretched into a square), the character filling the middle
        # CHAR_SHARE of the canvas: the Tegaki model scores written characters best at that size.
        f = CANVAS * CHAR_SHARE / max(w, h, 1e-9)
        ox, oy = (CANVAS - w * f) / 2, (CANVAS - h * f) / 2
        lib = self._lib
        with self._lock:
            lib.zinnia_character_clear(self._char)
            lib.zinnia_character_set_width(self._char, CANVAS)
            lib.zinnia_character_set_height(self._char, CANVAS)
            for i, stroke in enumerate(s for s in strokes if s):
                for x, y in resample([(ox + (x - x0) * f, oy + (y - y0) * f) for x, y in stroke], STEP):
                    lib.zinnia_character_add(self._char, i, round(x), round(y))
            res = lib.zinnia_recognizer_classify(self._rec, self._char, max(n, WIDE) if prior else n)
            if not res:
                return []
            try:
                got = [
                    (
                        lib.zinnia_result_value(res, i).decode("utf-8", errors="replace"),
                        lib.zinnia_result_score(res, i),
                    )
                    for i in range(lib.zinnia_result_size(res))
                ]
            finally:
                lib.zinnia_result_destroy(res)
        if prior:
            got = sorted(
                ((c, sc + PRIOR_WEIGHT * math.log1p(prior.get(c, 0))) for c, sc in got), key=lambda e: -e[1]
            )
        return got[:n]

    def close(self) -> None:
        with self._lock:
            if self._rec:
                self._lib.zinnia_character_destroy(self._char)
                self._lib.zinnia_recognizer_destroy(self._rec)
                self._rec = None
