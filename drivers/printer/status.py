"""ESC/POS real-time status (DLE EOT n): the requests and the pure decoding of their one-byte replies.

``DLE EOT n`` (10 04 n) is executed by the printer as soon as it arrives, even
when it is offline or its buffer is full, and answered with one byte:

- n=1 printer status: bit 3 offline.
- n=2 offline cause: bit 2 cover open, bit 3 paper being fed with the FEED
  button, bit 5 printing stopped at paper end, bit 6 an error occurred.
- n=3 error cause: bit 2 recoverable error, bit 3 autocutter error, bit 5
  unrecoverable error, bit 6 automatically recoverable error (head too hot).
- n=4 roll paper sensor: bits 2-3 near-end sensor (paper low), bits 5-6
  end sensor (no paper).

Bits 1 and 4 are always 1 and bits 0 and 7 always 0, so a healthy printer
answers 0x12 to each; a byte without that frame is noise (a wrong baud rate),
never read as a status.
"""

from __future__ import annotations

from collections.abc import Mapping

from kiosk.platform_models import DeviceState
from kiosk.ports import PaperState, PrinterStatus

DLE_EOT = b"\x10\x04"
PRINTER, OFFLINE_CAUSE, ERROR_CAUSE, PAPER = 1, 2, 3, 4
QUERIES: tuple[int, ...] = (PRINTER, OFFLINE_CAUSE, ERROR_CAUSE, PAPER)
HEALTHY = 0x12  # every query's answer from a printer with nothing to report
_FIXED_MASK, _FIXED_BITS = 0x93, 0x12

OFFLINE = 0x08  # n=1
COVER_OPEN, FEEDING, PAPER_END_STOP, ERROR = 0x04, 0x08, 0x20, 0x40  # n=2
RECOVERABLE, CUTTER, UNRECOVERABLE, AUTO_RECOVERABLE = 0x04, 0x08, 0x20, 0x40  # n=3
NEAR_END, END = 0x0C, 0x60  # n=4: either bit of each sensor's pair counts (models differ in which they set)

HINT_PAPER = (
    "Load a new 80 mm thermal paper roll and close the cover; meanwhile receipts show as a QR code on screen."
)
HINT_NEAR_END = "Replace the paper roll soon: it reached the near-end sensor."
HINT_COVER = "Close the printer cover until it clicks."
HINT_CUTTER = (
    "Open the cover, clear the paper jammed at the cutter, close it; power-cycle the printer if it stays."
)
HINT_ERROR = "Power-cycle the printer; if the error stays, call the printer's service."
HINT_HOT = "Let the print head cool down (it recovers by itself); check the printer's ventilation."
HINT_SILENT = (
    "Check the printer's power, cable and `printer.target`; a printer must answer ESC/POS real-time status "
    "(DLE EOT), as every Epson-compatible receipt printer does."
)
HINT_NOISE = (
    "Check the serial settings (9600 baud, 8N1) and the cable; something else may answer on this port."
)


def request(n: int) -> bytes:
    """The DLE EOT n request."""
    if n not in QUERIES:
        raise ValueError(f"DLE EOT {n}: only 1-4 are status queries")
    return DLE_EOT + bytes([n])


def is_status_byte(b: int) -> bool:
    """Whether ``b`` has the fixed bits every DLE EOT 1-4 reply carries."""
    return 0 <= b <= 0xFF and b & _FIXED_MASK == _FIXED_BITS


def raw_text(replies: Mapping[int, int | None]) -> str:
    """The replies as "n:hex" pairs, "-" for no reply, in query order."""
    return " ".join(
        f"{n}:{'-' if replies[n] is None else format(replies[n], '02X')}" for n in QUERIES if n in replies
    )


def decode(replies: Mapping[int, int | None], who: str = "printer") -> PrinterStatus:
    """Judge the replies to DLE EOT 1-4 (a query not sent is missing; one not answered is None).

    FAULT: no answer, noise, offline, no paper, cover open, an error. DEGRADED: paper near its end, or paper being
    fed with the FEED button right now. OK: online with paper.
    """
    raw = raw_text(replies)
    first = replies.get(PRINTER)
    if first is None:
        return PrinterStatus(
            "FAULT",
            f"{who} does not answer the status request (DLE EOT 1): off, unplugged or not an ESC/POS printer",
            HINT_SILENT,
            raw=raw,
        )
    for n in QUERIES:
        b = replies.get(n)
        if b is not None and not is_status_byte(b):
            return PrinterStatus(
                "FAULT", f"{who} sent garbled status (DLE EOT {n}: {b:02X}h)", HINT_NOISE, raw=raw
            )
    offline_b = replies.get(OFFLINE_CAUSE) or 0
    error_b = replies.get(ERROR_CAUSE) or 0
    paper_b = replies.get(PAPER)
    online = not first & OFFLINE
    cover = bool(offline_b & COVER_OPEN) if replies.get(OFFLINE_CAUSE) is not None else None
    paper: PaperState | None = None
    if paper_b is not None:
        paper = "out" if paper_b & END else "near_end" if paper_b & NEAR_END else "ok"
    if offline_b & PAPER_END_STOP:
        paper = "out"

    def st(state: DeviceState, finding: str, hint: str = "") -> PrinterStatus:
        return PrinterStatus(
            state, f"{who}: {finding}", hint, online=online, paper=paper, cover_open=cover, raw=raw
        )

    if paper == "out":
        return st("FAULT", "out of paper", HINT_PAPER)
    if cover:
        return st("FAULT", "cover open", HINT_COVER)
    if error_b & CUTTER:
        return st("FAULT", "autocutter error (paper jam at the cutter)", HINT_CUTTER)
    if error_b & UNRECOVERABLE:
        return st("FAULT", "unrecoverable error", HINT_ERROR)
    if error_b & AUTO_RECOVERABLE:
        return st("FAULT", "print head too hot (recovers by itself)", HINT_HOT)
    if error_b & RECOVERABLE or offline_b & ERROR:
        return st("FAULT", "printer error", HINT_ERROR)
    if offline_b & FEEDING:
        return st("DEGRADED", "paper is being fed with the FEED button", "Release the FEED button.")
    if not online:
        return st("FAULT", "offline (no cause reported)", HINT_ERROR)
    if paper == "near_end":
        return st("DEGRADED", "paper near its end", HINT_NEAR_END)
    return st("OK", "online, paper OK" if paper == "ok" else "online (paper sensor not read)")
