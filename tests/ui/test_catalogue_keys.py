"""Every text key the core can hand the UI has a text in both languages (no raw "error.xyz" on a citizen's screen)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from ui.i18n import LANGUAGES, Catalogue
from ui.screens.staff_collect import TAKE_BACK_REASONS

REPO = Path(__file__).resolve().parents[2]
CODE = ("kiosk", "drivers", "backend_client", "hallkiosk", "ui")
ERROR_KEY = re.compile(r"error\.[a-z_]+")


def _sources() -> list[Path]:
    return [p for d in CODE for p in (REPO / d).rglob("*.py") if "__pycache__" not in p.parts]


def _error_keys() -> dict[str, str]:
    """Each string literal in the code that is exactly a citizen key (``error.xyz``), with where it was seen first."""
    found: dict[str, str] = {}
    for path in _sources():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and ERROR_KEY.fullmatch(node.value)
            ):
                found.setdefault(node.value, f"{path.relative_to(REPO)}:{node.lineno}")
    return found


def _task_kinds() -> set[str]:
    """Staff task kinds: the TASK_* states, the outbox's dead-letter kinds, and any literal kind handed to
    store.add_task (the staff screen shows task.<kind>)."""
    from kiosk import outbox_tasks
    from kiosk.cabinet import states

    kinds = {str(k) for k in states.TaskKind} | set(outbox_tasks.TASK_KINDS)
    for path in (REPO / "kiosk").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "attr", getattr(node.func, "id", "")) == "add_task"
                and len(node.args) >= 3
                and isinstance(node.args[2], ast.Constant)
            ):
                kinds.add(node.args[2].value)
    return kinds


def test_every_citizen_key_in_the_code_has_a_text_in_both_languages() -> None:
    keys = _error_keys()
    assert len(keys) > 30, f"the scan found the core's keys ({len(keys)})"
    assert {"error.pickup_door_fault", "error.code_expired", "error.field_required", "error.generic"} <= set(
        keys
    )
    cat = Catalogue()
    missing = [
        f"{key} ({where}): no {lang} text"
        for key, where in sorted(keys.items())
        for lang in LANGUAGES
        if not cat.strings[lang].get(key)
    ]
    assert not missing, "\n".join(missing)


def test_every_error_class_has_a_text() -> None:
    """The citizen_key of every KioskError subclass the core defines, including ones set in __init__ (checked above)."""
    import importlib
    import pkgutil

    import kiosk
    from kiosk.errors import KioskError

    for mod in pkgutil.walk_packages(kiosk.__path__, "kiosk."):
        importlib.import_module(mod.name)
    seen, todo = set(), [KioskError]
    while todo:
        cls = todo.pop()
        seen.add(cls)
        todo += [c for c in cls.__subclasses__() if c not in seen]
    cat = Catalogue()
    bad = [
        f"{c.__module__}.{c.__name__}: {c.citizen_key}"
        for c in seen
        if not all(cat.strings[lang].get(c.citizen_key) for lang in LANGUAGES)
    ]
    assert len(seen) > 10 and not bad, bad


def test_every_staff_task_kind_and_compartment_state_has_a_text() -> None:
    from kiosk.cabinet import states

    cat = Catalogue()
    kinds = _task_kinds()
    assert {
        "reported_problem",
        "door_fault",
        "door_left_open",
        "item_left",
        "sms_not_sent",
        "rating_not_delivered",
    } <= kinds
    wanted = [f"task.{k}" for k in kinds]
    wanted += [
        f"comp.state.{s}"
        for s in (states.FREE, states.RESERVED, states.OCCUPIED, states.FAULTY, states.DISABLED)
    ]
    wanted += [f"collect.kind.{k}" for k in (states.RESULT, states.DROPOFF)] + [
        f"size.{s}" for s in states.SIZES
    ]
    wanted += ["collect.kind.ready", "collect.kind.overdue"] + [
        f"collect.reason.{r}" for r in TAKE_BACK_REASONS
    ]
    missing = [
        f"{key}: no {lang} text" for key in wanted for lang in LANGUAGES if not cat.strings[lang].get(key)
    ]
    assert not missing, missing
