"""The same driver against a real board, only when the environment names one.

KIOSK_TEST_LOCKBOARD_URL=/dev/serial/by-id/...  (required)
KIOSK_TEST_LOCKBOARD_FAMILY=kerong-cu|generic-8a, KIOSK_TEST_LOCKBOARD_BOARD=N,
KIOSK_TEST_LOCKBOARD_CHANNELS=16, KIOSK_TEST_LOCKBOARD_OPEN=CHANNEL (opens that door: someone must be there).
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from drivers.lockboard.bus import SerialLockBus
from drivers.lockboard.settings import BusSettings

URL = os.environ.get("KIOSK_TEST_LOCKBOARD_URL", "")
FAMILY = os.environ.get("KIOSK_TEST_LOCKBOARD_FAMILY", "kerong-cu")
BOARD = int(os.environ.get("KIOSK_TEST_LOCKBOARD_BOARD", "0" if FAMILY == "kerong-cu" else "1"))
CHANNELS = int(os.environ.get("KIOSK_TEST_LOCKBOARD_CHANNELS", "16"))

pytestmark = pytest.mark.skipif(not URL, reason="no real lock board: set KIOSK_TEST_LOCKBOARD_URL")


@pytest.fixture
def bus() -> Iterator[SerialLockBus]:
    b = SerialLockBus(URL, BusSettings.for_family(FAMILY, channels_per_board=CHANNELS))  # type: ignore[arg-type]
    yield b
    b.close()


def test_real_board_answers_scan_and_state(bus: SerialLockBus) -> None:
    assert BOARD in bus.scan([BOARD])
    doors = bus.board_state(BOARD)
    assert sorted(doors) == list(range(1, CHANNELS + 1))
    assert bus.door_state(BOARD, 1).closed == doors[1].closed


@pytest.mark.skipif(
    not os.environ.get("KIOSK_TEST_LOCKBOARD_OPEN"), reason="set KIOSK_TEST_LOCKBOARD_OPEN=CHANNEL"
)
def test_real_door_opens_and_is_confirmed(bus: SerialLockBus) -> None:
    ch = int(os.environ["KIOSK_TEST_LOCKBOARD_OPEN"])
    assert bus.open(BOARD, ch).closed is False
