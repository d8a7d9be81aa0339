"""Where clips are heard: ALSA through ``aplay``, a timestamped WAV sink (tests, bench), or nothing.

Each ``play`` blocks its caller (the voice's own thread, never the UI's) until the clip is played;
``stop`` from any thread cuts it short.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from drivers.speech.espeak import wav_bytes
from kiosk.errors import SpeechError
from kiosk.ports import Clip


def alsa_has_device(device: str = "") -> bool:
    """Whether ALSA has a sound card to play on (``aplay -l``; a named device is trusted as configured)."""
    if shutil.which("aplay") is None:
        return False
    if device:
        return True
    try:
        out = subprocess.run(["aplay", "-l"], capture_output=True, timeout=5, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return b"card " in out.stdout


class AplayOut:
    """ALSA playback through ``aplay`` (alsa-utils), the clip as WAV on its stdin."""

    name = "alsa"

    def __init__(self, device: str = "") -> None:
        self.device = device
        self._proc: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()

    def play(self, clip: Clip) -> None:
        cmd = ["aplay", "-q", "-t", "wav"] + (["-D", self.device] if self.device else []) + ["-"]
        try:
            proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stderr=subprocess.PIPE)
        except OSError as err:
            raise SpeechError(f"speech: cannot start aplay: {err}") from None
        with self._lock:
            self._proc = proc
        try:
            _, err = proc.communicate(wav_bytes(clip), timeout=clip.seconds + 10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise SpeechError("speech: aplay hung; the sound card may be held by another program") from None
        finally:
            with self._lock:
                self._proc = None
        if proc.returncode not in (0, -9, -15):  # killed by stop() is fine
            raise SpeechError(f"speech: aplay failed: {err.decode(errors='replace').strip()[:200]}")

    def stop(self) -> None:
        with self._lock:
            proc = self._proc
        if proc is not None and proc.poll() is None:
            proc.terminate()


class NullOut:
    """No sound device: nothing is heard (the utterance log still records what would have been said)."""

    name = "null"

    def play(self, clip: Clip) -> None:
        return None

    def stop(self) -> None:
        return None


@dataclass(frozen=True)
class SinkRecord:
    path: Path
    first_sample_at: float  # time.monotonic() when the first sample was written
    seconds: float


class WavSink:
    """Writes each clip to ``<dir>/<monotonic ns>.wav`` and notes when its first sample hit the disk.

    Plays in real time unless ``realtime`` is False, so ``stop`` and a newer utterance behave as on a speaker."""

    name = "wav"

    def __init__(self, directory: Path, *, realtime: bool = False) -> None:
        self.dir = directory
        self.realtime = realtime
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.records: list[SinkRecord] = []
        self._stop = threading.Event()
        self.written = threading.Condition()

    def play(self, clip: Clip) -> None:
        self._stop.clear()
        path = self.dir / f"{time.monotonic_ns()}.wav"
        data = wav_bytes(clip)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(data[:46])  # the header and the first sample
            f.flush()
            first = time.monotonic()
            f.write(data[46:])
        with self.written:
            self.records.append(SinkRecord(path, first, clip.seconds))
            self.written.notify_all()
        if self.realtime:
            self._stop.wait(clip.seconds)

    def stop(self) -> None:
        self._stop.set()

    def wait_for(self, n: int, timeout_s: float = 10) -> bool:
        """Block until ``n`` clips were written."""
        with self.written:
            return self.written.wait_for(lambda: len(self.records) >= n, timeout_s)
