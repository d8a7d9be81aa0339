"""Receipt printers: a simulator that writes images, and ESC/POS printers through python-escpos."""

from __future__ import annotations

import logging
from pathlib import Path

from kiosk.config import PrinterConfig
from kiosk.ports import Printer

log = logging.getLogger(__name__)


def build_printer(pc: PrinterConfig, data_dir: Path, font_path: Path | None = None) -> Printer | None:
    """The configured printer, or None when the kiosk has none (the QR code on screen is then the receipt)."""
    if pc.kind == "none":
        return None
    if pc.kind == "sim":
        from drivers.printer.fonts import find_cjk_font
        from drivers.printer.sim import SimPrinter

        return SimPrinter(Path(pc.target) if pc.target else data_dir / "receipts", font_path or find_cjk_font())
    from drivers.printer.escpos_printer import EscposPrinter

    return EscposPrinter(pc.kind, pc.target)
