"""Write docs/cabinet-flows.md from the cabinet's transition table (tests/cabinet/test_flow_transitions.py checks it)."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kiosk.cabinet.transitions import render_markdown  # noqa: E402

TARGET = ROOT / "docs" / "cabinet-flows.md"

if __name__ == "__main__":
    TARGET.write_text(render_markdown(), encoding="utf-8")
    print(f"wrote {TARGET.relative_to(ROOT)}")
