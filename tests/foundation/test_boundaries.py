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
    children = {
        f"hallkiosk.{p.stem if p.is_file() else p.name}"
        for p in (REPO / "hallkiosk").iterdir()
        if (p.suffix == ".py" and p.stem != "__init__") or (p / "__init__.py").exists()
    }
    assert children - placed == set(), "add these to a layer in setup.cfg [importlinter:contract:layers]"
    assert _layers()[0] == "hallkiosk.cli" and _layers()[-1] == "kiosk"


def _cycles() -> list[set[str]]:
    """Every set of modules that import each other round (strongly connected, more than one module)."""
    import grimp

    g = grimp.build_graph(
        "kiosk", "drivers", "ui", "backend_client", "hallkiosk", exclude_type_checking_imports=True
    )
    mods = set(g.modules)
    adj = {m: set(g.find_modules_directly_imported_by(m)) & mods for m in mods}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    out: list[set[str]] = []

    def visit(v: str) -> None:  # Tarjan's algorithm
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in adj[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = set()
            while True:
                w = stack.pop()
                comp.add(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(comp)

    for m in sorted(mods):
        if m not in index:
            visit(m)
    return out


def test_no_import_cycles() -> None:
    """Modules that import each other round (issue 16 item 4). Imports under TYPE_CHECKING never run: not counted."""
    found = _cycles()
    # The screens package: its __init__ imports every screen, which import shared helpers back through it.
    found = [c for c in found if not all(m == "ui.screens" or m.startswith("ui.screens.") for m in c)]
    assert not found, f"import cycles: {[sorted(c) for c in found]}"
