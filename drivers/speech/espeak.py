"""espeak-ng as a subprocess: Mandarin (``-v cmn``) and English, rendered to WAV, cached on disk.

espeak-ng is Debian's offline synthesiser (nothing is downloaded); one call takes ~20 ms. Clips are kept
in ``cache_dir`` named by a hash of (voice, speed, text): the fixed sentences of the catalogue are
rendered once per install, not once per citizen. The directory is 0700 and the files 0600.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import subprocess
import wave
from pathlib import Path

from kiosk.errors import SpeechError
from kiosk.ports import Clip

VOICES = {"zh": "cmn", "en": "en-gb"}
TIMEOUT_S = 10


def read_wav(data: bytes) -> Clip:
    """A clip from WAV bytes (mono 16-bit, as espeak-ng writes)."""
    with wave.open(io.BytesIO(data)) as w:
        if w.getsampwidth() != 2 or w.getnchannels() != 1:
            raise SpeechError(
                f"speech: expected mono 16-bit WAV, got {w.getnchannels()} ch x {w.getsampwidth()} B"
            )
        return Clip(w.readframes(w.getnframes()), w.getframerate())


def wav_bytes(clip: Clip) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(clip.rate)
        w.writeframes(clip.pcm)
    return buf.getvalue()


class EspeakEngine:
    """:class:`kiosk.ports.SpeechEngine` on the espeak-ng command."""

    def __init__(self, cache_dir: Path | None = None, *, wpm: int = 150, binary: str = "espeak-ng") -> None:
        self.cache_dir = cache_dir
        self.wpm = wpm
        self.binary = shutil.which(binary) or binary
        if cache_dir is not None:
            cache_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
            os.chmod(cache_dir, 0o700)

    def _speed(self, slow: bool) -> int:
        return max(80, int(self.wpm * 0.75)) if slow else self.wpm

    def render(self, text: str, lang: str, *, slow: bool = False) -> Clip:
        voice = VOICES.get(lang)
        if voice is None:
            raise SpeechError(f"speech: no voice for language {lang!r} (have: {', '.join(VOICES)})")
        speed = self._speed(slow)
        path = None
        if self.cache_dir is not None:
            key = hashlib.sha256(f"{voice}\0{speed}\0{text}".encode()).hexdigest()[:32]
            path = self.cache_dir / f"{key}.wav"
            try:
                return read_wav(path.read_bytes())
            except (OSError, EOFError, wave.Error, SpeechError):
                pass  # not cached yet, or a torn file from a power cut: render again
        data = self._run(text, voice, speed)
        clip = read_wav(data)
        if path is not None:
            tmp = path.with_suffix(".tmp")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, path)
        return clip

    def _run(self, text: str, voice: str, speed: int) -> bytes:
        # The text goes on stdin, never on the command line (ps shows arguments to every user).
        cmd = [self.binary, "-v", voice, "-s", str(speed), "--stdin", "--stdout"]
        try:
            proc = subprocess.run(
                cmd, input=text.encode(), capture_output=True, timeout=TIMEOUT_S, check=False
            )
        except FileNotFoundError:
            raise SpeechError("speech: espeak-ng is not installed (Debian package espeak-ng)") from None
        except subprocess.TimeoutExpired:
            raise SpeechError(f"speech: espeak-ng did not finish within {TIMEOUT_S} s") from None
        if proc.returncode != 0 or len(proc.stdout) < 44:
            err = proc.stderr.decode(errors="replace").strip().splitlines()
            raise SpeechError(f"speech: espeak-ng -v {voice} failed: {err[-1] if err else proc.returncode}")
        return _fix_stream_header(proc.stdout)


def _fix_stream_header(data: bytes) -> bytes:
    """espeak-ng --stdout cannot seek back, so its RIFF and data sizes are placeholders; set the real ones."""
    if data[:4] != b"RIFF" or data[36:40] != b"data":
        return data
    n = len(data) - 44
    return data[:4] + (n + 36).to_bytes(4, "little") + data[8:40] + n.to_bytes(4, "little") + data[44:]
