"""The simulator as a product feature, build_bus, family defaults, port down/back, and the CLI."""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from drivers.lockboard import build_bus
from drivers.lockboard.bus import SerialLockBus
from drivers.lockboard.frames import Request, decode_generic_all, decode_kerong_status
from drivers.lockboard.settings import BusSettings
from drivers.lockboard.sim import SimLockBoard
from drivers.lockboard.simmodel import BoardBank
from kiosk.config import CabinetConfig
from kiosk.errors import LockBoardError, OpenNotDetected

from .rig import FAST

REPO = Path(__file__).resolve().parents[2]


def cabinet(**over: Any) -> CabinetConfig:
    base: dict[str, Any] = {
        "id": "CAB-T",
        "bus": "sim",
        "family": "kerong-cu",
        "boards": [0, 1],
        "compartments": [{"label": "A01", "size": "S", "board": 0, "channel": 1}],
        "reply_timeout_s": 0.1,
        "open_timeout_s": 0.3,
        "open_poll_interval_s": 0.01,
    }
    base.update(over)
    return CabinetConfig.model_validate(base)


# --- the model's verbs, without I/O ------------------------------------------------------
def test_model_unlock_all_skips_jammed_doors() -> None:
    bank = BoardBank("kerong-cu", [3])
    bank.jam(3, 5)
    assert bank.respond(Request("kerong-cu", "unlock_all", 3)).data == b""  # most boards send nothing
    assert [ch for ch in range(1, 17) if bank.is_open(3, ch)] == [ch for ch in range(1, 17) if ch != 5]
    status = decode_kerong_status(bank.respond(Request("kerong-cu", "status", 3)).data)
    assert status.hooks == 1 << 4  # only the jammed door still reads closed (hook level 1 = closed)


def test_model_faults_count_down_and_absent_boards_stay_silent() -> None:
    bank = BoardBank("generic-8a", [1], 24, open_reply_delay_s=0.5)
    assert bank.respond(Request("generic-8a", "query_all", 2)).data == b""  # no such board
    bank.corrupt(1, 1)
    bank.add_noise(1, b"\xee", count=1)
    first = bank.respond(Request("generic-8a", "query_all", 1)).data
    assert first[0] == 0xEE
    with pytest.raises(LockBoardError):
        decode_generic_all(first[1:], 24)
    assert (
        decode_generic_all(bank.respond(Request("generic-8a", "query_all", 1)).data, 24).bits == (1 << 24) - 1
    )
    resp = bank.respond(Request("generic-8a", "open", 1, 24))
    assert resp.delay_s == 0.5 and resp.data[3] == 0x00  # opened: ST 00 under the common wiring
    bank.take_item(1, 1)
    with pytest.raises(ValueError):
        bank.jam(1, 25)
    with pytest.raises(ValueError):
        bank.silence(7)


def test_simulator_honours_baud_rate_when_asked(tmp_path: Path) -> None:
    with SimLockBoard("generic-8a", [1], 48, baud=1200, honour_baud=True) as sim:
        path = sim.serve_pty()
        bus = SerialLockBus(path, BusSettings.for_family("generic-8a", channels_per_board=48, **FAST))
        try:
            t0 = time.monotonic()
            bus.board_state(1)
            elapsed = time.monotonic() - t0
        finally:
            bus.close()
    wire = sim.wire_time_s(5 + 10)  # request + a 48-channel reply at 1200 baud = 125 ms
    assert wire <= elapsed < wire + 0.05


# --- build_bus ---------------------------------------------------------------------------
@pytest.mark.parametrize(("family", "boards"), [("kerong-cu", [0, 1]), ("generic-8a", [1, 2])])
def test_build_bus_sim_runs_the_real_driver_on_a_pty(
    family: str, boards: list[int], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    cab = cabinet(
        family=family,
        boards=boards,
        compartments=[{"label": "A01", "size": "S", "board": boards[0], "channel": 1}],
    )
    built = build_bus(cab)
    bus, sim = built.part, built.sim
    assert isinstance(bus, SerialLockBus) and bus.simulated is True and sim is not None
    path = bus.url
    assert path.startswith("/dev/") and os.path.exists(path)
    assert any(
        r.levelno == logging.WARNING and "SIMULATED lock boards" in r.getMessage() for r in caplog.records
    )
    assert bus.open(boards[1], 2).closed is False and sim.is_open(boards[1], 2)
    sim.jam(boards[0], 1)
    with pytest.raises(OpenNotDetected):
        bus.open(boards[0], 1)
    bus.close()
    assert not os.path.exists(path)  # closing the bus stopped the simulator and released its pty


def test_build_bus_real_url_is_not_simulated() -> None:
    with SimLockBoard("kerong-cu", [0]) as sim:
        url = sim.serve_tcp(0)
        built = build_bus(cabinet(bus=url))
        bus = built.part
        try:
            assert isinstance(bus, SerialLockBus) and bus.simulated is False and built.sim is None
            assert bus.url == url and len(bus.board_state(0)) == 16
        finally:
            bus.close()


def test_family_defaults_fill_unset_config() -> None:
    cab = cabinet(reply_timeout_s=None, open_timeout_s=None, bus="/dev/null")
    k = BusSettings.from_config(cab)
    assert (k.baud, k.reply_timeout_s, k.open_timeout_s, k.open_poll_interval_s) == (19200, 1.0, 1.5, 0.01)
    g = BusSettings.from_config(
        cabinet(
            family="generic-8a",
            boards=[1],
            reply_timeout_s=None,
            open_timeout_s=None,
            baud=19200,
            closed_status="00",
            retries=0,
            compartments=[{"label": "A01", "size": "S", "board": 1, "channel": 1}],
        )
    )
    assert (g.baud, g.reply_timeout_s, g.open_timeout_s, g.retries) == (19200, 0.5, 2.0, 0)
    assert g.polarity.closed_status == 0x00 and g.polarity.has_item_sensors is False
    assert BusSettings.for_family("generic-8a").baud == 9600


# --- the port going down and coming back ------------------------------------------------
def test_port_down_then_back_is_logged_once_each_way(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="drivers.lockboard")
    with socket.socket() as s:  # a free port nobody listens on yet
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    bus = SerialLockBus(f"socket://127.0.0.1:{port}", BusSettings.for_family("kerong-cu", **FAST))
    try:
        for _ in range(2):
            with pytest.raises(LockBoardError) as exc:
                bus.board_state(0)
            assert not isinstance(exc.value, TimeoutError)  # the port is down, not a silent board
        with SimLockBoard("kerong-cu", [0]) as sim:
            sim.serve_tcp(port)
            assert len(bus.board_state(0)) == 16
        msgs = [r.getMessage() for r in caplog.records]
        assert sum("is down" in m for m in msgs) == 1
        assert sum("is back" in m for m in msgs) == 1
    finally:
        bus.close()


# --- kiosk sim lockboard ---------------------------------------------------------------
@pytest.mark.parametrize("where", ["--tcp", "--pty"])
def test_cli_serves_until_ctrl_c(where: str) -> None:
    args = [sys.executable, "-m", "drivers.lockboard.sim", "--family", "generic-8a", "--boards", "1,2"]
    args += ["--tcp", "0"] if where == "--tcp" else ["--pty"]
    args += ["--open-reply-delay", "0.01"]
    proc = subprocess.Popen(
        args, cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None and proc.stdin is not None
        url = proc.stdout.readline().strip()
        assert url.startswith("socket://127.0.0.1:") if where == "--tcp" else url.startswith("/dev/")
        bus = SerialLockBus(url, BusSettings.for_family("generic-8a", **FAST))
        try:
            assert bus.scan([1, 2, 3]) == [1, 2]
            proc.stdin.write("jam 2 3\n")
            proc.stdin.flush()
            time.sleep(0.3)  # the command is read on another process
            with pytest.raises(OpenNotDetected):
                bus.open(2, 3)
            assert bus.open(2, 4).closed is False
        finally:
            bus.close()
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert "WARNING" in err and "SIMULATED" in err
