"""SerialLockBus: kiosk.ports.LockBus over one pyserial URL (RS-485 adapter, pty, socket://, loop://)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import serial

from drivers.lockboard.frames import (
    KR_CHANNELS,
    GenericBoardState,
    GenericLockState,
    KerongStatus,
    Reply,
    Request,
    encode_request,
    expect_for,
    scan_reply,
)
from drivers.lockboard.polarity import generic_door, generic_doors, kerong_doors
from drivers.lockboard.settings import BusSettings
from kiosk.config import CabinetConfig
from kiosk.errors import LockBoardError, LockBoardFrameError, LockBoardTimeout, OpenNotDetected
from kiosk.lockboard_families import FAMILY
from kiosk.ports import DoorStatus

log = logging.getLogger(__name__)

_READ_SLICE_S = 0.02  # longest a single read blocks, so deadlines hold without reconfiguring the port


class SerialLockBus:
    """One RS-485 bus of one board family; thread-safe, one request on the wire at a time."""

    simulated: bool = False

    def __init__(self, url: str, settings: BusSettings) -> None:
        self.url = url
        self.settings = settings
        self._lock = threading.Lock()
        self._ser: Any = None
        self._closed = False
        self._port_down = False
        self._boards_down: set[int] = set()
        self._on_close: list[Callable[[], None]] = []
        self._label = f"lock bus {settings.name or url}"
        with self._lock:
            try:
                self._port()
            except LockBoardError:
                pass  # logged as down; the next request tries again, so a late USB adapter still works

    @classmethod
    def from_config(cls, cab: CabinetConfig, url: str | None = None) -> SerialLockBus:
        """A bus for one cabinet, on ``url`` or the configured ``cab.bus``."""
        return cls(url or cab.bus, BusSettings.from_config(cab))

    def add_close_hook(self, hook: Callable[[], None]) -> None:
        """Run ``hook`` after the port closes (build_bus stops its simulator this way)."""
        self._on_close.append(hook)

    # --- the LockBus port --------------------------------------------------------
    def open(self, board: int, channel: int) -> DoorStatus:
        """Unlock, then confirm the door reads open; OpenNotDetected when it does not in time."""
        self._check_channel(channel)
        s = self.settings
        # The lock is held for the whole unlock-and-confirm: a kerong board may answer an unlock with
        # an unsolicited status frame, which must not land in another thread's request.
        with self._lock:
            deadline = time.monotonic() + s.open_timeout_s
            if s.family == "kerong-cu":
                try:
                    self._transact(Request(s.family, "unlock", board, channel), s.open_timeout_s, retries=0)
                except (LockBoardTimeout, LockBoardFrameError) as err:
                    # Never resend an unlock: the lock may have fired. The status reads that follow decide.
                    log.warning(
                        "%s: no valid reply to unlock of board %d channel %d (%s); confirming by status",
                        self._label,
                        board,
                        channel,
                        err,
                    )
                time.sleep(s.open_poll_interval_s)
            else:
                self._send_generic_open(board, channel)
            return self._confirm_open(board, channel, deadline)

    def _confirm_open(self, board: int, channel: int, deadline: float) -> DoorStatus:
        """Poll the door until it reads open or ``deadline`` passes.

        A garbled reply says nothing about the door, so it never ends the wait: only a valid "closed" at the
        deadline is OpenNotDetected (the door's fault), and a run of garbage with no valid reply at all until
        the deadline is a LockBoardFrameError naming the board (the bus's fault: the door's state is unknown)."""
        s = self.settings
        valid, garbled = 0, ""
        while True:
            try:
                door = self._read_door(board, channel)
            except LockBoardFrameError as err:
                garbled = err.message
            else:
                valid += 1
                if not door.closed:
                    log.info("%s: board %d channel %d opened", self._label, board, channel)
                    return door
            if time.monotonic() >= deadline:
                if valid:
                    raise OpenNotDetected(
                        f"{self._label}: board {board} channel {channel}: unlock sent but the door did not"
                        f" read open within {s.open_timeout_s:g} s"
                    )
                raise LockBoardFrameError(
                    f"{self._label}: board {board}: only garbled replies for {s.open_timeout_s:g} s after the unlock"
                    f" of channel {channel}: its door's state is unknown (last: {garbled})"
                )
            time.sleep(s.open_poll_interval_s)

    def door_state(self, board: int, channel: int) -> DoorStatus:
        """The state of one door (kerong-cu reads the whole board: it has no single-lock query)."""
        self._check_channel(channel)
        with self._lock:
            return self._read_door(board, channel)

    def board_state(self, board: int) -> Mapping[int, DoorStatus]:
        """Every channel of one board, in one request on the wire."""
        with self._lock:
            return self._read_board(board)

    def scan(
        self, addresses: Iterable[int], *, timeout_s: float | None = None, retries: int | None = None
    ) -> list[int]:
        """The addresses among ``addresses`` that answer; a short ``timeout_s`` makes a scan for strays cheap."""
        s = self.settings
        timeout = s.reply_timeout_s if timeout_s is None else timeout_s
        tries = s.retries if retries is None else retries
        kind = "status" if s.family == "kerong-cu" else "query_all"
        family = FAMILY[s.family]
        found = []
        for addr in addresses:
            if addr not in family.addresses:
                continue  # an address the family cannot have never answers
            try:
                # Locked per address, not per scan: a long scan must not hold up a citizen's door.
                with self._lock:
                    self._transact(Request(s.family, kind, addr), timeout, tries, track=False)
            except (LockBoardTimeout, LockBoardFrameError):
                continue
            found.append(addr)
        return found

    def unlock_all(self, board: int) -> Mapping[int, DoorStatus]:
        """Technician only (kerong-cu): unlock every lock of a board once (never re-sent, whatever its reply),
        then read the board until every door reads open or the open timeout passes; the last valid reading.
        Garbled readings never end the wait; none valid at all is a LockBoardFrameError (the doors unknown)."""
        s = self.settings
        if not FAMILY[s.family].can("unlock_all"):
            raise ValueError(
                f"{self._label}: {s.family} boards have no unlock-all command; open the doors one by one"
            )
        with self._lock:
            deadline = time.monotonic() + s.open_timeout_s
            try:
                self._transact(Request(s.family, "unlock_all", board), s.open_timeout_s, retries=0)
            except (LockBoardTimeout, LockBoardFrameError) as err:
                log.warning(
                    "%s: no valid reply to unlock-all of board %d (%s); confirming by status",
                    self._label,
                    board,
                    err,
                )
            last: dict[int, DoorStatus] | None = None
            while True:
                time.sleep(s.open_poll_interval_s)
                try:
                    last = self._read_board(board)
                except LockBoardFrameError:
                    pass
                if last is not None and not any(d.closed for d in last.values()):
                    return last
                if time.monotonic() >= deadline:
                    if last is None:
                        raise LockBoardFrameError(
                            f"{self._label}: board {board}: only garbled replies after the"
                            " unlock-all: its doors' states are unknown"
                        )
                    return last

    def close(self) -> None:
        """Close the port (and run close hooks, e.g. stop a simulator); idempotent."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._drop_port()
        for hook in self._on_close:
            hook()

    def __enter__(self) -> SerialLockBus:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- requests (callers hold self._lock) -----------------------------------------
    def _check_channel(self, channel: int) -> None:
        hi = KR_CHANNELS if self.settings.family == "kerong-cu" else self.settings.channels_per_board
        if not 1 <= channel <= hi:
            raise ValueError(f"{self._label}: channel {channel} is outside 1-{hi}")

    def _send_generic_open(self, board: int, channel: int) -> None:
        s = self.settings
        try:
            reply = self._transact(
                Request(s.family, "open", board, channel), s.open_timeout_s, retries=0, track=False
            )
        except (LockBoardTimeout, LockBoardFrameError) as err:
            # Never resend an unlock: the lock may have fired. The query that follows decides.
            log.warning(
                "%s: no valid reply to open of board %d channel %d (%s); confirming by query",
                self._label,
                board,
                channel,
                err,
            )
            return
        if isinstance(reply, GenericLockState) and generic_door(reply, s.polarity).closed:
            log.info("%s: board %d reports channel %d still closed after open", self._label, board, channel)

    def _read_board(self, board: int) -> dict[int, DoorStatus]:
        s = self.settings
        if s.family == "kerong-cu":
            reply = self._transact(Request(s.family, "status", board), s.reply_timeout_s, s.retries)
            assert isinstance(reply, KerongStatus)
            return kerong_doors(reply, s.polarity)
        reply = self._transact(Request(s.family, "query_all", board), s.reply_timeout_s, s.retries)
        assert isinstance(reply, GenericBoardState)
        return generic_doors(reply, s.polarity)

    def _read_door(self, board: int, channel: int) -> DoorStatus:
        s = self.settings
        if s.family == "kerong-cu":
            return self._read_board(board)[channel]
        reply = self._transact(Request(s.family, "query_one", board, channel), s.reply_timeout_s, s.retries)
        assert isinstance(reply, GenericLockState)
        return generic_door(reply, s.polarity)

    def _transact(self, req: Request, timeout_s: float, retries: int, *, track: bool = True) -> Reply | None:
        """Send ``req`` and return its reply, retrying lost or garbled replies; None if none is expected."""
        s = self.settings
        frame = encode_request(req)
        expect = expect_for(req, s.channels_per_board, s.polarity.lock_reply_headers)
        garbled = ""
        for attempt in range(retries + 1):
            ser = self._port()
            try:
                ser.reset_input_buffer()  # a late reply to an earlier request must not answer this one
                ser.write(frame)
                if expect is None:
                    return None
                reply, bad = self._read_reply(ser, expect, timeout_s)
            except (serial.SerialException, OSError) as err:
                self._drop_port(err)
                raise LockBoardError(f"{self._label}: serial port failed: {err}") from err
            if reply is not None:
                if track:
                    self._board_up(req.board)
                return reply
            garbled = bad or garbled
            log.debug(
                "%s: board %d %s: attempt %d failed: %s",
                self._label,
                req.board,
                req.kind,
                attempt + 1,
                bad or "no reply",
            )
        tries = f"{retries + 1} tr{'y' if retries == 0 else 'ies'}"
        if garbled:
            raise LockBoardFrameError(
                f"{self._label}: board {req.board}: garbled reply to {req.kind} ({tries}): {garbled}"
            )
        err = LockBoardTimeout(
            f"{self._label}: board {req.board}: no reply to {req.kind} within {timeout_s:g} s ({tries})"
        )
        if track:
            self._board_down(req.board, err)
        raise err

    def _read_reply(self, ser: Any, expect: Any, timeout_s: float) -> tuple[Reply | None, str]:
        """Read until a valid reply is found or the deadline passes; the second value says why not.

        Once a complete frame was rejected (bad checksum, garbled) and no more bytes are waiting, return at once
        so the caller re-sends its request, instead of waiting out the whole reply timeout for each bad frame.
        A rejected frame is nearly always the board's own reply (noise rarely forms a whole candidate with the
        right address and command bytes), and a board sends one reply per request: it has finished talking, so
        the re-send cannot collide with it. If a good frame did follow, the re-send costs one request."""
        deadline = time.monotonic() + timeout_s
        length = expect.length
        buf = bytearray()
        seen, reason, rejected = 0, "", 0
        while time.monotonic() < deadline:
            if rejected and not buf:  # after a bad frame: take what is already there, never wait for more
                waiting = ser.in_waiting
                if not waiting:
                    break
                chunk = ser.read(waiting)
            else:
                # Ask for the rest of a reply in one read: it comes back as soon as that many bytes are in (one
                # system call for a whole frame), or after one read slice with what there is.
                chunk = ser.read(max(1, length - len(buf)))
            if not chunk:
                continue
            seen += len(chunk)
            buf += chunk
            res = scan_reply(bytes(buf), expect)
            if res.reply is not None:
                return res.reply, ""
            reason = res.reason or reason
            rejected += res.rejected
            del buf[: res.consumed]
        if seen and not reason:
            reason = f"{seen} bytes without a valid frame"
        return None, reason

    # --- the port and the log ------------------------------------------------------
    def _port(self) -> Any:
        if self._closed:
            raise LockBoardError(f"{self._label}: the bus is closed")
        if self._ser is not None:
            return self._ser
        s = self.settings
        try:
            self._ser = serial.serial_for_url(
                self.url,
                baudrate=s.baud,
                timeout=min(_READ_SLICE_S, s.reply_timeout_s / 4),
                write_timeout=max(1.0, s.reply_timeout_s),
                # One owner of a local port (a second kiosk process must fail, not interleave frames).
                exclusive=True if "://" not in self.url else None,
            )
        except (serial.SerialException, OSError, ValueError) as err:
            self._mark_port(False, err)
            raise LockBoardError(f"{self._label}: cannot open {self.url}: {err}") from err
        self._mark_port(True)
        return self._ser

    def _drop_port(self, err: BaseException | None = None) -> None:
        if self._ser is not None:
            try:
                self._ser.close()
            except (serial.SerialException, OSError):
                pass  # closing a port that already vanished
            self._ser = None
        if err is not None:
            self._mark_port(False, err)

    def _mark_port(self, ok: bool, err: BaseException | None = None) -> None:
        if ok and self._port_down:
            log.warning("%s: serial port %s is back", self._label, self.url)
        elif not ok and not self._port_down:
            log.error("%s: serial port %s is down: %s", self._label, self.url, err)
        self._port_down = not ok

    def _board_up(self, board: int) -> None:
        if board in self._boards_down:
            self._boards_down.discard(board)
            log.warning("%s: board %d answers again", self._label, board)

    def _board_down(self, board: int, err: BaseException) -> None:
        if board not in self._boards_down:
            self._boards_down.add(board)
            log.error("%s: board %d is not answering: %s", self._label, board, err)
