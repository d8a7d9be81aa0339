"""``write_config(tmp, **sections)``: a kiosk.toml for a test, written from Python values instead of inline TOML."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

# What every test kiosk has unless a test says otherwise; data_dir is added under the test's directory.
KIOSK = {"id": "TEST-01", "hall": "测试大厅"}


def write_config(tmp: Path, /, *, name: str = "kiosk.toml", **sections: Any) -> Path:
    """``tmp/kiosk.toml`` and its path. ``kiosk=`` is merged into the defaults (id, hall, data_dir = tmp/data);
    each other keyword is a section (a dict: ``storage={"url": url}``) or an array of tables (a list of dicts:
    ``cabinets=[{...}]``). A value of None leaves the key out."""
    tmp.mkdir(parents=True, exist_ok=True)
    kiosk = {**KIOSK, "data_dir": tmp / "data", **sections.pop("kiosk", {})}
    out = [_table("kiosk", kiosk)]
    for section, body in sections.items():
        if isinstance(body, list):
            out += [_table(f"[{section}]", item) for item in body]
        else:
            out.append(_table(section, body))
    path = tmp / name
    path.write_text("\n".join(out), encoding="utf-8")
    return path


def _table(header: str, body: dict[str, Any]) -> str:
    lines = [f"[{header}]"] + [f"{k} = {toml_value(v)}" for k, v in body.items() if v is not None]
    return "\n".join(lines) + "\n"


def toml_value(v: Any) -> str:
    """A Python value as TOML: strings (JSON's escapes are TOML's), numbers, booleans, arrays, inline tables."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, (str, Path)):
        return json.dumps(str(v), ensure_ascii=False)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{k} = {toml_value(x)}" for k, x in v.items() if x is not None) + " }"
    raise TypeError(f"no TOML form for {type(v).__name__}")
