"""The behaviour behind SimLockBoard: boards, doors, item sensors and injectable faults, without I/O."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from drivers.lockboard.frames import (
    G_OPEN_HDR,
    KR_CHANNELS,
    Family,
    Request,
    encode_generic_all,
    encode_generic_lock,
    encode_kerong_status,
)
from drivers.lockboard.polarity import Polarity, generic_bits, kerong_masks
from drivers.lockboard.settings import FAMILY_DEFAULTS
from kiosk.bounded import append_bounded

REQUEST_LOG = 10_000  # requests kept in .received (the boards are polled all day)
DEFAULT_NOISE = b"\x55\x02\x80\x8a\xff\x00"  # includes header bytes of both families, to exercise resync


@dataclass
class _Board:
    address: int
    opened: set[int] = field(default_factory=set)
    items: set[int] = field(default_factory=set)
    jammed: set[int] = field(default_factory=set)
    silent: bool = False
    delay_s: float = 0.0
    corrupt_next: int = 0
    noise: bytes = b""
    noise_left: int | None = None  # None: before every reply


@dataclass(frozen=True)
class Response:
    """What the board does with one request: wait, then send ``data`` (nothing when empty)."""

    data: bytes
    delay_s: float


class BoardBank:
    """N boards of one family on one bus, with the verbs of physical events and faults."""

    def __init__(
        self,
        family: Family,
        boards: list[int],
        channels_per_board: int = KR_CHANNELS,
        *,
        polarity: Polarity | None = None,
        open_reply_delay_s: float | None = None,
        unlock_reply: bool = False,
        lock_reply_header: int = G_OPEN_HDR,
    ) -> None:
        if family == "kerong-cu" and channels_per_board != KR_CHANNELS:
            raise ValueError("kerong-cu boards have 16 channels")
        self.family = family
        self.channels = channels_per_board
        self.polarity = polarity or Polarity()
        # generic-8a boards answer an open about 1 s later, once the lock has fired.
        self.open_reply_delay_s = (
            FAMILY_DEFAULTS[family].open_reply_delay_s if open_reply_delay_s is None else open_reply_delay_s
        )
        self.unlock_reply = unlock_reply  # some kerong boards answer an unlock with a status frame
        self.lock_reply_header = lock_reply_header  # generic-8a: 8A on most boards, 80 on others
        self._boards = {b: _Board(b) for b in boards}
        self._state_lock = threading.RLock()
        self.received: list[
            Request
        ] = []  # the newest REQUEST_LOG requests decoded, in order (tests count them)
        self.collisions = 0  # requests that arrived while the board was still answering the previous one

    # --- physical events ---------------------------------------------------------
    def close_door(self, board: int, channel: int) -> None:
        """Someone pushes the door shut."""
        with self._state_lock:
            self._slot(board, channel).opened.discard(channel)

    def open_door_by_hand(self, board: int, channel: int) -> None:
        """The door is opened without an unlock (forced, or a technician with a key)."""
        with self._state_lock:
            self._slot(board, channel).opened.add(channel)

    def leave_open(self, board: int, channel: int) -> None:
        """A door left standing open: it stays open until close_door."""
        self.open_door_by_hand(board, channel)

    def put_item(self, board: int, channel: int) -> None:
        """An item is placed in the compartment (its infrared sensor sees it)."""
        with self._state_lock:
            self._slot(board, channel).items.add(channel)

    def take_item(self, board: int, channel: int) -> None:
        """The item is taken out."""
        with self._state_lock:
            self._slot(board, channel).items.discard(channel)

    def jam(self, board: int, channel: int) -> None:
        """The door sticks: unlocks are accepted but it stays shut."""
        with self._state_lock:
            self._slot(board, channel).jammed.add(channel)

    def unjam(self, board: int, channel: int) -> None:
        """The jam is cleared."""
        with self._state_lock:
            self._slot(board, channel).jammed.discard(channel)

    # --- faults --------------------------------------------------------------
    def silence(self, board: int) -> None:
        """The board stops answering (power lost, cable cut, wrong DIP address)."""
        with self._state_lock:
            self._board(board).silent = True

    def revive(self, board: int) -> None:
        """The board answers again."""
        with self._state_lock:
            self._board(board).silent = False

    def slow(self, board: int, delay_s: float) -> None:
        """Every reply of the board comes ``delay_s`` late (0 clears)."""
        with self._state_lock:
            self._board(board).delay_s = delay_s

    def corrupt(self, board: int, count: int = 1) -> None:
        """The board's next ``count`` replies carry a bad checksum."""
        with self._state_lock:
            self._board(board).corrupt_next = count

    def add_noise(self, board: int, noise: bytes = DEFAULT_NOISE, count: int | None = None) -> None:
        """Line noise before the board's next ``count`` replies (None: every reply)."""
        with self._state_lock:
            b = self._board(board)
            b.noise, b.noise_left = noise, count

    def clear_faults(self, board: int | None = None) -> None:
        """Remove silence, delay, corruption, noise and jams (of one board, or all)."""
        with self._state_lock:
            for b in self._boards.values() if board is None else [self._board(board)]:
                b.silent, b.delay_s, b.corrupt_next, b.noise, b.jammed = False, 0.0, 0, b"", set()

    # --- looking at the state ----------------------------------------------------
    def is_open(self, board: int, channel: int) -> bool:
        """Whether the door stands open."""
        with self._state_lock:
            return channel in self._slot(board, channel).opened

    def has_item(self, board: int, channel: int) -> bool:
        """Whether the item sensor sees something."""
        with self._state_lock:
            return channel in self._slot(board, channel).items

    def requests_to(self, board: int) -> list[Request]:
        """Requests received for one board."""
        with self._state_lock:
            return [r for r in self.received if r.board == board]

    # --- the protocol ------------------------------------------------------------
    def respond(self, req: Request) -> Response:
        """Apply ``req`` to the model and return what the addressed board sends back."""
        with self._state_lock:
            append_bounded(self.received, req, REQUEST_LOG)
            b = self._boards.get(req.board)
            if b is None or b.silent or req.family != self.family:
                return Response(b"", 0.0)
            if req.channel > self.channels:
                return Response(b"", 0.0)  # a real board ignores a lock it does not have
            delay = b.delay_s
            if req.kind in ("unlock", "open", "unlock_all"):
                targets = range(1, self.channels + 1) if req.kind == "unlock_all" else [req.channel]
                b.opened.update(ch for ch in targets if ch not in b.jammed)
            if req.kind in ("unlock", "unlock_all"):
                data = self._status_frame(b) if self.unlock_reply else b""
            elif req.kind == "status":
                data = self._status_frame(b)
            elif req.kind == "open":
                data, delay = self._lock_frame(b, req.channel), delay + self.open_reply_delay_s
            elif req.kind == "query_one":
                data = self._lock_frame(b, req.channel)
            else:
                data = encode_generic_all(
                    b.address, generic_bits(self._closed_map(b), self.polarity), self.channels
                )
            return Response(self._apply_faults(b, data), delay)

    def _status_frame(self, b: _Board) -> bytes:
        items = {ch: ch in b.items for ch in range(1, self.channels + 1)}
        hooks, sensors = kerong_masks(self._closed_map(b), items, self.polarity)
        return encode_kerong_status(b.address, hooks, sensors)

    def _lock_frame(self, b: _Board, channel: int) -> bytes:
        pol = self.polarity
        st = pol.open_status if channel in b.opened else pol.closed_status
        return encode_generic_lock(b.address, channel, st, self.lock_reply_header)

    def _closed_map(self, b: _Board) -> dict[int, bool]:
        return {ch: ch not in b.opened for ch in range(1, self.channels + 1)}

    def _apply_faults(self, b: _Board, data: bytes) -> bytes:
        if not data:
            return data
        if b.corrupt_next > 0:
            b.corrupt_next -= 1
            data = data[:-1] + bytes(((data[-1] + 1) & 0xFF,))
        if b.noise and (b.noise_left is None or b.noise_left > 0):
            data = b.noise + data
            if b.noise_left is not None:
                b.noise_left -= 1
        return data

    def _board(self, board: int) -> _Board:
        try:
            return self._boards[board]
        except KeyError:
            raise ValueError(f"the simulator has no board {board} (boards: {sorted(self._boards)})") from None

    def _slot(self, board: int, channel: int) -> _Board:
        if not 1 <= channel <= self.channels:
            raise ValueError(f"channel {channel} is outside 1-{self.channels}")
        return self._board(board)
