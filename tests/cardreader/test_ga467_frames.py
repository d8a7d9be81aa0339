"""drivers.cardreader.ga467_frames against every worked example of id-readers.md §2, plus fuzzing."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drivers.cardreader import ga467_frames as F
from kiosk.errors import CardReaderError, CardRemoved, CardUnsupported

DEMO = "110105199001011232"


def h(text: str) -> bytes:
    return bytes.fromhex(text)


@pytest.mark.parametrize(
    "frame, spec",
    [
        (F.SAM_STATUS, "AA AA AA 96 69 00 03 11 FF ED"),
        (F.FIND_CARD, "AA AA AA 96 69 00 03 20 01 22"),
        (F.SELECT_CARD, "AA AA AA 96 69 00 03 20 02 21"),
        (F.READ_TEXT_PHOTO, "AA AA AA 96 69 00 03 30 01 32"),
    ],
)
def test_requests_are_the_documented_bytes(frame: bytes, spec: str) -> None:
    assert frame == h(spec)


@pytest.mark.parametrize(
    "raw, sw3, data",
    [
        ("AA AA AA 96 69 00 04 00 00 90 94", 0x90, ""),  # SAM status OK
        ("AA AA AA 96 69 00 08 00 00 9F 00 00 00 00 97", 0x9F, "00000000"),  # card found
        ("AA AA AA 96 69 00 04 00 00 80 84", 0x80, ""),  # no card
    ],
)
def test_documented_replies_parse(raw: str, sw3: int, data: str) -> None:
    frame = F.parse_frame(h(raw))
    assert frame.sw3 == sw3 and frame.data == h(data)
    assert F.reply(sw3, h(data)) == h(raw)


def test_select_reply_shape() -> None:
    raw = F.reply(0x90, bytes(8))
    assert raw[5:7] == h("000C") and raw[7:10] == h("000090") and len(raw) == 5 + 2 + 12
    assert F.parse_frame(raw).sw3 == 0x90


def test_read_reply_layout() -> None:
    text = F.encode_text({"name": "张三", "id_number": DEMO, "valid_to": "长期"})
    raw = F.read_reply(text, bytes(range(256)) * 4)
    assert len(raw) == F.READ_REPLY_LEN == 1295
    assert raw[5:7] == h("0508") and raw[7:10] == h("000090")
    assert raw[10:12] == h("0100") and raw[12:14] == h("0400")
    assert raw[14:270] == text and raw[270:1294] == bytes(range(256)) * 4
    assert raw[1294] == F.xor(raw[5:1294])
    rr = F.parse_read_data(F.parse_frame(raw).data)
    assert (rr.field("name"), rr.field("id_number"), rr.field("valid_to")) == ("张三", DEMO, "长期")
    assert text[122:158].decode("utf-16-le") == DEMO  # ID number at text offset 122, 36 bytes


def test_identity_from_read_reply() -> None:
    text = F.encode_text(
        {
            "name": "李小明",
            "gender": "1",
            "nation": "01",
            "birth": "19900101",
            "address": "演示市示例路1号",
            "id_number": DEMO,
            "authority": "演示市公安局",
            "valid_from": "20200101",
            "valid_to": "20400101",
        }
    )
    rr = F.parse_read_data(F.parse_frame(F.read_reply(text, b"W" * 1024)).data)
    i = F.identity_from_read(rr)
    rr.wipe()
    assert not any(rr.text) and not any(rr.photo)
    assert (i.name, i.gender, i.card_kind, i.extra["valid_to"]) == (
        "李小明",
        "M",
        "resident_id",
        "2040-01-01",
    )
    assert i.photo == bytearray(b"W" * 1024)  # the identity's own copy survives the reply's wipe


@pytest.mark.parametrize(
    "sw3, error, text",
    [
        (0x10, F.Ga467FrameError, "checksum"),
        (0x11, F.Ga467FrameError, "length"),
        (0x21, F.Ga467FrameError, "bad command"),
        (0x31, F.Ga467SamError, "card authentication"),
        (0x32, F.Ga467SamError, "SAM authentication"),
        (0x33, F.Ga467SamError, "verification"),
        (0x40, CardUnsupported, "unknown card type"),
        (0x41, CardRemoved, "read failed"),
        (0x60, F.Ga467SamError, "self-test"),
        (0x80, CardRemoved, "no card"),
        (0x81, CardRemoved, "select failed"),
        (0x77, CardReaderError, "unknown status"),
    ],
)
def test_every_sw3_is_a_clear_error(sw3: int, error: type[Exception], text: str) -> None:
    with pytest.raises(error, match=text):
        F.check_sw3(sw3, "read")


def test_bad_checksum_and_resync_past_noise() -> None:
    good = F.reply(0x90)
    bad = good[:-1] + bytes([good[-1] ^ 1])
    with pytest.raises(F.Ga467FrameError, match="checksum"):
        F.parse_frame(bad)
    buf = bytearray(b"\x00\x13\xaa\xaa" + bad + b"\xaa" + good)
    with pytest.raises(F.Ga467FrameError):
        F.take_frame(buf)
    assert F.take_frame(buf) is not None and buf == b""


def test_frame_split_across_reads() -> None:
    raw = F.reply(0x9F, bytes(4))
    buf = bytearray()
    for i, b in enumerate(raw):
        buf.append(b)
        frame = F.take_frame(buf)
        assert (frame is None) == (i < len(raw) - 1)
    assert frame is not None and frame.sw3 == 0x9F


@given(st.binary(min_size=2, max_size=F.MAX_LEN - 1))
def test_round_trip(body: bytes) -> None:
    assert F.parse_frame(F.build_frame(body)).body == body


@given(st.binary(max_size=1), st.binary(min_size=F.MAX_LEN, max_size=F.MAX_LEN + 2))
def test_build_refuses_impossible_bodies(short: bytes, long: bytes) -> None:
    for body in (short, long):
        with pytest.raises(ValueError):
            F.build_frame(body)


@given(st.binary(max_size=1400))
def test_fuzzed_bytes_raise_only_driver_errors(raw: bytes) -> None:
    buf = bytearray(raw)
    for _ in range(5):
        try:
            frame = F.take_frame(buf)
            if frame is not None:
                F.check_sw3(frame.sw3, "fuzz")
                F.identity_from_read(F.parse_read_data(frame.data))
        except CardReaderError:
            pass


@given(st.binary(min_size=256, max_size=256))
def test_fuzzed_text_block_raises_only_driver_errors(text: bytes) -> None:
    try:
        F.identity_from_read(F.ReadReply(bytearray(text), bytearray(1024)))
    except CardReaderError:
        pass
