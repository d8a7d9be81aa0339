"""The runtime is composed, not inherited (issue 16 item 3): ``class Runtime`` has no base, no service in
``hallkiosk/services`` inherits anything, and a service reaches the runtime only through what
:class:`hallkiosk.services.core.Core` names."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest

from hallkiosk.runtime import Runtime
from hallkiosk.services import core

SERVICES = Path(core.__file__).parent


def _core_names() -> set[str]:
    tree = ast.parse(inspect.getsource(core.Core))
    cls = tree.body[0]
    assert isinstance(cls, ast.ClassDef)
    names = {n.target.id for n in cls.body if isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name)}
    return names | {n.name for n in cls.body if isinstance(n, ast.FunctionDef)}


def test_the_runtime_inherits_nothing() -> None:
    assert Runtime.__bases__ == (object,)


@pytest.mark.parametrize("path", sorted(SERVICES.glob("*.py")), ids=lambda p: p.name)
def test_services_inherit_nothing_and_use_only_the_core(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    allowed = _core_names()
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef) and node.name != "Core":
            bases = [ast.unparse(b) for b in node.bases]
            # A frozen record or the door test's cancel event may extend a library type; nothing of ours.
            assert all(b in ("threading.Event", "Protocol") for b in bases), (node.name, bases)
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Attribute)
            and node.value.attr == "core"
            and isinstance(node.value.value, ast.Name)
            and node.value.value.id == "self"
        ):
            assert node.attr in allowed, f"{path.name}: self.core.{node.attr} is not in services.core.Core"
