"""The printer's error, shared by the ESC/POS driver and the simulator (importing it loads no printer library)."""

from __future__ import annotations

from kiosk.errors import DeviceError


class PrinterError(DeviceError):
    """The receipt printer failed (paper out, cover open, unplugged): the receipt was not printed."""

    citizen_key = "error.printer"
    hint = "Check the printer's paper, cover and cable; the receipt is also shown on the screen as a QR code."
