"""Receipt printers: a simulator that writes images, and ESC/POS printers through python-escpos.

``build_printer`` hands out one object per configured printer per process: the
receipt screen, the diagnostics and the heartbeat's device probe then share its
lock (a status query never cuts into a receipt being printed) and, for the
simulator, its injected faults.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from drivers.printer.errors import PrinterError
from kiosk.config import PrinterConfig
from kiosk.ports import Printer

__all__ = ["PrinterError", "build_printer"]

log = logging.getLogger(__name__)

_built: dict[tuple[str, str], Printer] = {}
_built_lock = threading.Lock()


def build_printer(pc: PrinterConfig, data_dir: Path, font_path: Path | None = None) -> Printer | None:
    """The configured printer, or None when the kiosk has none (the QR code on screen is then the receipt)."""
    if pc.kind == "none":
        return None
    where = (
        str((Path(pc.target) if pc.target else Path(data_dir) / "receipts").resolve())
        if pc.kind == "sim"
        else pc.target
    )
    with _built_lock:
        found = _built.get((pc.kind, where))
        if found is None:
            found = _built[(pc.kind, where)] = _build(pc, where, font_path)
        return found


def _build(pc: PrinterConfig, where: str, font_path: Path | None) -> Printer:
    if pc.kind == "sim":
        from drivers.printer.fonts import find_cjk_font
        from drivers.printer.sim import SimPrinter

        return SimPrinter(Path(where), font_path or find_cjk_font())
    from drivers.printer.escpos_printer import EscposPrinter

    return EscposPrinter(pc.kind, pc.target)
