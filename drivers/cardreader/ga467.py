"""GA 467 resident ID card reader (SAM) on a serial port: SAM check, then a find/select/read loop."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import serial

from drivers.cardreader import ga467_frames as F
from drivers.cardreader.watcher import ReaderWatcher
from kiosk.errors import CardReaderError, CardReaderTimeout, CardRemoved
from kiosk.identity import Identity

log = logging.getLogger(__name__)

_REMOVED_MSG = "card removed, please insert again"


class PortNotOpen(CardReaderError, ConnectionError):
    """The port was closed under the request (an OSError, so the watcher reconnects)."""


class ReaderBusy(CardReaderError):
    """A one-off probe was asked of a reader whose watcher owns the port."""


class Ga467Reader(ReaderWatcher):
    """A GA 467 SAM reader at a pyserial URL (115200 8N1); emits card events from its own thread."""

    def __init__(
        self,
        url: str,
        *,
        name: str | None = None,
        baudrate: int = 115200,
        poll_interval_s: float = 0.2,
        sam_timeout_s: float = 0.5,
        find_timeout_s: float = 0.2,
        select_timeout_s: float = 0.2,
        read_timeout_s: float = 2.0,
        retry_s: float = 1.0,
        removal_polls: int = 2,
        lost_after_failures: int = 3,
    ) -> None:
        super().__init__(name or url)
        self.url = url
        self.baudrate = baudrate
        self.poll_interval_s = poll_interval_s
        self.sam_timeout_s = sam_timeout_s
        self.find_timeout_s = find_timeout_s
        self.select_timeout_s = select_timeout_s
        self.read_timeout_s = read_timeout_s
        self.retry_s = retry_s
        self.removal_polls = removal_polls  # a contactless card flickers: need this many "no card" in a row
        self.lost_after_failures = lost_after_failures
        self._ser: serial.SerialBase | None = None
        # One owner of the port at a time: the watcher, or a one-off probe (opened()); re-entrant so a probe
        # holding it can still send requests through transact().
        self._lock = threading.RLock()

    kind = "GA 467 reader"

    def _shutdown(self) -> None:
        self._close_port()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, url={self.url!r}, present={self._present})"

    # --- one request at a time ------------------------------------------------------
    @contextmanager
    def opened(self) -> Iterator[Ga467Reader]:
        """The port, opened for one-off requests (diagnostics) by a reader that is not running."""
        with self._lock:
            if self.running or self._ser is not None:
                raise ReaderBusy(f"GA 467 {self.name}: the reader is running and owns its port")
            try:
                self._ser = serial.serial_for_url(self.url, baudrate=self.baudrate, timeout=0.01)
            except (OSError, serial.SerialException, ValueError) as err:
                raise CardReaderError(f"GA 467 {self.name}: cannot open {self.url}: {err}") from err
            try:
                yield self
            finally:
                self._close_port()

    def transact(self, request: bytes, timeout_s: float, step: str) -> F.Frame:
        """Send one request frame and return the checked reply frame (resyncing past noise)."""
        with self._lock:
            ser = self._ser
            if ser is None:
                raise PortNotOpen(f"GA 467 {step}: port {self.url} is not open")
            ser.reset_input_buffer()  # a late reply to an earlier request must not answer this one
            ser.write(request)
            buf = bytearray()
            deadline = time.monotonic() + timeout_s
            try:
                while time.monotonic() < deadline:
                    chunk = ser.read(max(1, ser.in_waiting))
                    if chunk:
                        buf += chunk
                        frame = F.take_frame(buf)
                        if frame is not None:
                            return frame
                raise F.timeout(step, timeout_s)
            finally:
                buf[:] = bytes(len(buf))

    def sam_status(self) -> None:
        """Check the SAM answers 90."""
        F.check_sw3(self.transact(F.SAM_STATUS, self.sam_timeout_s, "SAM status").sw3, "SAM status")

    def find_card(self) -> bool:
        """True for a card in the field (9F), False for none (80)."""
        sw3 = self.transact(F.FIND_CARD, self.find_timeout_s, "find card").sw3
        if sw3 == F.SW3_NO_CARD:
            return False
        F.check_sw3(sw3, "find card", ok=F.SW3_CARD_FOUND)
        return True

    def read_identity(self) -> Identity:
        """Select and read the card in the field; raises a CardReaderError subclass on any failure."""
        F.check_sw3(self.transact(F.SELECT_CARD, self.select_timeout_s, "select card").sw3, "select card")
        frame = self.transact(F.READ_TEXT_PHOTO, self.read_timeout_s, "read")
        try:
            F.check_sw3(frame.sw3, "read")
            rr = F.parse_read_data(frame.data)
            try:
                return F.identity_from_read(rr)
            finally:
                rr.wipe()
        finally:
            frame.body[:] = bytes(len(frame.body))

    # --- watcher --------------------------------------------------------------------
    def _close_port(self) -> None:
        ser, self._ser = self._ser, None
        if ser is not None:
            try:
                ser.close()
            except (OSError, serial.SerialException):
                pass

    def _run(self) -> None:
        card_in, absent, failures = False, 0, 0
        try:
            while not self._stopping.is_set():
                if not self._present:
                    if not self._connect():
                        self._stopping.wait(self.retry_s)
                        continue
                    failures = 0
                try:
                    if self.find_card():
                        absent = 0
                        if not card_in:
                            card_in = True
                            self._read_card()
                    else:
                        absent += 1
                        if card_in and absent >= self.removal_polls:
                            card_in = False
                            self._emit("removed")
                    failures = 0
                except (F.Ga467FrameError, CardReaderTimeout) as err:
                    failures += 1
                    if failures >= self.lost_after_failures:
                        self._lose(f"{failures} polls failed, last: {err}")
                        card_in = False
                except (OSError, serial.SerialException) as err:
                    self._lose(f"port error: {err}")
                    card_in = False
                except CardReaderError as err:
                    log.warning("GA 467 %s: %s", self.name, err)
                self._stopping.wait(self.poll_interval_s)
        finally:
            self._close_port()
            self._present = False

    def _connect(self) -> bool:
        try:
            with self._lock:  # waits out a probe that holds the port (opened())
                if self._ser is None:
                    self._ser = serial.serial_for_url(self.url, baudrate=self.baudrate, timeout=0.01)
                self.sam_status()
        except (OSError, serial.SerialException, CardReaderError) as err:
            self._close_port()
            self._set_present(False, str(err))
            return False
        self._set_present(True)
        return True

    def _lose(self, why: str) -> None:
        self._close_port()
        self._set_present(False, why)

    def _read_card(self) -> None:
        """One card arrived: emit inserted, then identified or error (never half an identity)."""
        t0 = time.perf_counter()
        self._emit("inserted")
        last: CardReaderError | None = None
        for _attempt in range(2):  # one retry: a single garbled frame on a long cable is not a failure
            try:
                identity = self.read_identity()
            except (F.Ga467FrameError, CardReaderTimeout) as err:
                last = err
                try:
                    if not self.find_card():
                        last = CardRemoved(_REMOVED_MSG)
                        break
                except (CardReaderError, OSError, serial.SerialException):
                    break
                continue
            except (OSError, serial.SerialException) as err:
                last = CardReaderError(f"GA 467 port error during read: {err}")
                break
            except CardReaderError as err:
                last = err
                break
            self._emit("identified", identity=identity, read_ms=(time.perf_counter() - t0) * 1000)
            return
        assert last is not None
        log.info("GA 467 read on %s failed: %s", self.name, last)
        self._emit("error", error=last)
