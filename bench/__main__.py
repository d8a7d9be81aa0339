"""Run every benchmark: ``python -m bench`` (or ``make bench``); ``python -m bench lockboard`` runs one.

``python -m bench soak`` runs the full 10,000-session soak; every benchmark together runs its quick mode.
"""

from __future__ import annotations

import importlib.util
import os
import runpy
import sys
from pathlib import Path

HERE = Path(__file__).parent


def main(argv: list[str]) -> int:
    if not argv:  # every benchmark: the soak's quick mode (its full 10,000 sessions take 1.5-2 hours alone)
        os.environ.setdefault("BENCH_SOAK", "quick")
    names = argv or sorted(p.stem.removeprefix("bench_") for p in HERE.glob("bench_*.py"))
    failed = []
    for name in names:
        path = HERE / f"bench_{name}.py"
        if not path.exists():
            print(f"no benchmark named {name}", file=sys.stderr)
            return 2
        print(f"\n=== bench {name} ===", flush=True)
        try:
            runpy.run_path(str(path), run_name="__main__")
        except SystemExit as exit_:
            if exit_.code not in (0, None):
                failed.append(name)
        except Exception as err:  # one broken benchmark must not hide the others' figures
            print(f"bench {name} failed: {err!r}", file=sys.stderr)
            failed.append(name)
    if failed:
        print(f"\nfailed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__" and importlib.util.find_spec("kiosk"):
    sys.exit(main(sys.argv[1:]))
