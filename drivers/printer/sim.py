"""A simulated receipt printer: renders what a thermal printer would print to a PNG in the data directory.

A shipped simulator, not a test double: the demo and the end-to-end tests
read its receipts; each one is kept as ``receipts/receipt-<n>.png``.
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections.abc import Sequence
from pathlib import Path

import qrcode
from PIL import Image, ImageDraw, ImageFont

log = logging.getLogger(__name__)

PAPER_PX = 576  # an 80 mm thermal head at 203 dpi prints 576 dots across


class SimPrinter:
    """Implements kiosk.ports.Printer by writing PNG images."""

    name = "simulated printer"

    def __init__(self, out_dir: Path, font_path: Path) -> None:
        self.out_dir = Path(out_dir)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self._font = ImageFont.truetype(str(font_path), 26)
        self._lock = threading.Lock()
        existing = [int(p.stem.rsplit("-", 1)[-1]) for p in self.out_dir.glob("receipt-*.png") if p.stem[-1].isdigit()]
        self._seq = itertools.count(max(existing, default=0) + 1)
        self.printed: list[Path] = []
        log.warning("SIMULATED printer: receipts are written as images to %s", self.out_dir)

    def print_receipt(self, lines: Sequence[str], qr_data: str | None = None) -> None:
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
            img.save(path)
            self.printed.append(path)
        log.info("simulated printer wrote %s", path.name)

    def is_present(self) -> bool:
        return True

    def close(self) -> None:
        pass
