"""drivers.cardreader.apdu against id-readers.md §1, driven by the virtual card's pure respond()."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drivers.cardreader import apdu as A
from drivers.cardreader.vcard import CardFaults, VirtualSocialSecurityCard, VirtualStaffBadge
from kiosk.errors import CardReaderError, CardUnsupported

DEMO = "110105199001011232"


def test_commands_are_the_documented_bytes() -> None:
    assert A.SELECT_SSSE.hex().upper() == "00A404000F7378312E73682EC9E7BBE1B1A3D5CF"
    assert A.SELECT_EF05.hex().upper() == "00A4020002EF05"
    assert A.SELECT_EF06.hex().upper() == "00A4020002EF06"
    assert A.read_record(A.TAG_CARD_NUMBER).hex().upper() == "00B207000B"
    table = {
        0x08: "00B2080014",
        0x09: "00B2090020",
        0x0A: "00B20A0003",
        0x0B: "00B20B0003",
        0x0D: "00B20D0006",
    }
    for tag, cmd in table.items():
        assert A.read_record(tag).hex().upper() == cmd
    assert A.GET_UID.hex().upper() == "FFCA000000"
    assert A.get_response(0x1C).hex().upper() == "00C000001C"


def script(*answers: str) -> tuple[list[bytes], A.Transmit]:
    """A transmit that answers from a list and records the commands."""
    sent: list[bytes] = []
    it = iter(answers)

    def transmit(cmd: bytes) -> bytes:
        sent.append(cmd)
        return bytes.fromhex(next(it))

    return sent, transmit


def test_61xx_is_followed_by_get_response() -> None:
    sent, tx = script("6110", "0102030405060708090A0B0C0D0E0F10" + "9000")
    assert A.exchange(tx, A.SELECT_SSSE, "select") == bytes(range(1, 17))
    assert sent[1].hex().upper() == "00C0000010"


def test_6cxx_repeats_with_the_given_le() -> None:
    sent, tx = script("6C0B", "0709443030303030303031" + "9000")
    data = A.exchange(tx, A.read_record(7, le=0x20), "read")
    assert A.parse_record(data, 7) == b"D00000001"
    assert sent[1].hex().upper() == "00B207000B"


@pytest.mark.parametrize("sw", ["6A82", "6A83"])
def test_no_such_file_means_not_a_social_security_card(sw: str) -> None:
    _, tx = script(sw)
    with pytest.raises(A.NotSocialSecurityCard, match="not a social security card"):
        A.exchange(tx, A.SELECT_SSSE, "select SSSE")


def test_6982_means_pin_and_is_unsupported() -> None:
    _, tx = script("6982")
    with pytest.raises(CardUnsupported, match="PIN") as err:
        A.exchange(tx, A.read_record(8), "read")
    assert err.value.citizen_key == "error.card_pin_required"


def test_other_status_words_are_protocol_errors() -> None:
    _, tx = script("6F00")
    with pytest.raises(A.CardProtocolError, match="6F00"):
        A.exchange(tx, A.SELECT_EF05, "select EF05")


def test_endless_chaining_is_cut_off() -> None:
    _, tx = script(*(["6101"] * 40))
    with pytest.raises(A.CardProtocolError, match="more rounds"):
        A.exchange(tx, A.SELECT_SSSE, "select")


def test_decoders() -> None:
    assert A.decode_name("张三".encode("gbk") + b"  \x00\x00") == "张三"
    assert A.decode_bcd_date(bytes.fromhex("19900101")) == dt.date(1990, 1, 1)
    assert A.decode_ascii(b"D00000001", "card number") == "D00000001"
    with pytest.raises(A.CardProtocolError):
        A.decode_bcd_date(bytes.fromhex("1990A101"))
    with pytest.raises(A.CardProtocolError):
        A.decode_bcd_date(bytes.fromhex("19901301"))
    with pytest.raises(A.CardProtocolError, match="tag 09"):
        A.parse_record(bytes.fromhex("0902AABB"), 8)
    with pytest.raises(A.CardProtocolError, match="length says 5"):
        A.parse_record(bytes.fromhex("0805AABB"), 8)


@pytest.mark.parametrize(
    "faults",
    [CardFaults(), CardFaults(use_61xx=True), CardFaults(use_61xx=True, get_response_chunk=5)],
    ids=["plain", "61xx", "61xx-chunked"],
)
def test_full_sequence_against_the_virtual_card(faults: CardFaults) -> None:
    card = VirtualSocialSecurityCard("李小明", DEMO, "19900101", "1", "D12345678", faults=faults)
    recs = A.read_social_security(card.respond)
    raw = list(recs.values.values())
    identity = A.identity_from_records(recs)
    recs.wipe()
    assert all(not any(v) for v in raw)  # the raw bytearrays were zeroed
    assert (identity.id_number, identity.name, identity.gender) == (DEMO, "李小明", "M")
    assert (identity.card_number, identity.card_kind, identity.birth_date) == (
        "D12345678",
        "social_security",
        dt.date(1990, 1, 1),
    )


def test_6cxx_against_a_card_with_a_short_name_field() -> None:
    card = VirtualSocialSecurityCard("张三", DEMO, faults=CardFaults(strict_le=True), name_field_len=20)
    sent: list[bytes] = []

    def tx(cmd: bytes) -> bytes:
        sent.append(cmd)
        return card.respond(cmd)

    assert A.identity_from_records(A.read_social_security(tx)).name == "张三"
    assert "00B2090016" in [c.hex().upper() for c in sent]


def test_inconsistent_birth_date_is_refused() -> None:
    card = VirtualSocialSecurityCard("张三", DEMO, birth="19900102")
    with pytest.raises(A.CardProtocolError, match="birth date does not match") as err:
        A.identity_from_records(A.read_social_security(card.respond))
    assert DEMO not in str(err.value)


def test_badge_is_not_ssse_but_has_a_uid() -> None:
    badge = VirtualStaffBadge("04a1b2c3d4")
    with pytest.raises(A.NotSocialSecurityCard):
        A.read_social_security(badge.respond)
    assert A.parse_uid(A.exchange(badge.respond, A.GET_UID, "uid")) == "04A1B2C3D4"


@given(st.lists(st.binary(max_size=40), min_size=1, max_size=30))
def test_fuzzed_card_answers_raise_only_driver_errors(answers: list[bytes]) -> None:
    it = iter(answers)

    def tx(cmd: bytes) -> bytes:
        try:
            return next(it)
        except StopIteration:
            return b"\x90\x00"

    try:
        A.identity_from_records(A.read_social_security(tx))
    except CardReaderError:
        pass


@given(st.dictionaries(st.sampled_from(list(A.RECORD_LE)), st.binary(max_size=40)))
def test_fuzzed_records_raise_only_driver_errors(values: dict[int, bytes]) -> None:
    try:
        A.identity_from_records(A.SsseRecords({k: bytearray(v) for k, v in values.items()}))
    except CardReaderError:
        pass


@given(st.dates(min_value=dt.date(1000, 1, 1)))
def test_bcd_round_trip(day: dt.date) -> None:
    assert A.decode_bcd_date(A.encode_bcd_date(day)) == day
