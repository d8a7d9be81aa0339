"""Voice guidance in the real window: what is said on each state of a pickup journey, heard as real WAV files.

The kiosk under test speaks through the WAV sink (tests/ui/conftest: [voice] output = "wav"); each utterance is
asserted in the utterance log (screen, text) and the files are measured: sound, for about as long as the text.
"""

from __future__ import annotations

import math
import wave
from array import array
from pathlib import Path

import pytest

from tests.ui.flows import deposit_ready, slot_of
from tests.ui.harness import Driver


def said(k: Driver, since: int) -> list[tuple[str, str]]:
    """What was said from the ``since``-th utterance of this test on (each test starts with an empty log)."""
    return [(u.screen, u.text) for u in list(k.rt.voice.log)[since:]]


@pytest.fixture(autouse=True)
def fresh_log(k: Driver) -> None:
    k.rt.voice.log.clear()  # the log keeps the last 200: positions count from this test's start


def heard(k: Driver, text: str) -> Path:
    """The WAV file the voice wrote for ``text`` (the voice plays in order; the sink records in the same order)."""
    v = k.rt.voice
    sink = v.out

    def found() -> Path | None:
        played, total = list(v.played), v.played_total  # the n-th clip played is the sink's n-th record
        hits = [sink.records[total - len(played) + i].path for i, u in enumerate(played) if u.text == text]
        return hits[-1] if hits else None

    return k.wait_for(found, what=f"{text!r} to be heard")


def measure(path: Path) -> tuple[float, float]:
    with wave.open(str(path)) as w:
        a = array("h")
        a.frombytes(w.readframes(w.getnframes()))
        return w.getnframes() / w.getframerate(), math.sqrt(sum(x * x for x in a) / max(1, len(a)))


def test_pickup_journey_is_spoken_and_heard(k: Driver) -> None:
    v = k.rt.voice
    assert k.app.voice_available and k.app.root.ids.voicebar.height > 0
    code, label = deposit_ready(k)
    n0, files = len(v.log), []
    k.tap_id("btn_pickup", "start")
    assert said(k, n0)[-1] == ("pickup", k.t("voice.pickup"))
    files.append(heard(k, k.t("voice.pickup")))
    pad = k.app.screen.ids.numpad
    # A wrong code: its message, with the tries left, is said as shown.
    k.keys(pad, "9" + code[1:] if code[0] != "9" else "0" + code[1:])
    k.tap_id("btn_open")
    k.wait_for(lambda: k.app.screen.error, what="the wrong-code message")
    files.append(heard(k, k.app.screen.error))
    assert said(k, n0)[-1] == ("pickup", k.app.screen.error)
    assert "还可以再试 2 次" in said(k, n0)[-1][1]
    # Repeat says it again; mute silences it for this session; louder turns the sound back on.
    before = len(v.log)
    k.tap(k.app.root.ids.btn_repeat)
    assert said(k, before) == [("pickup", k.app.screen.error)]
    k.tap(k.app.root.ids.btn_mute)
    assert v.muted and k.app.root.ids.btn_mute.text == k.t("voice.unmute")
    # The right code: the door, its label and what to do.
    k.tap(k.app.root.ids.btn_mute)
    k.keys(pad, ["clear"])
    k.keys(pad, code)
    k.tap_id("btn_open")
    k.wait_for(lambda: k.app.sm.current == "door", what="the door screen")
    assert said(k, n0)[-1] == ("door", k.t("voice.door_open", label=label) + k.t("door.instruction.pickup"))
    files.append(heard(k, said(k, n0)[-1][1]))
    sim, b, ch = slot_of(k, label)
    sim.take_item(b, ch)
    sim.close_door(b, ch)
    k.wait_for(lambda: k.app.screen.closed, timeout=20, what="the door to be reported closed")
    assert said(k, n0)[-1] == ("door", k.t("door.done.pickup"))
    files.append(heard(k, k.t("door.done.pickup")))
    # Heard: each step's utterance became a WAV file with sound, about as long as its text (0.1-0.6 s a character).
    for path, text in zip(files, [k.t("voice.pickup"), None, None, k.t("door.done.pickup")], strict=True):
        seconds, level = measure(path)
        assert level > 300, (path.name, level)
        if text is not None:
            n_chars = sum(1 for c in text if "\u4e00" <= c <= "\u9fff")
            assert 0.1 * n_chars < seconds < 0.6 * n_chars + 1, (text, seconds)


def test_mute_and_volume_reset_for_the_next_person(k: Driver) -> None:
    v = k.rt.voice
    k.tap_id("btn_pickup", "start")
    k.tap(k.app.root.ids.btn_softer)
    k.tap(k.app.root.ids.btn_mute)
    assert v.muted and v.step == v.default_step - 1
    k.app.reset_session()
    k.settle()
    assert not v.muted and v.step == v.default_step and not k.app.muted


def test_take_your_card_after_the_session_while_the_card_stays(k: Driver) -> None:
    v = k.rt.voice
    k.tap_id("btn_matters", "start")
    k.rt.sims.card_sim().insert_demo_card()
    k.wait_for(lambda: k.app.screen.reader_state == "read", timeout=20, what="the card")
    assert said(k, len(v.log) - 1) == [("identify", k.t("voice.identified"))]
    n0 = len(v.log)
    k.tap_id("btn_home", "identify") if "btn_home" in k.app.screen.ids else k.app.reset_session()
    k.settle()
    assert ("start", k.t("voice.start") + k.t("voice.take_card")) in said(k, n0) or (
        "start",
        k.t("voice.take_card"),
    ) in said(k, n0)
    # The card is taken: the reminders stop.
    k.clear_reader()
    assert k.app._take_card_ev is None
