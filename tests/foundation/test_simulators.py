"""Simulators are typed parts (issue 16, item 5): builders return each part with its simulator, the composition
root files them in one registry, and nothing asks a part for a simulator at run time."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from backend_client.sim import PlatformSim
from drivers.cardreader.ga467_sim import Ga467Sim
from drivers.lockboard.sim import SimLockBoard
from hallkiosk.wiring import App
from tests.conftest import REPO, init_kiosk

# Where a side channel would be found again: the composition root, the UI and the drivers.
SCANNED = ("hallkiosk", "ui", "drivers")


def side_channels(source: str) -> list[str]:
    """``getattr/hasattr(x, "sim"...)`` and ``x.sim = ...`` on anything but ``self`` (a part's own attribute)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in ("getattr", "hasattr")
            and len(node.args) >= 2
            and isinstance(node.args[1], ast.Constant)
            and node.args[1].value == "sim"
        ):
            found.append(f"line {node.lineno}: {node.func.id}(..., 'sim')")
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for t in targets:
                if (
                    isinstance(t, ast.Attribute)
                    and t.attr == "sim"
                    and not (isinstance(t.value, ast.Name) and t.value.id == "self")
                ):
                    found.append(f"line {node.lineno}: .sim attached from outside")
    return found


def test_no_part_is_asked_for_its_simulator() -> None:
    bad = [
        f"{p.relative_to(REPO)} {hit}"
        for top in SCANNED
        for p in sorted((REPO / top).rglob("*.py"))
        for hit in side_channels(p.read_text(encoding="utf-8"))
    ]
    assert not bad, (
        "simulators come from App.sims (hallkiosk/simulators.py), not from the part:\n" + "\n".join(bad)
    )


@pytest.mark.parametrize(
    "source",
    [
        'sim = getattr(bus, "sim", None)',
        'if hasattr(reader, "sim"): pass',
        "bus.sim = sim",
        "bus.sim: object = sim",
    ],
)
def test_the_scan_finds_each_kind_of_side_channel(source: str) -> None:
    assert side_channels(source)


def test_a_part_owning_its_simulator_is_not_a_side_channel() -> None:
    assert not side_channels("class R:\n    def __init__(self, sim):\n        self.sim = sim\n")


def _demo_config(tmp: Path) -> Path:
    text = (REPO / "kiosk" / "default.toml").read_text(encoding="utf-8")
    text = text.replace('data_dir = "~/.local/share/hall-kiosk"', f'data_dir = "{tmp / "data"}"')
    p = tmp / "kiosk.toml"
    p.write_text(text, encoding="utf-8")
    return p


def test_the_composition_root_registers_each_simulator_as_it_builds_the_part(tmp_path: Path) -> None:
    cfg = init_kiosk(_demo_config(tmp_path))
    app = App(cfg)
    try:
        assert (
            app.sims.boards == {} and app.sims.readers == {} and app.sims.platform is None
        )  # nothing built yet
        buses, readers, platform = (
            app.buses,
            app.card_readers,
            app.platform,
        )  # building them fills the registry
        assert buses and readers and platform is not None
        cab = cfg.cabinets[0]
        assert set(app.sims.boards) == {c.id for c in cfg.cabinets}
        assert isinstance(app.sims.boards[cab.id], SimLockBoard)
        reader = readers[0]
        card = app.sims.card()
        assert card is not None and card[0] == reader.name and isinstance(card[1], Ga467Sim)
        assert isinstance(app.sims.platform, PlatformSim)
        # The registered board simulator is the one behind the bus: what it is told shows on the wire.
        comp = cab.compartments[0]
        app.sims.boards[cab.id].put_item(comp.board, comp.channel)
        assert buses[cab.id].door_state(comp.board, comp.channel).item_present is True
    finally:
        app.close()


def test_what_is_simulated_is_one_rule_from_the_config(tmp_path: Path) -> None:
    """The SIMULATED HARDWARE band (the runtime, before anything is built) and the diagnostics (the App) agree."""
    from hallkiosk.runtime import Runtime
    from hallkiosk.simulators import simulated_parts

    cfg = init_kiosk(_demo_config(tmp_path))
    app = App(cfg)
    try:
        assert Runtime(cfg).simulated == app.simulated == simulated_parts(cfg)
        assert {"platform", "printer"} <= set(app.simulated)
        assert any(p.startswith("lock bus ") for p in app.simulated)
        assert any(p.startswith("card reader ") for p in app.simulated)
        assert app.sims.boards == {}  # saying what is simulated builds nothing
    finally:
        app.close()
