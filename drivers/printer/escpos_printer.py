"""A real ESC/POS thermal printer through python-escpos (USB, serial or network).

Chinese text is sent as GB18030 in the printer's Chinese character mode (FS &),
which is what printers sold in China print natively; the QR code is printed
by the printer itself (GS ( k).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from typing import Any

from kiosk.errors import ConfigError, DeviceError

log = logging.getLogger(__name__)

FS_CHINESE_ON = b"\x1c\x26"


class PrinterError(DeviceError):
    """The receipt printer failed (paper out, cover open, unplugged)."""

    citizen_key = "error.printer"
    hint = "Check the printer's paper, cover and cable; the receipt is also shown on the screen as a QR code."


class EscposPrinter:
    """Implements kiosk.ports.Printer. ``target`` is "VID:PID" (usb), a device/URL (serial) or "host[:port]" (network)."""

    def __init__(self, kind: str, target: str) -> None:
        self.kind = kind
        self.target = target
        self.name = f"{kind} printer"
        self._lock = threading.Lock()

    def _device(self) -> Any:  # escpos has no common public type for its printers
        from escpos import printer as p

        try:
            if self.kind == "escpos-usb":
                vid, pid = (int(x, 16) for x in self.target.split(":"))
                return p.Usb(vid, pid, timeout=5000)
            if self.kind == "escpos-serial":
                return p.Serial(devfile=self.target, baudrate=9600, timeout=2)
            host, _, port = self.target.partition(":")
            return p.Network(host, port=int(port or 9100), timeout=5)
        except ValueError as err:
            raise ConfigError(f"printer.target: {self.target!r} is not valid for {self.kind}: {err}") from err

    def print_receipt(self, lines: Sequence[str], qr_data: str | None = None) -> None:
        with self._lock:
            try:
                dev = self._device()
                dev.open()
                try:
                    dev._raw(FS_CHINESE_ON)
                    for line in lines:
                        dev._raw(line.encode("gb18030", errors="replace") + b"\n")
                    if qr_data:
                        dev.qr(qr_data, size=6, native=True, center=True)
                    dev.cut()
                finally:
                    dev.close()
            except ConfigError:
                raise
            except Exception as err:  # escpos raises its own tree and OSError; map both
                raise PrinterError(f"{self.name} at {self.target}: {type(err).__name__}: {err}") from err

    def is_present(self) -> bool:
        return True

    def close(self) -> None:
        pass
