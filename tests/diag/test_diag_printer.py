"""The `printer` diagnostics area and the printer in the heartbeat's device health: the shipped simulator's faults,
and a real ESC/POS driver talking to a simulated printer on a pty."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from drivers.printer import build_printer
from drivers.printer.errors import PrinterError
from drivers.printer.sim import SimPrinter
from hallkiosk.diag import device_health
from kiosk.config import load_config
from kiosk.heartbeat import HeartbeatService

from .conftest import KIOSK_ID, Rig, check
from .pty_printer import PtyPrinter


def _use_printer(rig: Rig, kind: str, target: str) -> None:
    text = rig.config.read_text(encoding="utf-8")
    rig.config.write_text(
        text.replace('[printer]\nkind = "none"', f'[printer]\nkind = "{kind}"\ntarget = "{target}"'),
        encoding="utf-8",
    )


@pytest.fixture
def sim_printer(rig: Rig, tmp_path: Path) -> SimPrinter:
    _use_printer(rig, "sim", str(tmp_path / "receipts"))
    cfg = load_config(rig.config)
    p = build_printer(cfg.printer, cfg.data_dir)
    assert isinstance(p, SimPrinter)
    return (
        p  # the same object the kiosk's receipt screen and the diagnostics use (one per printer per process)
    )


@pytest.fixture
def pty_printer(rig: Rig) -> Iterator[PtyPrinter]:
    fake = PtyPrinter()
    _use_printer(rig, "escpos-serial", fake.path)
    yield fake
    fake.stop()


def test_no_printer_is_ok_and_no_device(rig: Rig) -> None:
    code, rep = rig.diag("--only", "printer")
    c = check(rep, "printer.none")
    assert code == 0 and c["status"] == "OK" and c["device"] is None


@pytest.mark.parametrize(
    ("fault", "status", "code", "words"),
    [
        (None, "OK", 0, "online, paper OK"),
        ("paper_near_end", "DEGRADED", 1, "paper near its end"),
        ("paper_out", "FAULT", 2, "out of paper"),
        ("cover_open", "FAULT", 2, "cover open"),
        ("offline", "FAULT", 2, "offline"),
        ("unplugged", "FAULT", 2, "does not answer"),
    ],
)
def test_simulated_printer_faults_reach_diag(
    rig: Rig, sim_printer: SimPrinter, fault, status: str, code: int, words: str
) -> None:
    if fault:
        sim_printer.inject(fault)
    exit_code, rep = rig.diag("--only", "printer")
    c = check(rep, "printer.status")
    assert (exit_code, c["status"], c["device"], c["area"]) == (code, status, "printer", "printer")
    assert words in c["finding"] and "simulated printer" in c["finding"]
    assert (c["hint"] == "") == (status == "OK")
    assert c["data"]["kind"] == "sim" and c["data"]["simulated"] is True and c["data"]["status_bytes"]
    if fault == "paper_out":
        assert c["data"]["paper"] == "out" and "paper roll" in c["hint"]


def test_simulated_printer_refuses_a_receipt_it_cannot_print(sim_printer: SimPrinter) -> None:
    sim_printer.inject("paper_out")
    with pytest.raises(PrinterError) as err:
        sim_printer.print_receipt(["办件编号 Case: ZW1"], "CASE:ZW1")
    assert err.value.citizen_key == "error.printer" and sim_printer.printed == []
    sim_printer.clear_faults()
    sim_printer.inject("paper_near_end")  # low paper still prints
    sim_printer.print_receipt(["办件编号 Case: ZW1"], "CASE:ZW1")
    assert len(sim_printer.printed) == 1


def test_out_of_paper_is_sent_with_the_heartbeat(rig: Rig, sim_printer: SimPrinter) -> None:
    sim_printer.inject("paper_out")
    app = rig.app()
    try:
        health = {h.name: h for h in device_health(app)}
        assert health["printer"].state == "FAULT" and "out of paper" in (health["printer"].detail or "")
        # The kiosk's heartbeat sends what the passive diagnostics see: the platform hears of the empty printer.
        hb = HeartbeatService(
            app.db, app.platform, app.clock, app.cfg.platform, devices=lambda: device_health(app)
        )
        assert hb.beat_once().ok
    finally:
        app.close()
    devices = rig.platform.backoffice.heartbeats[KIOSK_ID]["devices"]
    assert ("printer", "FAULT", "simulated printer: out of paper") in devices


def test_escpos_printer_on_a_pty_through_diag(rig: Rig, pty_printer: PtyPrinter) -> None:
    code, rep = rig.diag("--only", "printer")
    c = check(rep, "printer.status")
    assert code == 0 and c["status"] == "OK" and c["data"]["status_bytes"] == "1:12 2:12 3:12 4:12"
    pty_printer.replies.update({1: 0x1A, 2: 0x32, 4: 0x7E})  # the roll ran out
    code, rep = rig.diag("--only", "printer")
    c = check(rep, "printer.status")
    assert (
        code == 2
        and c["status"] == "FAULT"
        and "out of paper" in c["finding"]
        and pty_printer.path in c["finding"]
    )
    assert c["data"] | {"target": ""} == {
        "kind": "escpos-serial",
        "target": "",
        "simulated": False,
        "online": False,
        "paper": "out",
        "cover_open": False,
        "status_bytes": "1:1A 2:32 3:12 4:7E",
    }
    pty_printer.silent = True  # switched off
    code, rep = rig.diag("--only", "printer")
    c = check(rep, "printer.status")
    assert code == 2 and "does not answer" in c["finding"] and c["waited_s"] > 0
