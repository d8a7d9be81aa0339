"""The architecture's import rules (setup.cfg import-linter contracts) hold."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_import_contracts_hold() -> None:
    exe = shutil.which("lint-imports") or str(Path(sys.executable).with_name("lint-imports"))
    r = subprocess.run([exe, "setup.cfg"], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "kept" in r.stdout and "broken" in r.stdout
    assert "The stack in layers" in r.stdout  # the whole-stack layers contract is among those checked


def _layers() -> list[str]:
    import configparser

    cp = configparser.ConfigParser()
    cp.read(REPO / "setup.cfg", encoding="utf-8")
    return [ln.strip() for ln in cp["importlinter:contract:layers"]["layers"].splitlines() if ln.strip()]


def test_every_hallkiosk_module_has_its_place_in_the_layers() -> None:
    """The runtime layer names hallkiosk's modules one by one: a new one must be placed, or nothing checks it."""
    placed = {m.strip() for layer in _layers() for m in layer.replace("|", ":").split(":")}
    children = {f"hallkiosk.{p.stem if p.is_file() else p.name}" for p in (REPO / "hallkiosk").iterdir()
                if (p.suffix == ".py" and p.stem != "__init__") or (p / "__init__.py").exists()}
    assert children - placed == set(), "add these to a layer in setup.cfg [importlinter:contract:layers]"
    assert _layers()[0] == "hallkiosk.cli" and _layers()[-1] == "kiosk"
