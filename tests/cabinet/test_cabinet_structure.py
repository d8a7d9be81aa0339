"""How the cabinet is built: composed parts, not an inheritance chain; parts talk through public names.

Static checks over kiosk/cabinet's source (no hardware needed): each would fail on the old
``Cabinet(Admin(Flows(Engine)))`` chain and on ``allocate``/``finish`` calling ``eng._tx()``."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import kiosk.cabinet
from kiosk.cabinet import Cabinet
from kiosk.cabinet import states as S
from kiosk.cabinet.door import DoorEngine
from kiosk.cabinet.policies import policy

PKG = Path(kiosk.cabinet.__file__).parent
MODULES = sorted(PKG.glob("*.py"))


def _trees() -> list[tuple[Path, ast.Module]]:
    return [(p, ast.parse(p.read_text(), str(p))) for p in MODULES]


def test_no_cabinet_class_inherits_from_another_cabinet_class() -> None:
    own = {n.name for _p, t in _trees() for n in ast.walk(t) if isinstance(n, ast.ClassDef)}
    found = []
    for path, tree in _trees():
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                bases = {
                    b.id if isinstance(b, ast.Name) else b.attr if isinstance(b, ast.Attribute) else ""
                    for b in node.bases
                }
                if bases & own:
                    found.append(f"{path.name}: {node.name}({', '.join(sorted(bases & own))})")
    assert found == []
    assert Cabinet.__mro__ == (Cabinet, object) and DoorEngine.__mro__ == (DoorEngine, object)


def test_no_module_reaches_into_another_objects_private_names() -> None:
    """``x._name`` is allowed only on ``self`` or ``cls`` (an object's own privates)."""
    found = []
    for path, tree in _trees():
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and node.attr.startswith("_")
                and not node.attr.startswith("__")
                and not (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"))
            ):
                found.append(f"{path.name}:{node.lineno} .{node.attr}")
    assert found == []


def test_every_flow_kind_has_a_policy_and_the_facade_keeps_its_methods() -> None:
    for kind in (S.DEPOSIT, S.DROPOFF_FLOW, S.PICKUP, S.COLLECT, S.TECH_OPEN):
        p = policy(kind)
        assert p.kind == kind and p.puts_in == (kind in (S.DEPOSIT, S.DROPOFF_FLOW))
    public = {n for n, _ in inspect.getmembers(Cabinet, inspect.isfunction) if not n.startswith("_")}
    assert {
        "start_deposit",
        "start_pickup_by_code",
        "start_pickup_by_identity",
        "start_dropoff",
        "start_collect",
        "poll",
        "wait_closed",
        "settle_open_flows",
        "flag_left_open",
        "status",
        "tasks",
        "handover",
        "putback",
        "technician_open_all",
        "disable",
        "enable",
        "collect",
        "deposit",
        "start",
        "recheck_boards",
    } <= public
    assert "cancel" in inspect.signature(Cabinet.wait_closed).parameters


def test_flow_data_is_read_and_written_only_through_the_typed_dataclasses() -> None:
    """Outside flowdata.py nothing touches a flow's JSON bag (``Flow.data`` selected as a column is parsed with
    flowdata.from_json)."""
    found = [
        f"{path.name}:{node.lineno}"
        for path, tree in _trees()
        if path.name != "flowdata.py"
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and node.attr == "data"
        and not (isinstance(node.value, ast.Name) and node.value.id == "Flow")
    ]
    assert found == []


def test_flow_data_round_trips_and_reads_rows_written_before_the_dataclasses() -> None:
    from kiosk.cabinet import flowdata as fd

    old = {  # rows as the JSON bag wrote them
        S.DEPOSIT: {
            "size": "M",
            "case_number": "C1",
            "tried": ["A01"],
            "down": [["CAB", 2]],
            "left_open_task": 7,
            "result": {"outcome": "deposited", "label": "A02", "expires_at": "2026-01-02T00:00:00"},
        },
        S.DROPOFF_FLOW: {"size": "L", "tried": []},
        S.PICKUP: {"via": "code", "prev_state": "ready"},
        S.COLLECT: {"prev_state": "dropped_off"},
        S.TECH_OPEN: {"all": 3},
    }
    for kind, raw in old.items():
        data = fd.from_json(kind, raw)
        assert fd.to_json(fd.from_json(kind, fd.to_json(data))) == fd.to_json(data)
        for key in raw:
            assert key in fd.to_json(data)
    dep = fd.from_json(S.DEPOSIT, old[S.DEPOSIT])
    assert dep.of_kind == fd.DepositData("M", "C1", ("A01",), (("CAB", 2),))
    assert dep.left_open_task == 7 and dep.result is not None and dep.result.label == "A02"
    assert fd.from_json(S.TECH_OPEN, old[S.TECH_OPEN]).of_kind == fd.TechOpenData(None, 3)
    assert fd.from_json(S.COLLECT, {}).of_kind.prev_state == S.ATTENTION
