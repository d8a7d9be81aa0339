"""The drop-off receipt when the printer has no paper: the error, the receipt number and a QR code on the screen.

The technician's simulator switches put the shipped printer simulator out of paper (it then answers DLE EOT as an
empty ESC/POS printer does, and refuses to print with PrinterError) and fix it again; the citizen's drop-off goes
through real touches, the cabinet core and the lock-board simulator.
"""

from __future__ import annotations

from typing import Any

from tests.ui.conftest import TECH_PIN, shot
from tests.ui.flows import parcel_state, slot_of
from tests.ui.harness import Driver


def _tech(k: Driver) -> Any:
    k.tap_id("btn_staff")
    k.keys(k.app.screen.ids.numpad, TECH_PIN)
    k.tap_id("btn_ok")
    assert k.app.sm.current == "tech"
    k.settle()
    return k.app.screen


def _switch(k: Driver, tech: Any, key: str) -> Any:
    return next(b for b in tech.ids.switches.children if b.value == key)


def test_paper_out_a_dropoff_shows_the_print_failure_and_the_receipt_number(k: Driver) -> None:
    printer = k.rt.printer
    try:
        tech = _tech(k)
        assert (
            not _switch(k, tech, "printer_paper_out").selected and _switch(k, tech, "printer_fixed").selected
        )
        k.tap_text(k.t("sim.printer_paper_out", target=printer.name), tech.ids.switches)
        assert "paper_out" in printer.faults
        assert (
            _switch(k, tech, "printer_paper_out").selected and not _switch(k, tech, "printer_fixed").selected
        )
        shot(k, "tech_printer_paper_out")
        k.tap(k.app.root.ids.lang_btn)
        assert _switch(k, tech, "printer_paper_out").text == "Printer: paper out"
        shot(k, "tech_printer_paper_out")
        k.tap(k.app.root.ids.lang_btn)
        k.tap_id("btn_exit")
        printed_before = len(printer.printed)
        # A citizen drops materials off.
        k.tap_id("btn_dropoff")
        k.rt.sims.card_sim().insert_demo_card()
        k.wait_for(lambda: k.app.screen.reader_state == "read", timeout=20, what="the card")
        k.tap_id("btn_continue")
        k.wait_for(
            lambda: k.app.sm.current == "dropoff" and k.app.screen.ids.matters.children, what="the choices"
        )
        k.tap_text("社会保障卡补换")
        k.tap_id("btn_open_door")  # confirmed as shown (matter, the usual size)
        k.wait_for(lambda: k.app.sm.current == "door", what="a door to open")
        door = k.app.screen
        sim, b, ch = slot_of(k, door.label)
        sim.put_item(b, ch)
        sim.close_door(b, ch)
        k.wait_for(lambda: door.closed, what="the door to read closed")
        k.wait_for(lambda: door.printed == "failed", what="the print to fail")
        receipt, pid = door.result.receipt_number, door.handle.parcel_id
        assert receipt and parcel_state(k, pid) == "dropped_off"
        assert len(printer.printed) == printed_before, "no paper, no receipt"
        # The printer's error, then what replaces the paper: the number, large, and a QR code to scan.
        assert door.ids.print_status.text == k.t("error.printer")
        assert door.ids.receipt_number.text == receipt and door.ids.receipt_label.text == k.t(
            "door.receipt_label"
        )
        assert door.qr == f"DROPOFF:{receipt}" and door.ids.qr.texture is not None
        assert door.ids.qr.parent.height > 0 and door.ids.qr.parent.opacity == 1
        shot(k, "door_dropoff_print_failed")
        k.tap(k.app.root.ids.lang_btn)
        assert door.ids.print_status.text == "The printer failed; please scan the QR code on the screen."
        assert door.ids.instruction.text == f"Materials dropped off. Receipt number {receipt}."
        shot(k, "door_dropoff_print_failed")
        k.tap_id("btn_next")
        k.tap_id("btn_skip")
        assert k.app.sm.current == "start"
        k.clear_reader()
        # The technician loads paper: the switch says so, and the printer prints again.
        tech = _tech(k)
        k.tap_text(k.t("sim.printer_fixed", target=printer.name), tech.ids.switches)
        assert not printer.faults and _switch(k, tech, "printer_fixed").selected
        assert not _switch(k, tech, "printer_paper_out").selected
        k.tap_id("btn_exit")
        k.rt.citizen.print_receipt(["test"], None)
        assert len(printer.printed) == printed_before + 1
    finally:
        printer.clear_faults()  # one printer per process: the next test must not find it empty
    # Staff take the materials out, so later tests find the door free.
    h = k.rt.parts.cabinet.start_collect(pid, actor="test:clerk")
    sim.take_item(b, ch)
    sim.close_door(b, ch)
    assert k.rt.parts.cabinet.wait_closed(h, 10).outcome == "collected"


def test_a_dropoff_with_paper_prints_and_shows_no_fallback(k: Driver) -> None:
    printer = k.rt.printer
    printed_before = len(printer.printed)
    k.tap_id("btn_dropoff")
    k.rt.sims.card_sim().insert_demo_card()
    k.wait_for(lambda: k.app.screen.reader_state == "read", timeout=20, what="the card")
    k.tap_id("btn_continue")
    k.wait_for(
        lambda: k.app.sm.current == "dropoff" and k.app.screen.ids.matters.children, what="the choices"
    )
    k.tap_text("社会保障卡补换")
    k.tap_id("btn_open_door")  # confirmed as shown (matter, the usual size)
    k.wait_for(lambda: k.app.sm.current == "door", what="a door to open")
    door = k.app.screen
    k.tap_id("btn_sim_close")
    k.wait_for(lambda: door.printed == "printed", what="the receipt to print")
    pid = door.handle.parcel_id
    assert len(printer.printed) == printed_before + 1
    assert door.ids.print_status.text == k.t("door.printed.printed") and door.qr == ""
    assert door.ids.receipt_number.text == "" and door.ids.qr.parent.height == 0
    k.tap_id("btn_next")
    k.tap_id("btn_skip")
    h = k.rt.parts.cabinet.start_collect(pid, actor="test:clerk")
    sim, b, ch = slot_of(k, h.label)
    sim.take_item(b, ch)
    sim.close_door(b, ch)
    assert k.rt.parts.cabinet.wait_closed(h, 10).outcome == "collected"
