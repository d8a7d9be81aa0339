"""The pure codec: every worked example of lockboards.md byte for byte, round trips and fuzzed garbage."""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from drivers.lockboard import frames as f
from drivers.lockboard import polarity as p
from drivers.lockboard.frames import Expect, Request
from drivers.lockboard.polarity import Polarity
from kiosk.errors import LockBoardFrameError


def hx(s: str) -> bytes:
    return bytes.fromhex(s)


# --- worked examples -------------------------------------------------------------
@pytest.mark.parametrize(
    ("req", "wire"),
    [
        (Request("kerong-cu", "status", 0), "02 00 30 03 35"),
        (Request("kerong-cu", "status", 2), "02 20 30 03 55"),
        (Request("kerong-cu", "unlock", 0, 1), "02 00 31 03 36"),
        (Request("kerong-cu", "unlock", 0, 16), "02 0F 31 03 45"),
        (Request("kerong-cu", "unlock", 2, 5), "02 24 31 03 5A"),
        (Request("kerong-cu", "unlock_all", 0), "02 00 33 03 38"),
        (Request("generic-8a", "open", 1, 1), "8A 01 01 11 9B"),
        (Request("generic-8a", "query_one", 1, 1), "80 01 01 33 B3"),
        (Request("generic-8a", "query_all", 1), "80 01 00 33 B2"),
    ],
)
def test_request_examples(req: Request, wire: str) -> None:
    assert f.encode_request(req) == hx(wire)
    assert f.decode_request(hx(wire), req.family) == req


def test_kerong_status_reply_example() -> None:
    wire = hx("02 00 35 05 80 01 00 03 C0")
    reply = f.decode_kerong_status(wire)
    assert reply == f.KerongStatus(board=0, hooks=(1 << 0) | (1 << 2) | (1 << 15), sensors=1)
    assert f.encode_kerong_status(0, reply.hooks, reply.sensors) == wire
    doors = p.kerong_doors(reply, Polarity(hook_closed_level=1, item_present_level=1))
    assert [ch for ch, d in doors.items() if d.closed] == [1, 3, 16]
    assert [ch for ch, d in doors.items() if d.item_present] == [1]


def test_translated_doors_are_kept_per_reading_but_each_caller_gets_its_own_map() -> None:
    reply, pol = f.KerongStatus(board=2, hooks=0b101, sensors=0b1), Polarity()
    first = p.kerong_doors(reply, pol)
    first.pop(1)
    first[3] = first[2]
    again = p.kerong_doors(reply, pol)
    assert sorted(again) == list(range(1, 17)) and again[1].closed and not again[2].closed and again[3].closed
    inverted = p.kerong_doors(reply, Polarity(hook_closed_level=0, item_present_level=0))
    assert not inverted[1].closed and inverted[2].closed and inverted[1].item_present is False
    g = f.GenericBoardState(board=1, bits=0b10, channels=8)
    assert [ch for ch, d in p.generic_doors(g, Polarity(closed_status=0x11)).items() if d.closed] == [2]
    inverted_g = p.generic_doors(g, Polarity(closed_status=0x00))
    assert [ch for ch, d in inverted_g.items() if d.closed] == [1, *range(3, 9)]


def test_generic_query_all_example_24_channels() -> None:
    wire = hx("80 01 00 01 05 33 B6")
    reply = f.decode_generic_all(wire, 24)
    assert reply == f.GenericBoardState(board=1, bits=(1 << 0) | (1 << 2) | (1 << 8), channels=24)
    assert f.encode_generic_all(1, reply.bits, 24) == wire
    doors = p.generic_doors(reply, Polarity(closed_status=0x11))
    assert [ch for ch, d in doors.items() if d.closed] == [1, 3, 9]
    assert all(d.item_present is None for d in doors.values())


@pytest.mark.parametrize("header", [0x8A, 0x80])
def test_generic_lock_reply_accepts_either_header(header: int) -> None:
    body = bytes((header, 1, 1, 0x00))
    wire = body + bytes((f.xor8(body),))
    assert f.decode_generic_lock(wire) == f.GenericLockState(1, 1, 0x00, header)
    assert p.generic_door(f.decode_generic_lock(wire), Polarity(closed_status=0x11)).closed is False
    assert p.generic_door(f.decode_generic_lock(wire), Polarity(closed_status=0x00)).closed is True
    with pytest.raises(LockBoardFrameError):
        f.decode_generic_lock(wire, headers=(0x8A,) if header == 0x80 else (0x80,))


@pytest.mark.parametrize(
    "bad",
    [
        "02 00 35 05 80 01 00 03 C1",
        "02 00 35 05 80 01 00 04 C1",
        "02 00 35 05 80 01 00 03",
        "03 00 35 05 80 01 00 03 C1",
    ],
)
def test_kerong_garbled_replies_rejected(bad: str) -> None:
    with pytest.raises(LockBoardFrameError):
        f.decode_kerong_status(hx(bad))


def test_impossible_requests_are_value_errors() -> None:
    for req in (
        Request("kerong-cu", "status", 16),
        Request("kerong-cu", "unlock", 0, 17),
        Request("generic-8a", "query_all", 0),
        Request("generic-8a", "open", 65, 1),
        Request("kerong-cu", "open", 0, 1),
        Request("generic-8a", "unlock_all", 1),
    ):
        with pytest.raises(ValueError):
            f.encode_request(req)


# --- round trips -------------------------------------------------------------------
CHANNELS = st.sampled_from([12, 16, 24, 48])


@st.composite
def requests(draw: st.DrawFn) -> Request:
    family = draw(st.sampled_from(f.FAMILIES))
    if family == "kerong-cu":
        kind = draw(st.sampled_from(["status", "unlock", "unlock_all"]))
        board = draw(st.integers(0, 15))
        return Request(family, kind, board, draw(st.integers(1, 16)) if kind == "unlock" else 0)
    kind = draw(st.sampled_from(["open", "query_one", "query_all"]))
    board = draw(st.integers(1, 64))
    return Request(family, kind, board, 0 if kind == "query_all" else draw(st.integers(1, 48)))


@st.composite
def replies(draw: st.DrawFn) -> tuple[Expect, bytes, f.Reply]:
    """A valid reply frame with the Expect that asks for it."""
    which = draw(st.sampled_from(["status", "lock", "all"]))
    if which == "status":
        board = draw(st.integers(0, 15))
        r = f.KerongStatus(board, draw(st.integers(0, 0xFFFF)), draw(st.integers(0, 0xFFFF)))
        return Expect("kerong-cu", "status", board), f.encode_kerong_status(board, r.hooks, r.sensors), r
    board = draw(st.integers(1, 64))
    if which == "lock":
        lock, status = draw(st.integers(1, 48)), draw(st.sampled_from(f.G_ST_VALUES))
        header = draw(st.sampled_from([0x8A, 0x80]))
        r2 = f.GenericLockState(board, lock, status, header)
        return (
            Expect("generic-8a", "lock", board, lock),
            f.encode_generic_lock(board, lock, status, header),
            r2,
        )
    channels = draw(CHANNELS)
    bits = draw(st.integers(0, (1 << channels) - 1))
    r3 = f.GenericBoardState(board, bits, channels)
    return Expect("generic-8a", "all", board, 0, channels), f.encode_generic_all(board, bits, channels), r3


@given(requests())
def test_request_round_trip(req: Request) -> None:
    wire = f.encode_request(req)
    assert len(wire) == 5
    assert f.decode_request(wire, req.family) == req
    assert f.find_request(b"\x00\xff" + wire + b"\x02", req.family) == (req, 2 + len(wire))


@given(replies())
def test_reply_round_trip(case: tuple[Expect, bytes, f.Reply]) -> None:
    expect, wire, reply = case
    assert expect.decode(wire) == reply
    assert f.scan_reply(wire, expect) == f.ScanResult(reply, len(wire))


@given(replies(), st.integers(0, 64), st.integers(1, 255))
def test_any_single_byte_change_is_rejected(
    case: tuple[Expect, bytes, f.Reply], pos: int, delta: int
) -> None:
    expect, wire, _ = case
    pos %= len(wire)
    bad = bytearray(wire)
    bad[pos] = (bad[pos] + delta) & 0xFF
    with pytest.raises(LockBoardFrameError):
        expect.decode(bytes(bad))


@given(replies(), st.binary(max_size=40), st.binary(max_size=40), st.integers(1, 7))
def test_reply_found_in_noise_fed_in_chunks(
    case: tuple[Expect, bytes, f.Reply], noise: bytes, tail: bytes, chunk: int
) -> None:
    expect, wire, reply = case
    assume(f.scan_reply(noise, expect).reply is None)  # noise that holds a valid reply itself is not noise
    stream = noise + wire + tail
    buf, found = b"", None
    for i in range(0, len(stream), chunk):  # as a serial port delivers it: a few bytes at a time
        buf += stream[i : i + chunk]
        res = f.scan_reply(buf, expect)
        assert 0 <= res.consumed <= len(buf)
        if res.reply is not None:
            found = res.reply
            break
        buf = buf[res.consumed :]
    assert found == reply


@given(st.binary(max_size=80), replies())
def test_garbage_never_raises_from_scan(garbage: bytes, case: tuple[Expect, bytes, f.Reply]) -> None:
    expect = case[0]
    res = f.scan_reply(garbage, expect)
    assert 0 <= res.consumed <= len(garbage)
    if res.reply is not None:  # only a genuinely valid frame may come out of garbage
        assert expect.decode(garbage[res.consumed - expect.length : res.consumed]) == res.reply


@given(st.binary(max_size=16), st.sampled_from([12, 16, 24, 48]))
def test_garbage_raises_only_frame_errors(garbage: bytes, channels: int) -> None:
    for decode in (
        f.decode_kerong_status,
        f.decode_generic_lock,
        lambda b: f.decode_generic_all(b, channels),
    ):
        try:
            decode(garbage)
        except LockBoardFrameError:
            pass
    for family in f.FAMILIES:
        try:
            f.decode_request(garbage, family)
        except LockBoardFrameError:
            pass
        req, used = f.find_request(garbage, family)
        assert 0 <= used <= len(garbage)
        if req is not None:
            assert f.encode_request(req) == garbage[used - 5 : used]


@given(
    st.dictionaries(st.integers(1, 16), st.booleans(), min_size=16, max_size=16),
    st.dictionaries(st.integers(1, 16), st.booleans(), min_size=16, max_size=16),
    st.integers(0, 1),
    st.integers(0, 1),
)
def test_kerong_polarity_round_trip(
    closed: dict[int, bool], items: dict[int, bool], hook: int, item: int
) -> None:
    pol = Polarity(hook_closed_level=hook, item_present_level=item)
    hooks, sensors = p.kerong_masks(closed, items, pol)
    doors = p.kerong_doors(f.KerongStatus(3, hooks, sensors), pol)
    assert {ch: d.closed for ch, d in doors.items()} == closed
    assert {ch: d.item_present for ch, d in doors.items()} == items
    no_sensors = p.kerong_doors(
        f.KerongStatus(3, hooks, sensors), Polarity(hook, item, has_item_sensors=False)
    )
    assert all(d.item_present is None for d in no_sensors.values())


@given(st.lists(st.booleans(), min_size=24, max_size=24), st.sampled_from([0x11, 0x00]))
def test_generic_polarity_round_trip(closed_list: list[bool], closed_status: int) -> None:
    closed = {ch: c for ch, c in enumerate(closed_list, start=1)}
    pol = Polarity(closed_status=closed_status)
    wire = f.encode_generic_all(5, p.generic_bits(closed, pol), 24)
    doors = p.generic_doors(f.decode_generic_all(wire, 24), pol)
    assert {ch: d.closed for ch, d in doors.items()} == closed
