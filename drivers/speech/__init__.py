"""Speech: espeak-ng renders text to clips; ALSA ``aplay``, a WAV sink or nothing plays them.

:func:`build_voice` composes the kiosk's :class:`kiosk.voice.Voice` from the ``[voice]`` configuration.
"""

from __future__ import annotations

import logging
from pathlib import Path

from drivers.speech.espeak import EspeakEngine
from drivers.speech.outputs import AplayOut, NullOut, WavSink, alsa_has_device
from kiosk.config import VoiceConfig
from kiosk.voice import Voice

__all__ = ["AplayOut", "EspeakEngine", "NullOut", "WavSink", "build_voice"]
log = logging.getLogger(__name__)


def build_voice(vc: VoiceConfig, cache_dir: Path) -> Voice:
    """The voice the configuration asks for. No sound card: the null output, said once in the log."""
    if not vc.enabled:
        log.info("voice: off by configuration")
        return Voice(None, None, default_step=vc.volume_step)
    engine = EspeakEngine(cache_dir / "speech", wpm=vc.words_per_minute)
    if vc.output == "wav":
        out: object = WavSink(Path(vc.wav_dir).expanduser())
    elif vc.output == "alsa" and alsa_has_device(vc.alsa_device):
        out = AplayOut(vc.alsa_device)
    else:
        log.warning("voice: no sound device (output=%s); guidance is on screen only", vc.output)
        out = NullOut()
    return Voice(engine, out, default_step=vc.volume_step)  # type: ignore[arg-type]
