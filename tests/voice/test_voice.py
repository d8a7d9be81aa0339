"""Voice guidance: espeak-ng renders real speech, measured from the WAV files it writes; the voice never blocks.

Each utterance is rendered through the real engine and written by the WAV sink; the tests read the files back
with ``wave`` and check they carry sound (RMS well above silence) for a duration that fits their text.
"""

from __future__ import annotations

import math
import shutil
import subprocess
import threading
import time
import wave
from array import array
from pathlib import Path

import pytest

from drivers.speech import EspeakEngine, NullOut, WavSink, build_voice
from drivers.speech.espeak import read_wav, wav_bytes
from kiosk.config import VoiceConfig
from kiosk.errors import SpeechError
from kiosk.ports import AudioOut, Clip, SpeechEngine
from kiosk.voice import VOLUME_STEPS, Voice

pytestmark = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed")


def rms(pcm: bytes) -> float:
    a = array("h")
    a.frombytes(pcm)
    return math.sqrt(sum(s * s for s in a) / max(1, len(a)))


def measure(path: Path) -> tuple[float, float]:
    """(seconds, RMS) of a WAV file, read with the standard library."""
    with wave.open(str(path)) as w:
        assert (w.getnchannels(), w.getsampwidth()) == (1, 2)
        pcm = w.readframes(w.getnframes())
        return w.getnframes() / w.getframerate(), rms(pcm)


def plausible(text: str, lang: str, seconds: float) -> bool:
    """Mandarin: 0.12-0.6 s per character; English: 0.03-0.15 s per letter (espeak at 150 wpm is ~0.06)."""
    if lang == "zh":
        n = sum(1 for ch in text if "\u4e00" <= ch <= "\u9fff") + sum(ch.isdigit() for ch in text)
        return 0.12 * n <= seconds <= 0.6 * n + 0.5
    n = sum(ch.isalnum() for ch in text)
    return 0.03 * n <= seconds <= 0.15 * n + 0.5


@pytest.fixture
def sink(tmp_path: Path) -> WavSink:
    return WavSink(tmp_path / "sink")


@pytest.fixture
def voice(tmp_path: Path, sink: WavSink) -> Voice:
    v = Voice(EspeakEngine(tmp_path / "cache"), sink)
    yield v
    v.close()


UTTERANCES = [
    ("zh", ("请取回您的身份证",)),
    ("zh", ("密码不正确，还剩", "2", "次机会")),
    ("zh", ("请将身份证放在读卡区",)),
    ("en", ("Please take your ID card.",)),
    ("en", ("Wrong code.", "2", "tries left.")),
]


@pytest.mark.parametrize(("lang", "parts"), UTTERANCES)
def test_each_utterance_is_real_speech_of_plausible_length(
    voice: Voice, sink: WavSink, lang: str, parts: tuple[str, ...]
) -> None:
    utt = voice.say("pickup", parts, lang)
    assert sink.wait_for(1), "nothing was written to the sink"
    seconds, level = measure(sink.records[0].path)
    assert level > 500, f"{utt.text!r} is (nearly) silent: RMS {level:.0f}"
    assert plausible(utt.text, lang, seconds), f"{utt.text!r} lasts {seconds:.2f} s"
    # soxi (sox) agrees with the standard library on the length: the header is right.
    if shutil.which("soxi"):
        out = subprocess.run(
            ["soxi", "-D", str(sink.records[0].path)], capture_output=True, text=True, check=True
        )
        assert abs(float(out.stdout) - seconds) < 0.01


def test_the_log_records_screen_and_text_even_when_muted(voice: Voice, sink: WavSink) -> None:
    voice.say("identify", "请将身份证放在读卡区", "zh")
    assert sink.wait_for(1)
    voice.set_muted(True)
    voice.say("pickup", ["密码不正确，还剩", "2", "次机会"], "zh")
    time.sleep(0.3)
    assert [(u.screen, u.text) for u in voice.log] == [
        ("identify", "请将身份证放在读卡区"),
        ("pickup", "密码不正确，还剩2次机会"),
    ]
    assert len(sink.records) == 1, "a muted voice was heard"
    voice.new_session()
    assert not voice.muted and voice.step == voice.default_step


def test_segments_are_cached_and_counts_rendered_once(tmp_path: Path) -> None:
    calls: list[str] = []
    real = EspeakEngine(tmp_path / "cache")

    class Counting:
        def render(self, text: str, lang: str, *, slow: bool = False) -> Clip:
            calls.append(text)
            return real.render(text, lang, slow=slow)

    v = Voice(Counting(), NullOut())
    v.clip_for(["还剩", "3", "次机会"], "zh")
    v.clip_for(["还剩", "2", "次机会"], "zh")
    v.clip_for(["还剩", "3", "次机会"], "zh")
    assert calls == ["还剩", "3", "次机会", "2"]
    # The disk cache serves a fresh engine without running espeak-ng again: same samples.
    again = EspeakEngine(tmp_path / "cache")
    assert again.render("还剩", "zh").pcm == real.render("还剩", "zh").pcm
    assert oct((tmp_path / "cache").stat().st_mode & 0o777) == "0o700"
    assert all(oct(p.stat().st_mode & 0o777) == "0o600" for p in (tmp_path / "cache").iterdir())


def test_joined_segments_are_longer_than_each_and_volume_steps_scale(tmp_path: Path) -> None:
    v = Voice(EspeakEngine(tmp_path / "c"), NullOut())
    whole = v.clip_for(["密码不正确，还剩", "2", "次机会"], "zh")
    parts = [v.clip_for([p], "zh") for p in ("密码不正确，还剩", "2", "次机会")]
    assert whole.seconds > sum(p.seconds for p in parts)  # the parts plus the gaps between them
    loud = rms(whole.pcm)
    v.step = 0
    quiet = rms(v.clip_for(["密码不正确，还剩", "2", "次机会"], "zh").pcm)
    assert quiet == pytest.approx(loud * VOLUME_STEPS[0] / VOLUME_STEPS[3], rel=0.02)


def test_slow_speech_for_elder_mode_is_slower(tmp_path: Path) -> None:
    e = EspeakEngine(tmp_path / "c")
    assert (
        e.render("请取回您的身份证", "zh", slow=True).seconds
        > 1.2 * e.render("请取回您的身份证", "zh").seconds
    )


def test_say_never_blocks_on_a_slow_engine_and_the_newest_wins(tmp_path: Path) -> None:
    gate = threading.Event()
    real = EspeakEngine(tmp_path / "c")

    class Slow:
        def render(self, text: str, lang: str, *, slow: bool = False) -> Clip:
            gate.wait(5)
            return real.render(text, lang)

    sink = WavSink(tmp_path / "s")
    v = Voice(Slow(), sink)
    t0 = time.perf_counter()
    for i in range(5):
        v.say("start", f"第{i}句", "zh")
    assert time.perf_counter() - t0 < 0.05, "say() waited for the engine"
    gate.set()
    assert sink.wait_for(1)
    time.sleep(0.3)
    assert (
        len(sink.records) <= 2
    )  # the first (already rendering) and the newest; the ones between are skipped
    v.close()


def test_repeat_says_the_last_again(voice: Voice, sink: WavSink) -> None:
    assert voice.repeat() is None
    voice.say("door", "柜门已打开，请取出材料后关门", "zh")
    assert sink.wait_for(1)
    assert voice.repeat() is not None and sink.wait_for(2)
    assert voice.said("door") == ["柜门已打开，请取出材料后关门"] * 2


def test_unknown_language_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(SpeechError, match="no voice for language 'fr'"):
        EspeakEngine(tmp_path).render("bonjour", "fr")


def test_a_missing_binary_is_a_speech_error_and_the_voice_carries_on(tmp_path: Path, sink: WavSink) -> None:
    v = Voice(EspeakEngine(tmp_path, binary="/nonexistent/espeak-ng"), sink)
    v.say("start", "你好", "zh")
    time.sleep(0.3)
    assert sink.records == [] and v.said() == ["你好"]
    v.close()


def test_ports_are_satisfied_and_wav_roundtrip() -> None:
    assert isinstance(EspeakEngine(), SpeechEngine)
    assert isinstance(NullOut(), AudioOut)
    clip = Clip(b"\x01\x00" * 100, 16000)
    assert read_wav(wav_bytes(clip)) == clip


def test_build_voice_without_a_sound_card_is_silent_but_logs(tmp_path: Path) -> None:
    v = build_voice(VoiceConfig(output="null"), tmp_path)
    assert isinstance(v.out, NullOut)
    assert not build_voice(VoiceConfig(enabled=False), tmp_path).audible
    w = build_voice(VoiceConfig(output="wav", wav_dir=str(tmp_path / "w")), tmp_path)
    assert isinstance(w.out, WavSink)
    with pytest.raises(ValueError, match="wav_dir"):
        VoiceConfig(output="wav")


def test_the_segment_cache_is_bounded_by_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every case number and code read out is a segment of its own: over months they must not fill memory. The
    least recently used segments go past CACHE_BYTES; the ones in use stay."""
    import kiosk.voice as voice_mod

    calls: list[str] = []

    class Tone:  # a stand-in engine with known sizes: one second of PCM per segment (espeak-ng is tested above)
        def render(self, text: str, lang: str, *, slow: bool = False) -> Clip:
            calls.append(text)
            return Clip(b"\1\0" * 22050, 22050)

    monkeypatch.setattr(voice_mod, "CACHE_BYTES", 10 * 44100)  # ten seconds
    v = Voice(Tone(), NullOut())
    for n in range(100):
        v.clip_for(["您的办件编号", str(20260000 + n)], "zh")
    assert v.cache_bytes() == 10 * 44100  # ten one-second segments: full, not over
    assert calls.count("您的办件编号") == 1, "the sentence used every time stays cached"
    v.clip_for([str(20260099)], "zh")
    v.clip_for([str(20260000)], "zh")  # long gone: rendered again
    assert calls.count("20260099") == 1 and calls.count("20260000") == 2
