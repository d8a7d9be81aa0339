"""Lock-board family facts live in one module (kiosk.lockboard_families) that config, driver and diagnostics read."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from drivers.lockboard import frames
from drivers.lockboard.bus import SerialLockBus
from drivers.lockboard.settings import FAMILY_DEFAULTS, BusSettings
from drivers.lockboard.sim import SimLockBoard
from hallkiosk.diag import lockboards as diag
from kiosk.config import CabinetConfig
from kiosk.lockboard_families import FAMILY, GENERIC_8A, KERONG_CU

ROOT = Path(__file__).resolve().parents[2]
READERS = [
    "kiosk/config.py",
    "drivers/lockboard/frames.py",
    "drivers/lockboard/settings.py",
    "drivers/lockboard/bus.py",
    "hallkiosk/diag/lockboards.py",
]


def test_every_reader_takes_the_facts_from_the_one_module() -> None:
    assert FAMILY_DEFAULTS is FAMILY
    assert (frames.KR_MAX_BOARD, frames.KR_CHANNELS) == (KERONG_CU.max_address, KERONG_CU.max_channels)
    assert (frames.G_MIN_BOARD, frames.G_MAX_BOARD, frames.G_MAX_CHANNELS) == (
        GENERIC_8A.min_address,
        GENERIC_8A.max_address,
        GENERIC_8A.max_channels,
    )
    assert diag.ADDRESS_RANGE == {n: f.addresses for n, f in FAMILY.items()}
    assert diag.FAMILY_REPLY_TIMEOUT_S == {n: f.reply_timeout_s for n, f in FAMILY.items()}
    for name, f in FAMILY.items():
        s = BusSettings.for_family(name)  # type: ignore[arg-type]
        assert (s.baud, s.reply_timeout_s, s.open_timeout_s) == (f.baud, f.reply_timeout_s, f.open_timeout_s)


def test_no_reader_copies_a_baud_rate_or_address_range() -> None:
    """The numbers that used to be copied (baud rates, address limits) appear in no reader as literals."""
    copied = {KERONG_CU.baud, GENERIC_8A.baud, KERONG_CU.max_address, GENERIC_8A.max_address}
    found = []
    for rel in READERS:
        for node in ast.walk(ast.parse((ROOT / rel).read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Constant)
                and type(node.value) is int
                and node.value in copied
                and node.value > 15
            ):
                found.append(f"{rel}:{node.lineno} {node.value}")
    assert found == [], found


def _cab(family: str, boards: list[int], channels: int = 16) -> dict:
    return {
        "id": "C1",
        "bus": "sim",
        "family": family,
        "boards": boards,
        "channels_per_board": channels,
        "compartments": [{"label": "A01", "size": "S", "board": boards[0], "channel": 1}],
    }


@pytest.mark.parametrize(("family", "bad"), [("kerong-cu", 16), ("generic-8a", 0)])
def test_config_names_the_family_range(family: str, bad: int) -> None:
    f = FAMILY[family]
    with pytest.raises(ValueError, match=f"{family} addresses are {f.min_address}-{f.max_address}"):
        CabinetConfig.model_validate(_cab(family, [bad]))


def test_config_names_the_family_channel_counts() -> None:
    with pytest.raises(ValueError, match="kerong-cu boards have 16 channels"):
        CabinetConfig.model_validate(_cab("kerong-cu", [0], channels=24))
    CabinetConfig.model_validate(_cab("generic-8a", [1], channels=24))


def test_unlock_all_exists_only_where_the_family_has_it() -> None:
    assert KERONG_CU.can("unlock_all") and not GENERIC_8A.can("unlock_all")
    sim = SimLockBoard("generic-8a", boards=[1], channels_per_board=8)
    bus = SerialLockBus(sim.serve_pty(), BusSettings.for_family("generic-8a", channels_per_board=8))
    try:
        with pytest.raises(ValueError, match="no unlock-all command"):
            bus.unlock_all(1)
        assert not any(sim.is_open(1, ch) for ch in range(1, 9))
    finally:
        bus.close()
        sim.stop()
