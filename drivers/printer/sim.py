"""A simulated receipt printer: renders what a thermal printer would print to a PNG in the data directory.

A shipped simulator, not a test double: the demo and the end-to-end tests
read its receipts; each one is kept as ``receipts/receipt-<n>.png``. Its faults
(paper out, paper near its end, cover open, offline, unplugged) are modelled as
the status bytes a real ESC/POS printer would answer to DLE EOT, decoded by the
same code as the real driver's, and a printer that cannot print raises
PrinterError just as the real one does.
"""

from __future__ import annotations

import itertools
import logging
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import qrcode
from PIL import Image, ImageDraw, ImageFont

from drivers.printer import status as S
from drivers.printer.errors import PrinterError
from kiosk.bounded import append_bounded
from kiosk.filemodes import open_private, private_dir
from kiosk.ports import PrinterStatus

log = logging.getLogger(__name__)
PRINTED_LOG = 1_000  # receipt paths kept in .printed (the images stay on disk)

PAPER_PX = 576  # an 80 mm thermal head at 203 dpi prints 576 dots across
SimPrinterFault = Literal["paper_out", "paper_near_end", "cover_open", "offline", "unplugged"]
SIM_FAULTS: tuple[SimPrinterFault, ...] = (
    "paper_out",
    "paper_near_end",
    "cover_open",
    "offline",
    "unplugged",
)


class SimPrinter:
    """Implements kiosk.ports.Printer by writing PNG images."""

    name = "simulated printer"

    def __init__(self, out_dir: Path, font_path: Path) -> None:
        self.out_dir = Path(out_dir)
        # Receipts name cases and masked applicants: private like the rest of the data directory.
        private_dir(self.out_dir)
        self._font = ImageFont.truetype(str(font_path), 26)
        self._lock = threading.Lock()
        existing = [
            int(p.stem.rsplit("-", 1)[-1]) for p in self.out_dir.glob("receipt-*.png") if p.stem[-1].isdigit()
        ]
        self._seq = itertools.count(max(existing, default=0) + 1)
        self.printed: list[Path] = []  # the newest PRINTED_LOG receipts (the files stay in out_dir)
        self._faults: set[SimPrinterFault] = set()
        log.warning("SIMULATED printer: receipts are written as images to %s", self.out_dir)

    # --- what a person (or the technician's fault switches) does to the printer ----------
    def inject(self, fault: SimPrinterFault) -> None:
        """Make the printer report ``fault`` until ``clear_faults()`` (or ``clear(fault)``)."""
        if fault not in SIM_FAULTS:
            raise ValueError(f"unknown printer fault {fault!r}; one of {', '.join(SIM_FAULTS)}")
        with self._lock:
            self._faults.add(fault)
        log.warning("simulated printer: %s", fault)

    def clear(self, fault: SimPrinterFault) -> None:
        with self._lock:
            self._faults.discard(fault)

    def clear_faults(self) -> None:
        """Paper loaded, cover shut, cable back in."""
        with self._lock:
            self._faults.clear()

    @property
    def faults(self) -> frozenset[SimPrinterFault]:
        with self._lock:
            return frozenset(self._faults)

    # --- the port ---------------------------------------------------------------------
    def replies(self) -> dict[int, int | None]:
        """What this printer would answer to DLE EOT 1-4 now (None: no answer)."""
        f = self.faults
        if "unplugged" in f:
            return {S.PRINTER: None}
        printer, offline, paper = S.HEALTHY, S.HEALTHY, S.HEALTHY
        if "paper_near_end" in f:
            paper |= S.NEAR_END
        if "paper_out" in f:
            paper |= S.NEAR_END | S.END
            offline |= S.PAPER_END_STOP
        if "cover_open" in f:
            offline |= S.COVER_OPEN
        if offline != S.HEALTHY or "offline" in f:
            printer |= S.OFFLINE
        return {S.PRINTER: printer, S.OFFLINE_CAUSE: offline, S.ERROR_CAUSE: S.HEALTHY, S.PAPER: paper}

    def status(self) -> PrinterStatus:
        return S.decode(self.replies(), self.name)

    def is_present(self) -> bool:
        return "unplugged" not in self.faults

    def print_receipt(self, lines: Sequence[str], qr_data: str | None = None) -> None:
        st = self.status()
        if st.state == "FAULT":
            raise PrinterError(f"receipt not printed: {st.finding}", hint=st.hint)
        line_h = 36
        qr_img: Image.Image | None = None
        if qr_data:
            qr_img = qrcode.make(qr_data, box_size=6, border=2).get_image().convert("L")
        height = 40 + line_h * len(lines) + (qr_img.height + 20 if qr_img else 0) + 40
        img = Image.new("L", (PAPER_PX, height), 255)
        draw = ImageDraw.Draw(img)
        y = 30
        for line in lines:
            draw.text((20, y), line, font=self._font, fill=0)
            y += line_h
        if qr_img is not None:
            img.paste(qr_img, ((PAPER_PX - qr_img.width) // 2, y + 10))
        with self._lock:
            path = self.out_dir / f"receipt-{next(self._seq):05d}.png"
            with os.fdopen(open_private(path, os.O_WRONLY | os.O_TRUNC), "wb") as f:
                img.save(f, format="PNG")
            append_bounded(self.printed, path, PRINTED_LOG)
        log.info("simulated printer wrote %s", path.name)

    def close(self) -> None:
        pass
