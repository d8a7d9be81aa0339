"""Voice guidance: what the kiosk says, in which order, how loud, and the log of what it said.

The UI (and the runtime) depend on :class:`Voice` only; an engine (``drivers.speech``: espeak-ng) renders
text to clips, an output (ALSA ``aplay``, a WAV sink, or nothing) plays them. ``say`` never blocks: it
records the utterance and hands it to one worker thread, so a slow engine or a busy sound card never
holds up the screen. A newer utterance cuts the one being spoken short (a citizen who taps on does not
want to hear the previous screen finish).

An utterance is a sequence of *segments*: the fixed sentence parts and the dynamic parts (a count, a
compartment label) are rendered separately and cached, so "还剩 2 次机会" costs one cached lookup per
part after the first time, and numbers are rendered once each.
"""

from __future__ import annotations

import logging
import queue
import re
import threading
import time
from array import array
from collections import OrderedDict, deque
from collections.abc import Sequence
from dataclasses import dataclass

from kiosk.errors import KioskError
from kiosk.ports import AudioOut, Clip, SpeechEngine

log = logging.getLogger(__name__)

VOLUME_STEPS: tuple[float, ...] = (0.25, 0.45, 0.65, 0.85, 1.0)  # what the - / + buttons step through
DEFAULT_STEP = 3
GAP_S = 0.08  # silence between segments, so "还剩" "2" "次" does not run together
# Segments kept in memory, by size: 16-bit PCM at 22 kHz is 44 kB a second, so 512 segments (the old bound by
# count) could hold 50 MB once every case number, code and minute count read out had one. 16 MB is about six
# minutes of speech: every fixed sentence of the catalogue, and the recent numbers; the least recently used go.
CACHE_BYTES = 16 * 2**20
# Numbers in a sentence (tries left, minutes, a door's label) are segments of their own: "还剩 3 次" and "还剩 2 次"
# share the cached "还剩" and "次", and each number is rendered once.
_DYNAMIC = re.compile(r"(\d+)")


@dataclass(frozen=True)
class Utterance:
    """One thing said: on which screen, the whole text, in which language; ``at`` is time.monotonic()."""

    screen: str
    text: str
    lang: str
    at: float


class Voice:
    """The kiosk's one voice. Thread-safe; ``say`` returns at once."""

    def __init__(
        self,
        engine: SpeechEngine | None,
        out: AudioOut | None,
        *,
        log_size: int = 200,
        default_step: int = DEFAULT_STEP,
    ) -> None:
        self.engine = engine
        self.out = out
        self.default_step = default_step
        self.step = default_step
        self.muted = False
        self.slow = False  # elder mode: slower speech
        self.log: deque[Utterance] = deque(maxlen=log_size)
        self._cache: OrderedDict[tuple[str, str, bool], Clip] = OrderedDict()
        self._cache_bytes = 0  # PCM bytes in _cache
        self._lock = threading.Lock()
        self._queue: queue.Queue[tuple[int, Utterance, tuple[str, ...]] | None] = queue.Queue()
        self._serial = 0  # the newest utterance; older queued ones are skipped
        self._last: tuple[str, str, tuple[str, ...]] | None = None
        self._thread: threading.Thread | None = None
        self.played: deque[Utterance] = deque(maxlen=log_size)  # played to the end or cut short, in order
        self.played_total = 0  # how many ever (the n-th clip an output received is the n-th played)

    @property
    def audible(self) -> bool:
        """Whether anything can be heard at all (an engine and a real output)."""
        return self.engine is not None and self.out is not None

    # --- what the screens call ---------------------------------------------------------------------------------
    def say(self, screen: str, segments: str | Sequence[str], lang: str) -> Utterance:
        """Say ``segments`` (joined, they are the text) for ``screen``; logged even when muted or silent."""
        parts = tuple(
            p
            for s in ([segments] if isinstance(segments, str) else segments)
            for p in _DYNAMIC.split(s)
            if p.strip()
        )
        utt = Utterance(
            screen=screen,
            text="".join(parts) if lang == "zh" else " ".join(p.strip() for p in parts),
            lang=lang,
            at=time.monotonic(),
        )
        with self._lock:
            self.log.append(utt)
            self._last = (screen, lang, parts)
            self._serial += 1
            serial = self._serial
        if self.audible and not self.muted:
            self._ensure_thread()
            self._queue.put((serial, utt, parts))
            if self.out is not None:
                self.out.stop()  # cut the previous one short; the worker picks the newest next
        return utt

    def repeat(self) -> Utterance | None:
        """Say the last utterance again (the 重听 / Repeat button), even if it was muted then."""
        last = self._last
        if last is None:
            return None
        screen, lang, parts = last
        return self.say(screen, parts, lang)

    def louder(self) -> int:
        self.step = min(len(VOLUME_STEPS) - 1, self.step + 1)
        self.muted = False
        return self.step

    def softer(self) -> int:
        self.step = max(0, self.step - 1)
        return self.step

    def set_muted(self, muted: bool) -> None:
        self.muted = muted
        if muted:
            self.silence()

    def silence(self) -> None:
        """Stop speaking now (nothing queued is spoken)."""
        with self._lock:
            self._serial += 1
        if self.out is not None:
            self.out.stop()

    def new_session(self) -> None:
        """A new person: the volume, mute and speed the previous one chose do not carry over."""
        self.silence()
        self.step = self.default_step
        self.muted = False
        self.slow = False
        with self._lock:
            self._last = None

    def said(self, screen: str | None = None) -> list[str]:
        """The texts said so far (on ``screen``), oldest first."""
        return [u.text for u in list(self.log) if screen is None or u.screen == screen]

    def close(self) -> None:
        self.silence()
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout=2)
            self._thread = None

    # --- rendering ------------------------------------------------------------------------------------------------
    def clip_for(self, parts: Sequence[str], lang: str) -> Clip:
        """The whole utterance as one clip at the current volume, from cached segments."""
        assert self.engine is not None
        clips = [self._segment(p, lang) for p in parts]
        rate = clips[0].rate if clips else 22050
        gap = b"\0\0" * int(rate * GAP_S)
        pcm = gap.join(c.pcm for c in clips if c.rate == rate)
        return Clip(pcm=_scaled(pcm, VOLUME_STEPS[self.step]), rate=rate)

    def _segment(self, text: str, lang: str) -> Clip:
        key = (text.strip(), lang, self.slow)
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None:
                self._cache.move_to_end(key)
                return hit
        assert self.engine is not None
        clip = self.engine.render(key[0], lang, slow=self.slow)
        with self._lock:
            old = self._cache.pop(key, None)  # rendered twice at once (two threads): count it once
            self._cache_bytes += len(clip.pcm) - (len(old.pcm) if old is not None else 0)
            self._cache[key] = clip
            while self._cache_bytes > CACHE_BYTES and len(self._cache) > 1:
                self._cache_bytes -= len(self._cache.popitem(last=False)[1].pcm)
        return clip

    def cache_bytes(self) -> int:
        """PCM bytes of the segments kept in memory (at most CACHE_BYTES, or one segment's)."""
        with self._lock:
            return self._cache_bytes

    def warm(self, texts: Sequence[tuple[str, str]]) -> None:
        """Render (text, lang) segments ahead of need, on the calling thread (start-up, after the first frame)."""
        if self.engine is None:
            return
        for text, lang in texts:
            try:
                self._segment(text, lang)
            except KioskError as err:
                log.warning("voice: cannot pre-render a segment: %s", err.message)
                return

    # --- the worker -----------------------------------------------------------------------------------------------
    def _ensure_thread(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._run, name="voice", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            serial, utt, parts = item
            if serial != self._serial or self.muted:
                continue  # something newer was said, or the citizen muted meanwhile
            try:
                clip = self.clip_for(parts, utt.lang)
                if serial != self._serial or self.out is None:
                    continue
                try:
                    self.out.play(clip)
                finally:
                    with self._lock:
                        self.played.append(utt)
                        self.played_total += 1
            except KioskError as err:
                log.warning("voice: %s", err.message)
            except Exception:  # the voice must never take the kiosk down
                log.exception("voice: unexpected failure")


def _scaled(pcm: bytes, factor: float) -> bytes:
    if factor >= 0.999:
        return pcm
    samples = array("h")
    samples.frombytes(pcm)
    return array("h", (int(s * factor) for s in samples)).tobytes()
