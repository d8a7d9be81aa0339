"""Pure GA 467 SAM framing: build requests, find and check replies, decode the 1295-byte read reply.

Frame: ``AA AA AA 96 69 | LEN(2, BE) | body | XOR`` where LEN counts the body and the XOR byte,
and the XOR covers LEN and body. Reply bodies start with ``00 00 SW3``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from kiosk.errors import CardReaderError, CardReaderTimeout, CardRemoved, CardUnsupported
from kiosk.identity import Identity

PREAMBLE = bytes.fromhex("AAAAAA9669")
HEADER_LEN = len(PREAMBLE) + 2  # preamble + LEN
MAX_LEN = 0x0508 + 16  # the read reply is the longest frame; anything much longer is noise

SW3_OK = 0x90
SW3_CARD_FOUND = 0x9F
SW3_NO_CARD = 0x80
SW3_SELECT_FAILED = 0x81

TEXT_LEN = 256
PHOTO_LEN = 1024
READ_REPLY_LEN = 1295

# Text fields: (offset, bytes) inside the 256-byte UTF-16LE block.
TEXT_FIELDS: dict[str, tuple[int, int]] = {
    "name": (0, 30),
    "gender": (30, 2),
    "nation": (32, 4),
    "birth": (36, 16),
    "address": (52, 70),
    "id_number": (122, 36),
    "authority": (158, 30),
    "valid_from": (188, 16),
    "valid_to": (204, 16),
    "reserved": (220, 36),
}

SW3_MEANING = {
    0x10: "checksum error",
    0x11: "length error",
    0x21: "bad command",
    0x31: "card authentication failed",
    0x32: "SAM authentication failed",
    0x33: "verification error",
    0x40: "unknown card type",
    0x41: "read failed",
    0x60: "SAM self-test failed",
    0x80: "no card",
    0x81: "select failed",
}


class Ga467FrameError(CardReaderError):
    """A reply was garbled: bad preamble, length or checksum."""


class Ga467SamError(CardReaderError):
    """The reader's SAM reported a fault (self-test, authentication)."""

    hint = "The reader's security module failed; power-cycle the reader or replace it."


def xor(data: bytes | bytearray) -> int:
    """XOR of every byte."""
    x = 0
    for b in data:
        x ^= b
    return x


def build_frame(body: bytes | bytearray) -> bytes:
    """Wrap a body (``CMD PARA data`` or ``00 00 SW3 data``) in preamble, LEN and XOR."""
    n = len(body) + 1
    if not 3 <= n <= MAX_LEN:
        raise ValueError(f"a GA 467 frame body has 2 to {MAX_LEN - 1} bytes, not {len(body)}")
    head = n.to_bytes(2, "big") + bytes(body)
    return PREAMBLE + head + bytes([xor(head)])


def request(cmd: int, para: int, data: bytes = b"") -> bytes:
    """A request frame."""
    return build_frame(bytes([cmd, para]) + data)


SAM_STATUS = request(0x11, 0xFF)
FIND_CARD = request(0x20, 0x01)
SELECT_CARD = request(0x20, 0x02)
READ_TEXT_PHOTO = request(0x30, 0x01)


def reply(sw3: int, data: bytes | bytearray = b"") -> bytes:
    """A reply frame (used by the simulator and the tests)."""
    return build_frame(b"\x00\x00" + bytes([sw3]) + bytes(data))


@dataclass
class Frame:
    """One checked frame: its body (between LEN and XOR)."""

    body: bytearray

    @property
    def sw3(self) -> int:
        if len(self.body) < 3:
            raise Ga467FrameError(f"reply body of {len(self.body)} byte(s) has no SW3")
        return self.body[2]

    @property
    def data(self) -> bytearray:
        return self.body[3:]


def take_frame(buf: bytearray) -> Frame | None:
    """Remove and return the first complete frame in ``buf``; drop noise before a preamble.

    Returns None while more bytes are needed. Raises Ga467FrameError on a bad LEN or XOR
    (the bad frame is consumed so the caller can resync on the next preamble)."""
    i = buf.find(PREAMBLE)
    if i < 0:
        # Keep a tail that may be the start of a preamble split across reads.
        keep = max(0, len(buf) - (len(PREAMBLE) - 1))
        del buf[:keep]
        return None
    del buf[:i]
    if len(buf) < HEADER_LEN:
        return None
    n = int.from_bytes(buf[5:7], "big")
    if n < 3 or n > MAX_LEN:
        del buf[: len(PREAMBLE)]
        raise Ga467FrameError(f"frame length {n} out of range")
    total = HEADER_LEN + n
    if len(buf) < total:
        return None
    frame = bytearray(buf[:total])
    del buf[:total]
    if xor(frame[5:-1]) != frame[-1]:
        frame[:] = bytes(len(frame))
        raise Ga467FrameError("reply checksum (XOR) is wrong")
    return Frame(frame[7:-1])


def parse_frame(raw: bytes | bytearray) -> Frame:
    """Parse exactly one complete frame (no noise, nothing after)."""
    buf = bytearray(raw)
    frame = take_frame(buf)
    if frame is None:
        raise Ga467FrameError(f"incomplete frame ({len(raw)} byte(s))")
    if buf:
        raise Ga467FrameError(f"{len(buf)} byte(s) after the frame")
    return frame


def check_sw3(sw3: int, step: str, ok: int = SW3_OK) -> None:
    """Raise the error an SW3 other than ``ok`` means at this step."""
    if sw3 == ok:
        return
    what = SW3_MEANING.get(sw3, "unknown status")
    msg = f"GA 467 {step}: SW3 {sw3:02X} ({what})"
    if sw3 in (0x80, 0x41, 0x81):
        raise CardRemoved(f"card removed, please insert again ({msg})")
    if sw3 == 0x40:
        raise CardUnsupported(msg)
    if sw3 in (0x31, 0x32, 0x33, 0x60):
        raise Ga467SamError(msg)
    if sw3 in (0x10, 0x11, 0x21):
        raise Ga467FrameError(msg)
    raise CardReaderError(msg)


def timeout(step: str, seconds: float) -> CardReaderTimeout:
    """The error for a reply that did not come in time."""
    return CardReaderTimeout(f"GA 467 {step}: no reply within {seconds * 1000:.0f} ms")


@dataclass
class ReadReply:
    """The text and photo of a read reply, in bytearrays that :meth:`wipe` zeroes."""

    text: bytearray
    photo: bytearray

    def field(self, name: str) -> str:
        """One UTF-16LE text field, space padding stripped."""
        off, n = TEXT_FIELDS[name]
        try:
            return bytes(self.text[off : off + n]).decode("utf-16-le").strip(" \x00\u3000")
        except UnicodeDecodeError as err:
            raise Ga467FrameError(f"text field {name} is not UTF-16LE") from err

    def wipe(self) -> None:
        """Zero the raw bytes (the photo's bytearray handed to the Identity is a copy)."""
        self.text[:] = bytes(len(self.text))
        self.photo[:] = bytes(len(self.photo))

    def __repr__(self) -> str:
        return f"ReadReply(text={len(self.text)} B, photo={len(self.photo)} B)"


def parse_read_data(data: bytes | bytearray) -> ReadReply:
    """Split the read reply's data (after SW3): text length, photo length, text, photo."""
    if len(data) < 4:
        raise Ga467FrameError(f"read reply data of {len(data)} byte(s) has no length fields")
    tlen = int.from_bytes(data[0:2], "big")
    plen = int.from_bytes(data[2:4], "big")
    if tlen != TEXT_LEN or len(data) != 4 + tlen + plen:
        raise Ga467FrameError(
            f"read reply lengths text {tlen} photo {plen} do not fit its {len(data)} byte(s)"
        )
    return ReadReply(bytearray(data[4 : 4 + tlen]), bytearray(data[4 + tlen :]))


def _date(text: str, what: str) -> dt.date:
    try:
        return dt.date(int(text[:4]), int(text[4:6]), int(text[6:8]))
    except ValueError as err:
        raise Ga467FrameError(f"{what} is not a YYYYMMDD date") from err


def identity_from_read(rr: ReadReply) -> Identity:
    """Decode and validate a read reply into an Identity (card_kind ``resident_id``)."""
    valid_to = rr.field("valid_to")
    extra = {
        "nation": rr.field("nation"),
        "address": rr.field("address"),
        "authority": rr.field("authority"),
        "valid_from": _date(rr.field("valid_from"), "valid-from date").isoformat(),
        # 长期 = no expiry; kept as "long-term" so the core need not know the Chinese word.
        "valid_to": "long-term" if valid_to == "长期" else _date(valid_to, "valid-to date").isoformat(),
    }
    gender = {"1": "M", "2": "F"}.get(rr.field("gender"), "U")
    birth = _date(rr.field("birth"), "birth date")
    try:
        return Identity.checked(
            rr.field("id_number"),
            rr.field("name"),
            "resident_id",
            gender=gender,  # type: ignore[arg-type]
            birth_date=birth,
            extra=extra,
            photo=bytearray(rr.photo),
        )
    except ValueError as err:
        raise Ga467FrameError(f"the card's data is inconsistent: {err}") from None


def encode_text(fields: dict[str, str]) -> bytes:
    """Build the 256-byte text block from field values (simulator and tests); unknown keys refused."""
    out = bytearray(" ".encode("utf-16-le") * (TEXT_LEN // 2))
    for name, value in fields.items():
        off, n = TEXT_FIELDS[name]
        enc = value.encode("utf-16-le")
        if len(enc) > n:
            raise ValueError(f"{name}: {len(enc)} bytes do not fit its {n}")
        out[off : off + len(enc)] = enc
    return bytes(out)


def read_reply(text: bytes, photo: bytes) -> bytes:
    """The full 1295-byte read reply frame (simulator and tests)."""
    if len(text) != TEXT_LEN or len(photo) != PHOTO_LEN:
        raise ValueError("text must be 256 bytes and photo 1024")
    return reply(SW3_OK, len(text).to_bytes(2, "big") + len(photo).to_bytes(2, "big") + text + photo)
