"""Pure APDU building and response parsing for the social security card (SSSE) and badge UIDs.

No I/O here: :func:`exchange` and :func:`read_social_security` take a ``transmit`` callable
(command bytes -> response bytes with SW1 SW2), so the PC/SC driver, the benchmark's bare
script and the tests all drive the same logic.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from kiosk.errors import CardReaderError, CardUnsupported
from kiosk.identity import Identity

Transmit = Callable[[bytes], bytes]

# `sx1.sh.` + GBK 社会保障 (id-readers.md §1 step 1).
SSSE_AID = b"sx1.sh." + "社会保障".encode("gbk")
SELECT_SSSE = bytes([0x00, 0xA4, 0x04, 0x00, len(SSSE_AID)]) + SSSE_AID
SELECT_EF05 = bytes.fromhex("00A4020002EF05")
SELECT_EF06 = bytes.fromhex("00A4020002EF06")
GET_UID = bytes.fromhex("FFCA000000")

TAG_CARD_NUMBER = 0x07
TAG_ID_NUMBER = 0x08
TAG_NAME = 0x09
TAG_SEX = 0x0A
TAG_NATION = 0x0B
TAG_BIRTH = 0x0D
# tag -> Le of its READ RECORD (tag + len + value), per the table in id-readers.md.
RECORD_LE = {
    TAG_CARD_NUMBER: 0x0B,
    TAG_ID_NUMBER: 0x14,
    TAG_NAME: 0x20,
    TAG_SEX: 0x03,
    TAG_NATION: 0x03,
    TAG_BIRTH: 0x06,
}

SW_OK = 0x9000
_MAX_CHAIN = 32  # GET RESPONSE / 6Cxx rounds before we call the card broken


class NotSocialSecurityCard(CardUnsupported):
    """The card has no SSSE application (6A82/6A83): maybe a staff badge."""


class PinRequired(CardUnsupported):
    """The card wants a PIN before its records can be read; we never send one."""

    hint = "This province's cards need the PIN pad; the kiosk never guesses a PIN."


class CardProtocolError(CardReaderError):
    """The card answered something malformed or unexpected."""


def read_record(tag: int, le: int | None = None) -> bytes:
    """READ RECORD with P1 = the item's tag."""
    return bytes([0x00, 0xB2, tag, 0x00, RECORD_LE[tag] if le is None else le])


def get_response(le: int) -> bytes:
    """GET RESPONSE for the ``xx`` of a ``61 xx``."""
    return bytes([0x00, 0xC0, 0x00, 0x00, le])


def with_le(command: bytes, le: int) -> bytes:
    """The same case-2/4 command with its last byte (Le) replaced, for a ``6C xx`` retry."""
    if len(command) < 5:
        raise ValueError("a command with Le has at least 5 bytes")
    return command[:-1] + bytes([le])


def exchange(transmit: Transmit, command: bytes, step: str) -> bytearray:
    """Send one command, follow 61xx with GET RESPONSE and 6Cxx with a repeat; return the data on 9000."""
    out = bytearray()
    cmd = command
    for _ in range(_MAX_CHAIN):
        resp = transmit(cmd)
        if len(resp) < 2:
            raise CardProtocolError(f"{step}: response of {len(resp)} byte(s) has no status word")
        sw1, sw2 = resp[-2], resp[-1]
        sw = (sw1 << 8) | sw2
        out += resp  # no intermediate copy of the data: less to zero, and this runs per APDU
        del out[-2:]
        if isinstance(resp, bytearray):
            resp[:] = bytes(len(resp))  # card data lives on only in ``out``, which the caller zeroes
        if sw == SW_OK:
            return out
        if sw1 == 0x61:
            cmd = get_response(sw2)  # 61 00 means 256 bytes wait; Le 00 asks for them all
            continue
        if sw1 == 0x6C:
            out.clear()  # the card discarded the answer: repeat with the Le it told us
            cmd = with_le(cmd, sw2)
            continue
        check_status(sw, step)
    raise CardProtocolError(f"{step}: the card kept asking for more rounds (over {_MAX_CHAIN})")


def check_status(sw: int, step: str) -> None:
    """Raise the error a non-9000 status word means at this step."""
    if sw in (0x6A82, 0x6A83):
        raise NotSocialSecurityCard(f"not a social security card ({step}: SW {sw:04X})")
    if sw == 0x6982:
        raise PinRequired(
            f"the card wants a PIN ({step}: SW 6982): use the PIN pad or another card",
            citizen_key="error.card_pin_required",
        )
    raise CardProtocolError(f"{step}: the card answered SW {sw:04X}")


def parse_record(data: bytes | bytearray, tag: int) -> bytearray:
    """The value of a ``tag len value`` record, checking the tag and the length."""
    if len(data) < 2:
        raise CardProtocolError(f"record {tag:02X}: {len(data)} byte(s), too short for tag and length")
    if data[0] != tag:
        raise CardProtocolError(f"record {tag:02X}: the card returned tag {data[0]:02X}")
    n = data[1]
    if len(data) < 2 + n:
        raise CardProtocolError(f"record {tag:02X}: length says {n} but {len(data) - 2} byte(s) came")
    return bytearray(data[2 : 2 + n])


def decode_name(value: bytes | bytearray) -> str:
    """GBK name, padded with spaces or NULs."""
    try:
        text = bytes(value).decode("gbk")
    except UnicodeDecodeError as err:
        raise CardProtocolError("the name record is not valid GBK") from err
    return text.strip(" \x00\u3000")


def decode_bcd_date(value: bytes | bytearray) -> dt.date:
    """4 bytes BCD ``YYYYMMDD``."""
    if len(value) != 4:
        raise CardProtocolError(f"birth date has {len(value)} byte(s), want 4 BCD bytes")
    digits = bytes(value).hex()  # one hex digit per BCD nibble
    if not digits.isdigit():
        raise CardProtocolError("birth date is not BCD")
    try:
        return dt.date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
    except ValueError as err:
        raise CardProtocolError("birth date is not a real date") from err


def encode_bcd_date(day: dt.date) -> bytes:
    """Inverse of :func:`decode_bcd_date` (for the virtual card and the tests)."""
    return bytes.fromhex(day.strftime("%Y%m%d"))


def decode_ascii(value: bytes | bytearray, what: str) -> str:
    """Printable ASCII (card number, ID number), padding stripped."""
    text = bytes(value).rstrip(b" \x00")
    if not text or not text.isascii() or not text.decode("ascii").isprintable():
        raise CardProtocolError(f"{what} is not printable ASCII")
    return text.decode("ascii")


def decode_sex(value: bytes | bytearray) -> str:
    """``1`` male, ``2`` female, anything else unknown."""
    return {b"1": "M", b"2": "F"}.get(bytes(value[:1]), "U")


@dataclass
class SsseRecords:
    """The raw values read from the card, in bytearrays so :meth:`wipe` can zero them."""

    values: dict[int, bytearray] = field(default_factory=dict)

    def wipe(self) -> None:
        """Zero every raw value."""
        for v in self.values.values():
            v[:] = bytes(len(v))
        self.values.clear()

    def __repr__(self) -> str:
        return f"SsseRecords(tags={sorted(self.values)})"


_EF06_READS = [
    (tag, read_record(tag), f"read record {tag:02X}")
    for tag in (TAG_ID_NUMBER, TAG_NAME, TAG_SEX, TAG_NATION, TAG_BIRTH)
]
_READ_CARD_NUMBER = read_record(TAG_CARD_NUMBER)


def read_social_security(transmit: Transmit) -> SsseRecords:
    """Run the SSSE read sequence of id-readers.md §1 and return the raw records."""
    recs = SsseRecords()
    try:
        exchange(transmit, SELECT_SSSE, "select SSSE")
        exchange(transmit, SELECT_EF05, "select EF05")
        raw = exchange(transmit, _READ_CARD_NUMBER, "read card number")
        recs.values[TAG_CARD_NUMBER] = parse_record(raw, TAG_CARD_NUMBER)
        raw[:] = bytes(len(raw))
        exchange(transmit, SELECT_EF06, "select EF06")
        for tag, command, step in _EF06_READS:
            raw = exchange(transmit, command, step)
            recs.values[tag] = parse_record(raw, tag)
            raw[:] = bytes(len(raw))
    except BaseException:
        recs.wipe()  # no half identity survives a failed read
        raise
    return recs


def identity_from_records(recs: SsseRecords) -> Identity:
    """Decode and validate the records into an :class:`Identity` (card_kind ``social_security``)."""
    v = recs.values
    try:
        card_number = decode_ascii(v[TAG_CARD_NUMBER], "card number")
        id_number = decode_ascii(v[TAG_ID_NUMBER], "ID number")
        name = decode_name(v[TAG_NAME])
        birth = decode_bcd_date(v[TAG_BIRTH])
        sex = decode_sex(v[TAG_SEX])
        nation = bytes(v[TAG_NATION]).hex().upper()
    except KeyError as err:
        raise CardProtocolError(f"record {err.args[0]:02X} was not read") from None
    try:
        return Identity.checked(
            id_number,
            name,
            "social_security",
            gender=sex,
            birth_date=birth,  # type: ignore[arg-type]
            card_number=card_number,
            extra={"nation": nation},
        )
    except ValueError as err:
        # The message never quotes the number (identity.py guarantees that).
        raise CardProtocolError(f"the card's data is inconsistent: {err}") from None


def parse_uid(data: bytes | bytearray) -> str:
    """A badge UID as upper-case hex; 4-10 bytes is what ISO 14443 / 15693 cards have."""
    if not 4 <= len(data) <= 10:
        raise CardProtocolError(f"UID of {len(data)} byte(s); expected 4 to 10")
    return bytes(data).hex().upper()
