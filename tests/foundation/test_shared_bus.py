"""A main cabinet and a side cabinet chained on one RS-485 bus: one port, both cabinets' doors work."""

from __future__ import annotations

from pathlib import Path

import pytest

from drivers.lockboard.sim import SimLockBoard
from hallkiosk.wiring import App
from kiosk.cabinet import Cabinet
from kiosk.config import load_config
from kiosk.errors import ConfigError
from tests.conftest import init_kiosk
from tests.support.config import write_config


def _config(tmp_path: Path, bus: str, side_family: str = "kerong-cu") -> Path:
    def cabinet(cab_id: str, family: str, board: int, label: str) -> dict:
        return {
            "id": cab_id,
            "bus": bus,
            "family": family,
            "boards": [board],
            "compartments": [{"label": label, "size": "S", "board": board, "channel": 1}],
        }

    return write_config(
        tmp_path,
        kiosk={"id": "LS-HALL-01"},
        platform={"endpoint": "sim"},
        cabinets=[cabinet("MAIN", "kerong-cu", 0, "A01"), cabinet("SIDE", side_family, 1, "B01")],
    )


def test_two_cabinets_on_one_bus_share_its_port(tmp_path: Path) -> None:
    sim = SimLockBoard("kerong-cu", [0, 1])
    path = sim.serve_pty()
    app = App(init_kiosk(_config(tmp_path, path)))
    try:
        assert app.buses["MAIN"] is app.buses["SIDE"]  # a second open of the tty would be refused (exclusive)
        cab = Cabinet(
            app.db, app.buses, app.cfg.cabinets, app.cfg.pickup, app.clock, app.secret, app.cfg.kiosk.id
        )
        cab.start()
        for label, board in (("A01", 0), ("B01", 1)):
            r = cab.technician_open(label, actor="technician:test")
            assert r.outcome == "opened" and sim.is_open(board, 1), r
            sim.close_door(board, 1)
    finally:
        app.close()
        sim.stop()


def test_cabinets_on_one_bus_must_speak_it_alike(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        load_config(_config(tmp_path, "/dev/ttyUSB0", side_family="generic-8a"))
    assert (
        "cabinets[1].family" in err.value.message
        and "shares bus /dev/ttyUSB0 with cabinet MAIN" in err.value.message
    )
