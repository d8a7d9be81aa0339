"""The ESC/POS driver's status and printing, byte by byte, over a real pty to a simulated printer (tests/diag/pty_printer)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from drivers.printer import status as S
from drivers.printer.errors import PrinterError
from drivers.printer.escpos_printer import FS_CHINESE_ON, EscposPrinter
from kiosk.errors import DeviceError

from .pty_printer import PtyPrinter, TcpPrinter


@pytest.fixture
def fake() -> Iterator[PtyPrinter]:
    f = PtyPrinter()
    yield f
    f.stop()


@pytest.fixture
def printer(fake: PtyPrinter) -> EscposPrinter:
    return EscposPrinter("escpos-serial", fake.path, status_timeout_s=0.3)


# (replies to DLE EOT 1, 2, 3, 4) -> state, paper, online, cover_open, words in the finding
CASES = {
    "healthy": ((0x12, 0x12, 0x12, 0x12), "OK", "ok", True, False, "online, paper OK"),
    "near end, either bit": ((0x12, 0x12, 0x12, 0x16), "DEGRADED", "near_end", True, False, "near its end"),
    "near end, both bits": ((0x12, 0x12, 0x12, 0x1E), "DEGRADED", "near_end", True, False, "near its end"),
    "paper out (Epson)": ((0x1A, 0x32, 0x12, 0x7E), "FAULT", "out", False, False, "out of paper"),
    "paper end sensor only": ((0x12, 0x12, 0x12, 0x72), "FAULT", "out", True, False, "out of paper"),
    "stopped at paper end": ((0x1A, 0x32, 0x12, 0x12), "FAULT", "out", False, False, "out of paper"),
    "cover open": ((0x1A, 0x16, 0x12, 0x12), "FAULT", "ok", False, True, "cover open"),
    "cutter jam": ((0x1A, 0x52, 0x1A, 0x12), "FAULT", "ok", False, False, "autocutter"),
    "unrecoverable": ((0x1A, 0x52, 0x32, 0x12), "FAULT", "ok", False, False, "unrecoverable"),
    "head too hot": ((0x1A, 0x52, 0x52, 0x12), "FAULT", "ok", False, False, "too hot"),
    "offline, no cause": ((0x1A, 0x12, 0x12, 0x12), "FAULT", "ok", False, False, "offline"),
    "feed button": ((0x1A, 0x1A, 0x12, 0x12), "DEGRADED", "ok", False, False, "FEED button"),
    "drawer pin high is not a fault": ((0x16, 0x12, 0x12, 0x12), "OK", "ok", True, False, "online"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_status_bytes_over_a_serial_pty(fake: PtyPrinter, printer: EscposPrinter, case: str) -> None:
    replies, state, paper, online, cover, words = CASES[case]
    fake.replies = dict(zip(S.QUERIES, replies, strict=True))
    st = printer.status()
    assert (st.state, st.paper, st.online, st.cover_open) == (state, paper, online, cover), st
    assert words in st.finding and fake.path in st.finding
    assert (st.hint == "") == (state == "OK")
    assert st.raw == " ".join(f"{n}:{b:02X}" for n, b in zip(S.QUERIES, replies, strict=True))
    assert fake.queries == [1, 2, 3, 4] and fake.printed == b""  # four real-time requests, nothing printed


def test_silent_printer_is_a_fault_after_one_timeout(fake: PtyPrinter, printer: EscposPrinter) -> None:
    fake.silent = True
    t0 = time.monotonic()
    st = printer.status()
    assert time.monotonic() - t0 < 2.0  # one short status timeout, not four, not python-escpos's read(16)
    assert st.state == "FAULT" and "does not answer" in st.finding and st.online is None and st.raw == "1:-"
    assert not printer.is_present()
    fake.silent = False
    assert printer.status().state == "OK" and printer.is_present()


def test_noise_is_never_read_as_a_status(fake: PtyPrinter, printer: EscposPrinter) -> None:
    fake.replies[1] = 0xFF  # what a wrong baud rate looks like
    st = printer.status()
    assert st.state == "FAULT" and "garbled" in st.finding and "FFh" in st.finding


def test_a_port_that_cannot_be_opened_is_a_fault(tmp_path) -> None:
    st = EscposPrinter("escpos-serial", str(tmp_path / "ttyNOPE")).status()
    assert st.state == "FAULT" and "cannot be opened" in st.finding and st.hint


def test_receipt_goes_out_as_gb18030_with_a_native_qr_and_a_cut(
    fake: PtyPrinter, printer: EscposPrinter
) -> None:
    printer.print_receipt(["办件编号 Case: ZW20261125000001", "请妥善保管"], "CASE:ZW20261125000001")
    deadline = time.monotonic() + 3
    while not fake.printed.endswith(b"\x1dV\x00") and time.monotonic() < deadline:  # GS V 0: the full cut
        time.sleep(0.02)
    data = bytes(fake.printed)
    assert fake.queries == [1, 2, 3, 4]  # asked first: it would print only with paper
    assert data.startswith(FS_CHINESE_ON + "办件编号 Case: ZW20261125000001\n".encode("gb18030"))
    assert "请妥善保管\n".encode("gb18030") in data
    assert b"\x1ba\x01\x1d(k" in data and b"CASE:ZW20261125000001" in data  # centred, printed by the printer
    assert data.endswith(b"\x1dV\x00")


@pytest.mark.parametrize("fault", [{2: 0x32, 4: 0x7E}, {2: 0x16}])
def test_a_receipt_is_refused_not_lost_when_the_printer_cannot_print(
    fake: PtyPrinter, printer: EscposPrinter, fault: dict[int, int]
) -> None:
    fake.replies.update({1: 0x1A, **fault})
    with pytest.raises(PrinterError) as err:
        printer.print_receipt(["办件编号 Case: ZW20261125000001"], "CASE:ZW20261125000001")
    assert isinstance(err.value, DeviceError) and err.value.citizen_key == "error.printer"
    assert "not printed" in err.value.message and err.value.hint
    time.sleep(0.1)
    assert fake.printed == b""  # nothing went to a printer that would have swallowed it


def test_printer_without_a_back_channel_still_gets_the_receipt(
    fake: PtyPrinter, printer: EscposPrinter
) -> None:
    """Only the printer's own word (no paper, cover open) stops a receipt; silence may be a write-only link."""
    fake.silent = True
    assert printer.status().state == "FAULT"  # diag still says it cannot tell
    printer.print_receipt(["办件编号 Case: ZW20261125000001"])
    deadline = time.monotonic() + 3
    while not fake.printed.endswith(b"\x1dV\x00") and time.monotonic() < deadline:
        time.sleep(0.02)
    assert "办件编号 Case: ZW20261125000001\n".encode("gb18030") in fake.printed


def test_network_printer_status_and_receipt() -> None:
    fake = TcpPrinter()
    try:
        printer = EscposPrinter("escpos-network", fake.target, status_timeout_s=0.3)
        assert printer.status().state == "OK"
        fake.replies[4] = 0x1E
        assert printer.status().paper == "near_end"
        printer.print_receipt(["办件编号 Case: ZW20261125000001"])  # near end still prints
        deadline = time.monotonic() + 3
        while not fake.printed.endswith(b"\x1dV\x00") and time.monotonic() < deadline:
            time.sleep(0.02)
        assert "办件编号".encode("gb18030") in fake.printed and fake.printed.endswith(b"\x1dV\x00")
        fake.silent = True
        assert printer.status().state == "FAULT"
    finally:
        fake.stop()


def test_pure_decoding_edges() -> None:
    assert S.request(4) == b"\x10\x04\x04"
    with pytest.raises(ValueError):
        S.request(5)
    assert S.is_status_byte(0x12) and S.is_status_byte(0x7E) and not S.is_status_byte(0x00)
    assert not S.is_status_byte(0x92) and not S.is_status_byte(0x13)
    # Only DLE EOT 1 answered (a printer that stopped mid-query): judged on what is known.
    st = S.decode({1: 0x12, 2: None})
    assert st.state == "OK" and st.paper is None and st.cover_open is None and st.raw == "1:12 2:-"
    assert S.decode({}).state == "FAULT"
