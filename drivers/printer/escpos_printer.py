"""A real ESC/POS thermal printer through python-escpos (USB, serial or network).

Chinese text is sent as GB18030 in the printer's Chinese character mode (FS &),
which is what printers sold in China print natively; the QR code is printed
by the printer itself (GS ( k).

Status comes from the printer's real-time status replies (DLE EOT 1-4, decoded
in :mod:`drivers.printer.status`), read here byte by byte: python-escpos's own
``query_status`` reads 16 bytes and so waits out the whole serial timeout on
every query. A receipt is only sent to a printer that says it can print it: a
thermal printer without paper takes the data without complaint and prints
nothing, which would leave the citizen without a receipt and nobody the wiser.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from typing import Any

from drivers.printer.errors import PrinterError
from drivers.printer.status import HINT_SILENT, QUERIES, decode, raw_text, request
from kiosk.errors import ConfigError
from kiosk.ports import PrinterStatus

__all__ = ["FS_CHINESE_ON", "STATUS_TIMEOUT_S", "EscposPrinter", "PrinterError"]

log = logging.getLogger(__name__)

FS_CHINESE_ON = b"\x1c\x26"
STATUS_TIMEOUT_S = 0.5  # a printer answers DLE EOT in milliseconds; a silent one must not stall the heartbeat


class EscposPrinter:
    """Implements kiosk.ports.Printer. ``target`` is "VID:PID" (usb), a device/URL (serial) or "host[:port]" (network)."""

    def __init__(self, kind: str, target: str, *, status_timeout_s: float = STATUS_TIMEOUT_S) -> None:
        self.kind = kind
        self.target = target
        self.name = f"{kind} printer"
        self.status_timeout_s = status_timeout_s
        self._lock = threading.Lock()
        self._down = False  # logged once when it goes down, once when it is back

    @property
    def who(self) -> str:
        return f"{self.name} at {self.target}"

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

    def _open(self) -> Any:
        dev = self._device()
        dev.open()
        return dev

    # --- status --------------------------------------------------------------------
    def status(self) -> PrinterStatus:
        with self._lock:
            try:
                dev = self._open()
            except ConfigError as err:
                st = PrinterStatus("FAULT", err.message, err.hint)
            except (
                Exception
            ) as err:  # escpos's DeviceNotFoundError, OSError, a missing pyusb: all "cannot open"
                st = PrinterStatus(
                    "FAULT", f"{self.who} cannot be opened: {type(err).__name__}: {err}", HINT_SILENT
                )
            else:
                try:
                    st = self._query(dev)
                finally:
                    _close(dev)
            self._note(st)
        return st

    def is_present(self) -> bool:
        """Whether the printer answers its status request at all (it may still be out of paper)."""
        return self.status().online is not None

    def _query(self, dev: Any) -> PrinterStatus:
        """DLE EOT 1-4 on an open device, one byte each; stops at the first silence (no point waiting out four)."""
        replies: dict[int, int | None] = {}
        try:
            for n in QUERIES:
                self._drain(dev)
                dev._raw(request(n))
                replies[n] = self._read_byte(dev)
                if replies[n] is None:
                    break
        except Exception as err:  # pyserial, socket or pyusb errors mid-query
            return PrinterStatus(
                "FAULT",
                f"{self.who}: status query failed: {type(err).__name__}: {err}",
                HINT_SILENT,
                raw=raw_text(replies),
            )
        finally:
            self._restore_timeout(dev)
        return decode(replies, self.who)

    def _restore_timeout(self, dev: Any) -> None:
        """Back to the device's own timeout: a receipt sent next must not be cut off by the short status one."""
        port = getattr(dev, "device", None)
        if self.kind == "escpos-serial" and port is not None:
            port.timeout = dev.timeout
        elif self.kind == "escpos-network" and port is not None:
            port.settimeout(dev.timeout)

    def _drain(self, dev: Any) -> None:
        """Drop stale input (a late reply to an earlier query) so each reply is read against its own request."""
        port = dev.device
        if self.kind == "escpos-serial":
            port.reset_input_buffer()
        elif self.kind == "escpos-network":
            port.settimeout(0)
            try:
                while port.recv(64):
                    pass
            except BlockingIOError:
                pass

    def _read_byte(self, dev: Any) -> int | None:
        port = dev.device
        if self.kind == "escpos-serial":
            port.timeout = self.status_timeout_s
            data = port.read(1)  # returns as soon as the byte is in, unlike escpos's read(16)
        elif self.kind == "escpos-network":
            port.settimeout(self.status_timeout_s)
            try:
                data = port.recv(1)
            except TimeoutError:
                data = b""
        else:
            try:
                data = bytes(port.read(dev.in_ep, 16, int(self.status_timeout_s * 1000)))
            except Exception as err:
                if "timeout" not in type(err).__name__.lower():
                    raise
                data = b""
        return data[0] if data else None

    def _note(self, st: PrinterStatus) -> None:
        down = st.state == "FAULT"
        if down and not self._down:
            log.warning("receipt printer down: %s", st.finding)
        elif self._down and not down:
            log.info("receipt printer back: %s", st.finding)
        self._down = down

    # --- printing --------------------------------------------------------------------
    def print_receipt(self, lines: Sequence[str], qr_data: str | None = None) -> None:
        with self._lock:
            try:
                dev = self._open()
            except ConfigError:
                raise
            except Exception as err:  # escpos raises its own tree and OSError; map both
                raise PrinterError(
                    f"{self.who} cannot be opened: {type(err).__name__}: {err}", hint=HINT_SILENT
                ) from err
            try:
                st = self._query(dev)
                self._note(st)
                # Refuse only on the printer's own word (no paper, cover open, an error). One that cannot say
                # (no back channel: some print servers, write-only USB firmware) is still given the receipt.
                if st.state == "FAULT" and st.online is not None:
                    raise PrinterError(f"receipt not printed: {st.finding}", hint=st.hint)
                dev._raw(FS_CHINESE_ON)
                for line in lines:
                    dev._raw(line.encode("gb18030", errors="replace") + b"\n")
                if qr_data:
                    # python-escpos refuses center=True for a native QR code; ESC a centres it on the printer instead.
                    dev.set(align="center")
                    dev.qr(qr_data, size=6, native=True)
                    dev.set(align="left")
                dev.cut()
            except PrinterError:
                raise
            except Exception as err:
                raise PrinterError(f"{self.who}: {type(err).__name__}: {err}") from err
            finally:
                _close(dev)

    def close(self) -> None:
        pass  # every job and query opens and closes the device itself


def _close(dev: Any) -> None:
    try:
        dev.close()
    except Exception:  # closing must never mask the outcome (a port that vanished mid-job)
        log.debug("closing the printer failed", exc_info=True)
