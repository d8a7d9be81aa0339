"""The LockBus contract, run over both families through a real pty (and once over socket://)."""

from __future__ import annotations

import logging
import threading
import time

import pytest

from drivers.lockboard.bus import SerialLockBus
from drivers.lockboard.frames import encode_kerong_status
from drivers.lockboard.polarity import Polarity
from drivers.lockboard.settings import BusSettings
from drivers.lockboard.sim import SimLockBoard
from kiosk.errors import LockBoardError, LockBoardFrameError, LockBoardTimeout, OpenNotDetected
from kiosk.ports import LockBus

from .rig import ABSENT, BOARDS, FAST, Rig, RigFactory

UNLOCK_KINDS = {"unlock", "open"}
READ_KINDS = {"status", "query_one", "query_all"}


def test_is_a_lock_bus(rig: Rig) -> None:
    assert isinstance(rig.bus, LockBus)
    assert rig.bus.simulated is False  # only build_bus marks a bus simulated


def test_open_confirms_by_reading_the_door(rig: Rig) -> None:
    assert not rig.sim.is_open(rig.a, 3)
    door = rig.bus.open(rig.a, 3)
    assert (door.board, door.channel, door.closed) == (rig.a, 3, False)
    assert rig.sim.is_open(rig.a, 3)
    kinds = [r.kind for r in rig.sim.requests_to(rig.a)]
    assert kinds[0] in UNLOCK_KINDS and kinds[0:1] == [
        k for k in kinds if k in UNLOCK_KINDS
    ]  # one unlock, first
    assert set(kinds[1:]) <= READ_KINDS and len(kinds) >= 2  # then confirmed by reading
    assert rig.bus.door_state(rig.a, 3).closed is False
    rig.sim.close_door(rig.a, 3)
    assert rig.bus.door_state(rig.a, 3).closed is True


def test_jammed_door_is_open_not_detected(rig: Rig) -> None:
    rig.sim.jam(rig.a, 2)
    t0 = time.monotonic()
    with pytest.raises(OpenNotDetected):
        rig.bus.open(rig.a, 2)
    assert time.monotonic() - t0 >= FAST["open_timeout_s"]  # it kept reading until the open timeout
    assert not rig.sim.is_open(rig.a, 2)
    assert [r.kind for r in rig.sim.requests_to(rig.a)].count(
        "unlock" if rig.family == "kerong-cu" else "open"
    ) == 1
    rig.sim.unjam(rig.a, 2)
    assert rig.bus.open(rig.a, 2).closed is False


def test_silent_board_fails_alone(rig: Rig) -> None:
    rig.sim.silence(rig.b)
    with pytest.raises(LockBoardTimeout) as exc:
        rig.bus.board_state(rig.b)
    assert isinstance(exc.value, TimeoutError) and f"board {rig.b}" in str(exc.value)
    with pytest.raises(LockBoardTimeout):
        rig.bus.open(rig.b, 1)
    with pytest.raises(LockBoardTimeout):
        rig.bus.door_state(rig.b, 1)
    assert rig.bus.open(rig.a, 1).closed is False  # the other board keeps working
    assert len(rig.bus.board_state(rig.a)) == 16


def test_board_down_and_back_logged_once_each(rig: Rig, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="drivers.lockboard")
    rig.sim.silence(rig.b)
    for _ in range(3):
        with pytest.raises(LockBoardTimeout):
            rig.bus.board_state(rig.b)
    rig.sim.revive(rig.b)
    for _ in range(2):
        rig.bus.board_state(rig.b)
    msgs = [r.getMessage() for r in caplog.records]
    assert sum("not answering" in m for m in msgs) == 1
    assert sum("answers again" in m for m in msgs) == 1


def test_slow_reply_within_timeout(rig: Rig) -> None:
    rig.sim.slow(rig.a, FAST["reply_timeout_s"] / 3)
    assert len(rig.bus.board_state(rig.a)) == 16
    assert len(rig.sim.requests_to(rig.a)) == 1  # no retry was needed


def test_slow_reply_over_timeout(make_rig: RigFactory) -> None:
    rig = make_rig(retries=0)
    rig.sim.slow(rig.a, 1.0)
    t0 = time.monotonic()
    with pytest.raises(LockBoardTimeout):
        rig.bus.board_state(rig.a)
    assert FAST["reply_timeout_s"] <= time.monotonic() - t0 < 0.5


def test_bad_checksum_then_retry_succeeds(rig: Rig) -> None:
    rig.sim.open_door_by_hand(rig.a, 4)
    rig.sim.corrupt(rig.a, 1)
    doors = rig.bus.board_state(rig.a)
    assert doors[4].closed is False
    assert len(rig.sim.requests_to(rig.a)) == 2  # the garbled reply was retried once


def test_bad_checksum_every_time_is_a_frame_error(rig: Rig) -> None:
    rig.sim.corrupt(rig.a, 10)
    with pytest.raises(LockBoardFrameError) as exc:
        rig.bus.board_state(rig.a)
    assert not isinstance(exc.value, LockBoardTimeout)
    assert len(rig.sim.requests_to(rig.a)) == FAST["retries"] + 1


@pytest.mark.parametrize("noise_kind", ["line noise", "a cut-off frame"])
def test_noise_before_replies_resyncs(rig: Rig, noise_kind: str) -> None:
    if noise_kind == "line noise":
        rig.sim.add_noise(rig.a)
    else:  # the start of a real reply of this family, cut off: the parser must not wait on it
        cut = (
            encode_kerong_status(rig.a, 0x0303, 0)[:5]
            if rig.family == "kerong-cu"
            else bytes((0x80, rig.a, 0))
        )
        rig.sim.add_noise(rig.a, cut)
    rig.sim.put_item(rig.a, 6)
    doors = rig.bus.board_state(rig.a)
    assert len(rig.sim.requests_to(rig.a)) == 1  # found in the first reply, no retry
    assert all(d.closed for d in doors.values())
    assert rig.bus.open(rig.a, 6).closed is False
    assert rig.bus.door_state(rig.a, 6).closed is False


def test_board_state_is_one_request(rig: Rig) -> None:
    rig.sim.open_door_by_hand(rig.a, 2)
    rig.sim.put_item(rig.a, 5)
    before = len(rig.sim.received)
    doors = rig.bus.board_state(rig.a)
    sent = rig.sim.received[before:]
    assert len(sent) == 1 and sent[0].board == rig.a and sent[0].channel == 0
    assert sorted(doors) == list(range(1, 17))
    assert [ch for ch, d in doors.items() if not d.closed] == [2]
    if rig.family == "kerong-cu":
        assert [ch for ch, d in doors.items() if d.item_present] == [5]
    else:
        assert all(d.item_present is None for d in doors.values())  # generic-8a boards have no sensors


def test_scan_reports_who_answers(rig: Rig) -> None:
    absent = ABSENT[rig.family]
    assert rig.bus.scan([rig.a, absent, rig.b, 99]) == [rig.a, rig.b]
    rig.sim.silence(rig.a)
    assert rig.bus.scan([rig.a, rig.b]) == [rig.b]


@pytest.mark.parametrize("inverted", [False, True])
def test_polarity_is_a_site_setting(make_rig: RigFactory, inverted: bool) -> None:
    site = Polarity(hook_closed_level=0, item_present_level=0, closed_status=0x00) if inverted else Polarity()
    rig = make_rig(sim_polarity=site, bus_polarity=site)
    rig.sim.open_door_by_hand(rig.a, 4)
    rig.sim.put_item(rig.a, 7)
    doors = rig.bus.board_state(rig.a)
    assert [ch for ch, d in doors.items() if not d.closed] == [4]
    assert rig.bus.door_state(rig.a, 4).closed is False and rig.bus.door_state(rig.a, 5).closed is True
    if rig.family == "kerong-cu":
        assert [ch for ch, d in doors.items() if d.item_present] == [7]
    assert rig.bus.open(rig.a, 9).closed is False


def test_wrong_polarity_setting_reads_every_door_inverted(make_rig: RigFactory) -> None:
    """Proves the driver reads the setting: the board is wired one way, the config says the other."""
    rig = make_rig(sim_polarity=Polarity(hook_closed_level=0, closed_status=0x00), bus_polarity=Polarity())
    rig.sim.open_door_by_hand(rig.a, 4)
    assert [ch for ch, d in rig.bus.board_state(rig.a).items() if d.closed] == [4]


def test_concurrent_opens_are_serialised(make_rig: RigFactory) -> None:
    rig = make_rig(open_timeout_s=2.0)
    errors: list[BaseException] = []
    slots = [(rig.a, ch) for ch in range(1, 7)] + [(rig.b, ch) for ch in range(1, 5)]

    def worker(board: int, ch: int) -> None:
        try:
            assert rig.bus.open(board, ch).closed is False
            rig.bus.board_state(board)
        except BaseException as err:  # collected for the main thread
            errors.append(err)

    threads = [threading.Thread(target=worker, args=s) for s in slots]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert errors == []
    assert all(rig.sim.is_open(b, ch) for b, ch in slots)
    assert rig.sim.collisions == 0  # never a second request while a board was answering


def test_over_socket_url(make_rig: RigFactory) -> None:
    rig = make_rig(tcp=True)
    assert rig.where.startswith("socket://127.0.0.1:")
    assert rig.bus.open(rig.a, 5).closed is False
    assert [ch for ch, d in rig.bus.board_state(rig.a).items() if not d.closed] == [5]
    rig.sim.jam(rig.b, 1)
    with pytest.raises(OpenNotDetected):
        rig.bus.open(rig.b, 1)
    assert rig.bus.scan([rig.a, rig.b, ABSENT[rig.family]]) == [rig.a, rig.b]


def test_unlock_replies_and_other_header_are_accepted(make_rig: RigFactory) -> None:
    """Kerong boards that answer an unlock with a status frame; generic boards whose reply header is 80."""
    rig = make_rig(sim_kwargs={"unlock_reply": True, "lock_reply_header": 0x80})
    assert rig.bus.open(rig.a, 8).closed is False
    assert rig.bus.door_state(rig.a, 8).closed is False
    assert rig.bus.door_state(rig.a, 9).closed is True


def test_channel_outside_the_board_is_refused(rig: Rig) -> None:
    with pytest.raises(ValueError):
        rig.bus.open(rig.a, 17)
    with pytest.raises(ValueError):
        rig.bus.door_state(rig.a, 0)
    assert rig.sim.received == []


def test_closed_bus_refuses_requests(rig: Rig) -> None:
    rig.bus.close()
    rig.bus.close()  # idempotent
    with pytest.raises(LockBoardError):
        rig.bus.board_state(rig.a)


def test_second_owner_of_a_local_port_is_refused(rig: Rig) -> None:
    from drivers.lockboard.bus import SerialLockBus

    second = SerialLockBus(rig.where, rig.bus.settings)
    try:
        with pytest.raises(LockBoardError):
            second.board_state(rig.a)
    finally:
        second.close()
    assert len(rig.bus.board_state(rig.a)) == 16


def test_late_reply_to_an_earlier_request_is_flushed(make_rig: RigFactory) -> None:
    rig = make_rig(retries=0)
    rig.sim.slow(rig.a, 0.15)
    with pytest.raises(LockBoardTimeout):
        rig.bus.board_state(rig.a)
    rig.sim.slow(rig.a, 0)
    time.sleep(0.2)  # the late reply (every door closed) is now waiting in the port's input
    rig.sim.open_door_by_hand(rig.a, 4)
    assert [ch for ch, d in rig.bus.board_state(rig.a).items() if not d.closed] == [4]


# --- an unhealthy bus: garbled replies never end a wait early, a bad frame is re-sent at once --------------------
def _unlocks(rig: Rig) -> list[object]:
    return [r for r in rig.sim.requests_to(rig.a) if r.kind in ("unlock", "open", "unlock_all")]


def test_a_bad_frame_is_re_sent_at_once_not_after_the_reply_timeout() -> None:
    # A long reply timeout: waiting it out once would show; the re-send must come within a few ms of the bad frame.
    cab = {"reply_timeout_s": 1.0, "open_timeout_s": 1.5, "open_poll_interval_s": 0.01, "retries": 2}
    for family, (a, _b) in BOARDS.items():
        channels = 16 if family == "kerong-cu" else 8
        sim = SimLockBoard(family, boards=[a], channels_per_board=channels)
        bus = SerialLockBus(
            sim.serve_pty(), BusSettings.for_family(family, channels_per_board=channels, **cab)
        )
        try:
            bus.board_state(a)  # warm up
            sim.corrupt(a, 1)
            t0 = time.monotonic()
            bus.board_state(a)
            assert time.monotonic() - t0 < 0.2, family
            assert len(sim.requests_to(a)) == 3  # warm-up, the garbled one, the re-send
        finally:
            bus.close()
            sim.stop()


def test_garbled_replies_while_confirming_an_open_keep_polling(rig: Rig) -> None:
    rig.sim.corrupt(rig.a, 3)  # e.g. the unlock's reply and two status replies
    assert rig.bus.open(rig.a, 3).closed is False
    assert rig.sim.is_open(rig.a, 3)
    assert len(_unlocks(rig)) == 1  # an unlock is never re-sent


def test_only_garbage_until_the_open_timeout_is_the_bus_fault_not_the_door(rig: Rig) -> None:
    rig.sim.corrupt(rig.a, 10_000)
    t0 = time.monotonic()
    with pytest.raises(LockBoardFrameError, match="state is unknown") as exc:
        rig.bus.open(rig.a, 3)
    assert not isinstance(exc.value, OpenNotDetected)
    assert FAST["open_timeout_s"] <= time.monotonic() - t0 < FAST["open_timeout_s"] + 0.5
    assert len(_unlocks(rig)) == 1
    rig.sim.clear_faults(rig.a)
    assert rig.bus.door_state(rig.a, 3).closed is False  # it had opened all along


def test_a_jammed_door_is_still_open_not_detected(rig: Rig) -> None:
    rig.sim.jam(rig.a, 3)
    rig.sim.corrupt(rig.a, 2)  # some garbage, then valid "closed" replies: the door's own fault
    with pytest.raises(OpenNotDetected):
        rig.bus.open(rig.a, 3)
    assert len(_unlocks(rig)) == 1
