"""``kiosk sim lockboard|card|platform ...``: run a shipped simulator in the foreground.

Each simulator owns its arguments; this only dispatches.
"""

from __future__ import annotations

import argparse
import importlib

SIMULATORS = {
    "lockboard": (
        "drivers.lockboard.sim",
        "lock-board simulator (kerong-cu or generic-8a) on a pty or TCP port",
    ),
    "card": ("drivers.cardreader.sim", "virtual cards for vpcd, or a GA 467 reader on a pty"),
    "platform": ("backend_client.sim", "the provincial platform simulator on loopback"),
}


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("sim", help="run a shipped simulator")
    s = p.add_subparsers(dest="sim_cmd", required=True)
    for name, (module, help_) in SIMULATORS.items():
        q = s.add_parser(name, help=help_, add_help=False)
        q.add_argument("sim_args", nargs=argparse.REMAINDER)
        q.set_defaults(func=_run, sim_module=module)


def _run(args: argparse.Namespace) -> int:
    return int(importlib.import_module(args.sim_module).cli_main(args.sim_args) or 0)
