"""One transition table, applied by one function: every other move raises, and nothing else writes Flow.state."""

from __future__ import annotations

import ast
import datetime as dt
import itertools
from pathlib import Path

import pytest

from kiosk.cabinet.states import FlowKind, FlowState
from kiosk.cabinet.transitions import TABLE, IllegalTransition, render_markdown, transition
from kiosk.storage.models import Flow

ROOT = Path(__file__).resolve().parents[2]
NOW = dt.datetime(2026, 12, 5, 12, 0, tzinfo=dt.UTC)


def _flow(kind: FlowKind, state: FlowState) -> Flow:
    return Flow(id=1, kind=kind.value, state=state.value, actor="t", data={}, started_at=NOW, updated_at=NOW)


@pytest.mark.parametrize(("kind", "src", "dst"), list(itertools.product(FlowKind, FlowState, FlowState)))
def test_every_pair_not_in_the_table_raises(kind: FlowKind, src: FlowState, dst: FlowState) -> None:
    flow = _flow(kind, src)
    later = NOW + dt.timedelta(seconds=1)
    if (kind, src, dst) in TABLE:
        transition(flow, dst, later)
        assert (flow.state, flow.updated_at) == (dst.value, later)
    else:
        with pytest.raises(IllegalTransition, match=f"{src} -> {dst}"):
            transition(flow, dst, later)
        assert (flow.state, flow.updated_at) == (src.value, NOW)  # nothing changed


def test_done_is_final_and_every_kind_can_open_and_finish() -> None:
    assert not [k for k in TABLE if k[1] == FlowState.DONE]
    for kind in FlowKind:
        assert (kind, FlowState.OPENING, FlowState.DOOR_OPEN) in TABLE
        assert (kind, FlowState.DOOR_OPEN, FlowState.DONE) in TABLE
    # Only the flows that put something in may move to another door (a pickup's parcel is where it is).
    assert {k for k, s, d in TABLE if s == d} == {FlowKind.DEPOSIT, FlowKind.DROPOFF}


def test_unknown_state_or_kind_raises() -> None:
    flow = Flow(id=2, kind="deposit", state="half_open", actor="t", data={}, started_at=NOW, updated_at=NOW)
    with pytest.raises(IllegalTransition):
        transition(flow, FlowState.DONE, NOW)


def _state_writes(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, enclosing function) of every assignment to ``<something flow-ish>.state``."""
    found: list[tuple[int, str]] = []

    def targets(node: ast.AST) -> list[ast.expr]:
        if isinstance(node, ast.Assign):
            out: list[ast.expr] = []
            for t in node.targets:
                out.extend(t.elts if isinstance(t, ast.Tuple) else [t])
            return out
        if isinstance(node, (ast.AugAssign, ast.AnnAssign)):
            return [node.target]
        return []

    def visit(node: ast.AST, func: str) -> None:
        for child in ast.iter_child_nodes(node):
            name = child.name if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)) else func
            for t in targets(child):
                if (
                    isinstance(t, ast.Attribute)
                    and t.attr == "state"
                    and "flow" in ast.unparse(t.value).lower()
                ):
                    found.append((child.lineno, name))
            if (
                isinstance(child, ast.Call)
                and ast.unparse(child.func).endswith("setattr")
                and child.args[1:2]
                and isinstance(child.args[1], ast.Constant)
                and child.args[1].value == "state"
            ):
                found.append((child.lineno, name))
            visit(child, name)

    visit(tree, "<module>")
    return found


def test_no_flow_state_is_written_outside_transition() -> None:
    offenders = []
    for pkg in ("kiosk", "hallkiosk", "ui", "backend_client", "drivers"):
        for path in sorted((ROOT / pkg).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for line, func in _state_writes(tree):
                if not (path.name == "transitions.py" and func == "transition"):
                    offenders.append(f"{path.relative_to(ROOT)}:{line} in {func}")
    assert offenders == []


def test_the_ast_check_sees_a_write() -> None:
    tree = ast.parse(
        "def f(flow):\n    flow.state, flow.updated_at = 'done', 1\n\ndef g(self):\n    self.flow.state = 'x'\n"
    )
    assert _state_writes(tree) == [(2, "f"), (5, "g")]


def test_the_docs_flow_table_is_generated_from_the_table() -> None:
    doc = (ROOT / "docs" / "cabinet-flows.md").read_text(encoding="utf-8")
    assert doc == render_markdown(), "docs/cabinet-flows.md is stale: run `python scripts/gen_flow_table.py`"
    for kind, src, dst in TABLE:
        assert f"| {kind} | {src} | {dst} |" in doc


def test_the_readme_points_to_the_flow_table() -> None:
    assert "docs/cabinet-flows.md" in (ROOT / "README.md").read_text(encoding="utf-8")
