"""`kiosk card watch` and `kiosk sim card ...`, run as a user would."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from drivers.cardreader.ga467 import Ga467Reader
from drivers.cardreader.ga467_sim import DEMO_CARD, Ga467Sim
from drivers.cardreader.sim import cli_main
from tests.support.cli import run_cli

from .conftest import READER1, Events, PrivatePcscd, wait_card_state

REPO = Path(__file__).resolve().parents[2]


def config_with_reader(cfg_path: Path, block: str) -> Path:
    text = cfg_path.read_text(encoding="utf-8")
    text = text.replace('[[card_readers]]\nkind = "sim"\nname = "simulated card reader"\n', block)
    cfg_path.write_text(text, encoding="utf-8")
    return cfg_path


def test_card_watch_prints_masked_events(cfg) -> None:
    sim = Ga467Sim().start()
    try:
        path = config_with_reader(
            Path(cfg.source), f'[[card_readers]]\nkind = "ga467"\nname = "desk"\nurl = "{sim.path}"\n'
        )
        threading.Timer(0.5, sim.insert_demo_card).start()
        r = run_cli(path, "card", "watch", "--reader", "desk", "--seconds", "2")
        assert r.code == 0
    finally:
        sim.stop()
    out = r.out
    assert "watching desk" in out
    assert "[desk] identified resident_id 张* 110105********1232 read in" in out
    assert DEMO_CARD["id_number"] not in out and "张三" not in out


def test_card_watch_unknown_reader_is_a_config_error(cfg) -> None:
    r = run_cli(cfg.source, "card", "watch", "--reader", "nope")
    assert r.code == 3
    assert "no reader named 'nope'" in r.err


def test_card_watch_sim_reader_says_simulated(cfg) -> None:
    r = run_cli(cfg.source, "card", "watch", "--seconds", "0.3")
    assert r.code == 0
    assert "SIMULATED" in r.out


def test_sim_vpcd_refuses_a_bad_check_digit(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_main(["vpcd", "--id", "110105199001011237"]) == 2
    assert "check character is wrong" in capsys.readouterr().err


def _spawn(args: list[str]) -> subprocess.Popen[str]:
    code = f"import sys; from drivers.cardreader.sim import cli_main; sys.exit(cli_main({args!r}))"
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.Popen(
        [sys.executable, "-c", code],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        env=env,
        cwd=REPO,
    )


def _stop(proc: subprocess.Popen[str]) -> int:
    proc.send_signal(signal.SIGINT)
    try:
        return proc.wait(timeout=5)
    finally:
        if proc.poll() is None:
            proc.kill()


def test_sim_ga467_pty_serves_a_real_reader() -> None:
    proc = _spawn(["ga467", "--pty", "--insert"])
    try:
        line = proc.stdout.readline()  # type: ignore[union-attr]
        assert line.startswith("GA 467 simulator on /dev/pts/"), line
        events = Events()
        r = Ga467Reader(line.split()[4], poll_interval_s=0.02)
        r.start(events)
        try:
            assert events.wait_for("identified").identity.masked_id == "110105********1232"
        finally:
            r.close()
    finally:
        assert _stop(proc) == 0


@pytest.mark.pcsc
def test_sim_vpcd_card_is_read_by_pcsc(pcscd: PrivatePcscd) -> None:
    from drivers.cardreader.pcsc import PcscCardReader

    events = Events()
    r = PcscCardReader("Virtual PCD 00 01", poll_ms=200)
    r.start(events)
    proc = _spawn(["vpcd", "--port", str(pcscd.port + 1), "--name", "王五", "--id", "11010519491231002X"])
    try:
        assert "inserted social security card 110105********002X" in proc.stdout.readline()  # type: ignore[union-attr]
        ident = events.wait_for("identified").identity
        assert ident is not None and (ident.masked_name, ident.gender) == ("王*", "F")
    finally:
        assert _stop(proc) == 0
        r.close()
        wait_card_state(READER1, present=False)
