"""Pure codec for the two lock-board families (docs/spec/hardware/lockboards.md).

Requests are encoded and decoded (the simulator decodes what the driver
encodes); replies are found in a noisy byte stream by :func:`scan_reply`,
which never raises, and decoded strictly by the ``decode_*`` functions, which
raise only :class:`~kiosk.errors.LockBoardFrameError`. What the bits mean on a
site (polarity) is applied by :mod:`drivers.lockboard.polarity`, from the configuration.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from kiosk.errors import LockBoardFrameError
from kiosk.lockboard_families import FAMILIES, GENERIC_8A, KERONG_CU, Family  # noqa: F401 (re-exported)

RequestKind = Literal["status", "unlock", "unlock_all", "open", "query_one", "query_all"]
ReplyKind = Literal["status", "lock", "all"]

# kerong-cu
KR_STX, KR_ETX = 0x02, 0x03
KR_STATUS, KR_UNLOCK, KR_UNLOCK_ALL, KR_STATUS_REPLY = 0x30, 0x31, 0x33, 0x35
KR_CHANNELS, KR_MAX_BOARD = KERONG_CU.max_channels, KERONG_CU.max_address
KR_REQUEST_LEN, KR_STATUS_LEN = 5, 9
_KR_CMDS: dict[int, RequestKind] = {KR_STATUS: "status", KR_UNLOCK: "unlock", KR_UNLOCK_ALL: "unlock_all"}

# generic-8a
G_OPEN_HDR, G_QUERY_HDR = 0x8A, 0x80
G_OPEN_FN, G_QUERY_FN = 0x11, 0x33
G_ST_VALUES = (0x11, 0x00)
G_MIN_BOARD, G_MAX_BOARD, G_MAX_CHANNELS = (
    GENERIC_8A.min_address,
    GENERIC_8A.max_address,
    GENERIC_8A.max_channels,
)
G_FRAME_LEN = 5


def kerong_sum(data: Iterable[int]) -> int:
    """Kerong checksum: the byte sum, low 8 bits."""
    return sum(data) & 0xFF


def xor8(data: Iterable[int]) -> int:
    """generic-8a checksum: XOR of the bytes."""
    out = 0
    for b in data:
        out ^= b
    return out


def group_bytes(channels: int) -> int:
    """How many state bytes a generic-8a query-all reply carries for ``channels``."""
    return (channels + 7) // 8


def all_reply_len(channels: int) -> int:
    """Length of a generic-8a query-all reply."""
    return 4 + group_bytes(channels)


# --- requests ----------------------------------------------------------------
@dataclass(frozen=True)
class Request:
    """One request to one board; channel 0 means the whole board."""

    family: Family
    kind: RequestKind
    board: int
    channel: int = 0


def _check_board(family: Family, board: int) -> None:
    lo, hi = (0, KR_MAX_BOARD) if family == "kerong-cu" else (G_MIN_BOARD, G_MAX_BOARD)
    if not lo <= board <= hi:
        raise ValueError(f"{family}: board address {board} is outside {lo}-{hi}")


def _check_channel(family: Family, channel: int) -> None:
    hi = KR_CHANNELS if family == "kerong-cu" else G_MAX_CHANNELS
    if not 1 <= channel <= hi:
        raise ValueError(f"{family}: channel {channel} is outside 1-{hi}")


def encode_request(req: Request) -> bytes:
    """The bytes of ``req`` on the wire; ValueError for an impossible address or kind."""
    _check_board(req.family, req.board)
    if req.family == "kerong-cu":
        cmd = {"status": KR_STATUS, "unlock": KR_UNLOCK, "unlock_all": KR_UNLOCK_ALL}.get(req.kind)
        if cmd is None:
            raise ValueError(f"kerong-cu has no {req.kind} request")
        addr = req.board << 4
        if req.kind == "unlock":
            _check_channel(req.family, req.channel)
            addr |= req.channel - 1
        body = bytes((KR_STX, addr, cmd, KR_ETX))
        return body + bytes((kerong_sum(body),))
    if req.kind == "open":
        _check_channel(req.family, req.channel)
        body = bytes((G_OPEN_HDR, req.board, req.channel, G_OPEN_FN))
    elif req.kind == "query_one":
        _check_channel(req.family, req.channel)
        body = bytes((G_QUERY_HDR, req.board, req.channel, G_QUERY_FN))
    elif req.kind == "query_all":
        body = bytes((G_QUERY_HDR, req.board, 0, G_QUERY_FN))
    else:
        raise ValueError(f"generic-8a has no {req.kind} request")
    return body + bytes((xor8(body),))


def decode_request(frame: bytes, family: Family) -> Request:
    """Decode one complete request frame; LockBoardFrameError if it is not one."""
    if len(frame) != KR_REQUEST_LEN:
        raise LockBoardFrameError(f"{family}: request is {len(frame)} bytes, not 5: {frame.hex(' ')}")
    if family == "kerong-cu":
        if frame[0] != KR_STX or frame[3] != KR_ETX or frame[2] not in _KR_CMDS:
            raise LockBoardFrameError(f"kerong-cu: not a request: {frame.hex(' ')}")
        if kerong_sum(frame[:4]) != frame[4]:
            raise LockBoardFrameError(f"kerong-cu: bad checksum in request {frame.hex(' ')}")
        kind = _KR_CMDS[frame[2]]
        board, low = frame[1] >> 4, frame[1] & 0x0F
        if kind != "unlock" and low != 0:
            raise LockBoardFrameError(f"kerong-cu: {kind} request with lock nibble {low}: {frame.hex(' ')}")
        return Request(family, kind, board, low + 1 if kind == "unlock" else 0)
    hdr, board, lock, fn, xs = frame
    if xor8(frame[:4]) != xs:
        raise LockBoardFrameError(f"generic-8a: bad checksum in request {frame.hex(' ')}")
    if not G_MIN_BOARD <= board <= G_MAX_BOARD or lock > G_MAX_CHANNELS:
        raise LockBoardFrameError(f"generic-8a: address out of range in request {frame.hex(' ')}")
    if hdr == G_OPEN_HDR and fn == G_OPEN_FN and lock:
        return Request(family, "open", board, lock)
    if hdr == G_QUERY_HDR and fn == G_QUERY_FN:
        return Request(family, "query_one" if lock else "query_all", board, lock)
    raise LockBoardFrameError(f"generic-8a: not a request: {frame.hex(' ')}")


def find_request(buf: bytes, family: Family) -> tuple[Request | None, int]:
    """The first valid request in ``buf`` and how many bytes to drop (noise and the request itself)."""
    heads = (KR_STX,) if family == "kerong-cu" else (G_OPEN_HDR, G_QUERY_HDR)
    for i, b in enumerate(buf):
        if b not in heads:
            continue
        if len(buf) - i < KR_REQUEST_LEN:
            return None, i  # keep a possible partial request
        try:
            return decode_request(bytes(buf[i : i + KR_REQUEST_LEN]), family), i + KR_REQUEST_LEN
        except LockBoardFrameError:
            continue
    return None, len(buf)


# --- replies -----------------------------------------------------------------
@dataclass(frozen=True)
class KerongStatus:
    """A kerong-cu status reply, raw: bit 0 of each mask is lock 1."""

    board: int
    hooks: int
    sensors: int


@dataclass(frozen=True)
class GenericLockState:
    """A generic-8a single-lock reply (to open or to query), raw."""

    board: int
    lock: int
    status: int
    header: int = G_OPEN_HDR


@dataclass(frozen=True)
class GenericBoardState:
    """A generic-8a query-all reply, raw: bit 0 of ``bits`` is channel 1."""

    board: int
    bits: int
    channels: int


Reply = KerongStatus | GenericLockState | GenericBoardState


def encode_kerong_status(board: int, hooks: int, sensors: int) -> bytes:
    """A kerong-cu status reply (the simulator's side)."""
    _check_board("kerong-cu", board)
    body = bytes(
        (
            KR_STX,
            board << 4,
            KR_STATUS_REPLY,
            hooks & 0xFF,
            (hooks >> 8) & 0xFF,
            sensors & 0xFF,
            (sensors >> 8) & 0xFF,
            KR_ETX,
        )
    )
    return body + bytes((kerong_sum(body),))


def encode_generic_lock(board: int, lock: int, status: int, header: int = G_OPEN_HDR) -> bytes:
    """A generic-8a single-lock reply."""
    _check_board("generic-8a", board)
    _check_channel("generic-8a", lock)
    if status not in G_ST_VALUES:
        raise ValueError(f"generic-8a: status byte must be 11 or 00, got {status:02x}")
    body = bytes((header, board, lock, status))
    return body + bytes((xor8(body),))


def encode_generic_all(board: int, bits: int, channels: int) -> bytes:
    """A generic-8a query-all reply: state bytes highest channel group first."""
    _check_board("generic-8a", board)
    n = group_bytes(channels)
    body = (
        bytes((G_QUERY_HDR, board)) + (bits & ((1 << (8 * n)) - 1)).to_bytes(n, "big") + bytes((G_QUERY_FN,))
    )
    return body + bytes((xor8(body),))


def decode_kerong_status(frame: bytes) -> KerongStatus:
    """Decode one complete kerong-cu status reply; LockBoardFrameError if garbled."""
    if len(frame) != KR_STATUS_LEN:
        raise LockBoardFrameError(f"kerong-cu: status reply is {len(frame)} bytes, not 9: {frame.hex(' ')}")
    if frame[0] != KR_STX or frame[2] != KR_STATUS_REPLY or frame[7] != KR_ETX:
        raise LockBoardFrameError(f"kerong-cu: not a status reply: {frame.hex(' ')}")
    if kerong_sum(frame[:8]) != frame[8]:
        raise LockBoardFrameError(f"kerong-cu: bad checksum in {frame.hex(' ')}")
    return KerongStatus(frame[1] >> 4, frame[3] | frame[4] << 8, frame[5] | frame[6] << 8)


def decode_generic_lock(
    frame: bytes, headers: tuple[int, ...] = (G_OPEN_HDR, G_QUERY_HDR)
) -> GenericLockState:
    """Decode one complete generic-8a single-lock reply; LockBoardFrameError if garbled."""
    if len(frame) != G_FRAME_LEN:
        raise LockBoardFrameError(f"generic-8a: lock reply is {len(frame)} bytes, not 5: {frame.hex(' ')}")
    hdr, board, lock, st, xs = frame
    if hdr not in headers or st not in G_ST_VALUES:
        raise LockBoardFrameError(f"generic-8a: not a lock reply: {frame.hex(' ')}")
    if xor8(frame[:4]) != xs:
        raise LockBoardFrameError(f"generic-8a: bad checksum in {frame.hex(' ')}")
    return GenericLockState(board, lock, st, hdr)


def decode_generic_all(frame: bytes, channels: int) -> GenericBoardState:
    """Decode one complete generic-8a query-all reply for ``channels``; LockBoardFrameError if garbled."""
    n = all_reply_len(channels)
    if len(frame) != n:
        raise LockBoardFrameError(
            f"generic-8a: query-all reply is {len(frame)} bytes, not {n}: {frame.hex(' ')}"
        )
    if frame[0] != G_QUERY_HDR or frame[-2] != G_QUERY_FN:
        raise LockBoardFrameError(f"generic-8a: not a query-all reply: {frame.hex(' ')}")
    if xor8(frame[:-1]) != frame[-1]:
        raise LockBoardFrameError(f"generic-8a: bad checksum in {frame.hex(' ')}")
    return GenericBoardState(frame[1], int.from_bytes(frame[2:-2], "big"), channels)


@dataclass(frozen=True)
class Expect:
    """What reply a request expects: its kind, echoed address and, for generic-8a, lengths and headers."""

    family: Family
    kind: ReplyKind
    board: int
    channel: int = 0
    channels: int = KR_CHANNELS
    headers: tuple[int, ...] = (G_OPEN_HDR, G_QUERY_HDR)

    @property
    def length(self) -> int:
        """The reply's length in bytes."""
        if self.kind == "status":
            return KR_STATUS_LEN
        return G_FRAME_LEN if self.kind == "lock" else all_reply_len(self.channels)

    @property
    def starts(self) -> tuple[int, ...]:
        """Header bytes a reply may start with."""
        if self.kind == "status":
            return (KR_STX,)
        return self.headers if self.kind == "lock" else (G_QUERY_HDR,)

    def fixed(self) -> dict[int, tuple[int, ...]]:
        """Byte positions with the values they must hold (the checksum is checked apart)."""
        if self.kind == "status":
            return {1: (self.board << 4,), 2: (KR_STATUS_REPLY,), 7: (KR_ETX,)}
        if self.kind == "lock":
            return {1: (self.board,), 2: (self.channel,), 3: G_ST_VALUES}
        return {1: (self.board,), self.length - 2: (G_QUERY_FN,)}

    def decode(self, frame: bytes) -> Reply:
        """Strictly decode a complete candidate frame."""
        if self.kind == "status":
            return decode_kerong_status(frame)
        if self.kind == "lock":
            return decode_generic_lock(frame, self.headers)
        return decode_generic_all(frame, self.channels)


def expect_for(
    req: Request, channels: int, headers: tuple[int, ...] = (G_OPEN_HDR, G_QUERY_HDR)
) -> Expect | None:
    """The reply ``req`` expects; None where the board sends none worth waiting for (kerong unlocks)."""
    if req.kind == "status":
        return Expect(req.family, "status", req.board)
    if req.kind in ("open", "query_one"):
        return Expect(req.family, "lock", req.board, req.channel, channels, headers)
    if req.kind == "query_all":
        return Expect(req.family, "all", req.board, 0, channels, headers)
    return None


@dataclass(frozen=True)
class ScanResult:
    """Outcome of scanning a buffer: the reply if found, bytes to drop, and rejected candidates."""

    reply: Reply | None
    consumed: int
    rejected: int = 0
    reason: str = ""


def scan_reply(buf: bytes, expect: Expect) -> ScanResult:
    """Find the first valid reply matching ``expect`` anywhere in ``buf``; never raises.

    Noise and rejected candidates are reported as consumed; a candidate cut off
    by the end of the buffer is kept (not consumed) so more bytes can complete it.
    """
    length, fixed, starts = expect.length, expect.fixed(), expect.starts
    rejected, reason, keep_from = 0, "", None
    for i, b in enumerate(buf):
        if b not in starts:
            continue
        cand = bytes(buf[i : i + length])
        if any(pos < len(cand) and cand[pos] not in ok for pos, ok in fixed.items()):
            continue  # a stray header byte inside noise
        if len(cand) < length:
            if keep_from is None:
                keep_from = i
            continue
        try:
            reply = expect.decode(cand)
        except LockBoardFrameError as err:
            rejected, reason = rejected + 1, str(err)
            continue
        return ScanResult(reply, i + length, rejected, reason)
    return ScanResult(None, len(buf) if keep_from is None else keep_from, rejected, reason)
