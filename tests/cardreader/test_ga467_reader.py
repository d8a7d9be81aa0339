"""Ga467Reader through a real pty against the GA 467 simulator, with each of its faults."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator

import pytest

from drivers.cardreader import build_reader
from drivers.cardreader import ga467_frames as F
from drivers.cardreader.ga467 import Ga467Reader
from drivers.cardreader.ga467_sim import DEMO_CARD, Ga467Sim
from kiosk.config import CardReaderConfig
from kiosk.errors import CardReaderTimeout, CardRemoved, CardUnsupported

from .conftest import Events

DEMO = DEMO_CARD["id_number"]


@pytest.fixture
def sim() -> Iterator[Ga467Sim]:
    s = Ga467Sim().start()
    yield s
    s.stop()


@pytest.fixture
def reader(sim: Ga467Sim, events: Events) -> Iterator[Ga467Reader]:
    r = Ga467Reader(sim.path, name="ga467-test", poll_interval_s=0.02, read_timeout_s=0.4, retry_s=0.1)
    r.start(events)
    yield r
    r.close()


def wait_present(r: Ga467Reader, events: Events) -> None:
    for _ in range(100):
        if r.is_present():
            return
        events.kinds(0.02)
    raise AssertionError("reader never became present")


def test_identified_then_removed(sim: Ga467Sim, reader: Ga467Reader, events: Events) -> None:
    wait_present(reader, events)
    sim.insert_card("李小明", DEMO, address="演示市示例路1号")
    events.wait_for("inserted")
    ev = events.wait_for("identified")
    i = ev.identity
    assert i is not None and ev.reader == "ga467-test" and ev.read_ms is not None
    assert (i.card_kind, i.masked_id, i.masked_name, i.gender) == (
        "resident_id",
        "110105********1232",
        "李*明",
        "M",
    )
    assert i.extra["valid_to"] == "long-term" and i.photo is not None and len(i.photo) == 1024
    sim.remove_card()
    events.wait_for("removed")
    assert "error" not in events.kinds()


def test_one_bad_checksum_is_retried(sim: Ga467Sim, reader: Ga467Reader, events: Events) -> None:
    wait_present(reader, events)
    sim.inject("bad_checksum", cmd="read", times=1)
    sim.insert_demo_card()
    assert events.wait_for("identified").identity is not None
    assert sim.requests.count("read") == 2


def test_persistent_bad_checksum_is_an_error(sim: Ga467Sim, reader: Ga467Reader, events: Events) -> None:
    wait_present(reader, events)
    sim.inject("bad_checksum", cmd="read", times=2)
    sim.insert_demo_card()
    err = events.wait_for("error").error
    assert isinstance(err, F.Ga467FrameError) and "checksum" in str(err)
    assert "identified" not in events.kinds(0.2)


@pytest.mark.parametrize(
    "sw3, error",
    [(0x31, F.Ga467SamError), (0x33, F.Ga467SamError), (0x40, CardUnsupported), (0x41, CardRemoved)],
)
def test_sw3_errors_on_read(
    sim: Ga467Sim, reader: Ga467Reader, events: Events, sw3: int, error: type
) -> None:
    wait_present(reader, events)
    sim.inject("sw3", cmd="read", sw3=sw3)
    sim.insert_demo_card()
    err = events.wait_for("error").error
    assert isinstance(err, error) and f"{sw3:02X}" in str(err)


def test_select_failure_says_removed(sim: Ga467Sim, reader: Ga467Reader, events: Events) -> None:
    wait_present(reader, events)
    sim.inject("sw3", cmd="select", sw3=0x81)
    sim.insert_demo_card()
    err = events.wait_for("error").error
    assert isinstance(err, CardRemoved) and "please insert again" in str(err)


def test_truncated_reply_times_out(sim: Ga467Sim, reader: Ga467Reader, events: Events) -> None:
    wait_present(reader, events)
    sim.inject("truncated", cmd="read", times=2)
    sim.insert_demo_card()
    err = events.wait_for("error").error
    assert isinstance(err, CardReaderTimeout) and isinstance(err, TimeoutError)


def test_noise_before_a_reply_is_skipped(sim: Ga467Sim, reader: Ga467Reader, events: Events) -> None:
    wait_present(reader, events)
    sim.inject("noise", cmd="read")
    sim.insert_demo_card()
    assert events.wait_for("identified").identity is not None
    assert sim.requests.count("read") == 1


def test_card_removed_mid_read(sim: Ga467Sim, reader: Ga467Reader, events: Events) -> None:
    wait_present(reader, events)
    sim.inject("remove_mid_read")
    sim.insert_demo_card()
    err = events.wait_for("error").error
    assert isinstance(err, CardRemoved) and str(err).startswith("card removed, please insert again")
    events.wait_for("removed")
    assert "identified" not in events.kinds()


def test_sam_failure_is_reader_lost_then_back(sim: Ga467Sim, events: Events) -> None:
    sim.inject("sw3", cmd="sam", sw3=0x60, times=2)
    r = Ga467Reader(sim.path, name="ga467-sam", poll_interval_s=0.02, retry_s=0.05)
    r.start(events)
    try:
        lost = events.wait_for("reader_lost")
        assert "self-test" in str(lost.error)
        events.wait_for("reader_back")
        assert r.is_present()
    finally:
        r.close()


def test_silent_reader_is_lost(sim: Ga467Sim, reader: Ga467Reader, events: Events) -> None:
    wait_present(reader, events)
    sim.inject("silent", cmd="any", times=10**6)
    events.wait_for("reader_lost", timeout_s=5)
    assert not reader.is_present()
    sim.clear_faults()
    events.wait_for("reader_back", timeout_s=5)


def test_missing_port_at_start(tmp_path: os.PathLike, events: Events) -> None:
    r = Ga467Reader(str(tmp_path) + "/no-such-tty", retry_s=0.05)
    r.start(events)
    try:
        events.wait_for("reader_lost")
        assert not r.is_present()
    finally:
        r.close()


def test_build_reader_sim_exposes_the_simulator(events: Events, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    built = build_reader(CardReaderConfig(kind="sim", name="demo reader"))
    r, sim = built.part, built.sim
    assert sim is not None
    try:
        assert r.simulated is True and r.name == "demo reader"  # type: ignore[attr-defined]
        assert any(
            "SIMULATED" in rec.getMessage() and rec.levelno == logging.WARNING for rec in caplog.records
        )
        r.poll_interval_s = 0.02  # type: ignore[attr-defined]
        r.start(events)
        sim.insert_demo_card()
        assert events.wait_for("identified").identity.masked_name == "张*"  # type: ignore[union-attr]
    finally:
        r.close()  # the reader's close() is the port's, and stops its simulator
    with pytest.raises(OSError):
        os.fstat(sim._master)  # type: ignore[attr-defined]  # the simulator's pty is closed too


def test_build_reader_kinds() -> None:
    from drivers.cardreader.pcsc import PcscCardReader

    p = build_reader(CardReaderConfig(kind="pcsc", name="Virtual PCD 00 00"))
    assert isinstance(p.part, PcscCardReader) and p.sim is None
    built = build_reader(CardReaderConfig(kind="ga467", url="/dev/ttyUSB9", name="hall-1", role="citizen"))
    g = built.part
    assert (
        built.sim is None and isinstance(g, Ga467Reader) and g.url == "/dev/ttyUSB9" and g.role == "citizen"
    )  # type: ignore[attr-defined]


def test_watcher_survives_a_bug_in_its_loop() -> None:
    """An unexpected exception in the watcher restarts it rather than leaving a dead reader."""
    import threading

    from drivers.cardreader import watcher
    from drivers.cardreader.watcher import ReaderWatcher

    class Flaky(ReaderWatcher):
        def __init__(self) -> None:
            super().__init__("flaky")
            self.runs = 0
            self.second_run = threading.Event()

        def _run(self) -> None:
            self.runs += 1
            if self.runs == 1:
                raise RuntimeError("a bug")
            self._set_present(True)
            self.second_run.set()
            self._stopping.wait()

    old = watcher.RESTART_PAUSE_S
    watcher.RESTART_PAUSE_S = 0.01
    try:
        r = Flaky()
        r.start(lambda e: None)
        assert r.second_run.wait(5)
        assert r.runs == 2 and r.is_present()
        r.stop()
        assert not r.running
    finally:
        watcher.RESTART_PAUSE_S = old
