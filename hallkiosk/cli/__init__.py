"""The ``kiosk`` command. Each area registers its sub-commands from its own module."""

from __future__ import annotations

import argparse
import importlib
import importlib.metadata
import importlib.util
import logging
import sys
from collections.abc import Sequence

from kiosk.errors import KioskError
from kiosk.printable import printable

# Each module defines register(subparsers); sub-commands set ``func(args) -> int``.
COMMAND_MODULES = (
    "hallkiosk.cli.admin",  # config, audit
    "hallkiosk.cli.db",  # db init|upgrade|current|backup|restore
    "hallkiosk.cli.secret",  # secret show
    "hallkiosk.cli.notes",  # notes list|show|delete|purge (staff's typed reasons, out of the audit)
    "hallkiosk.cli.cabinet",  # cabinet, deposit, pickup, dropoff, collect
    "hallkiosk.cli.card",  # card watch
    "hallkiosk.cli.platform",  # platform ping
    "hallkiosk.cli.outbox",  # outbox list|retry, catalog show|search
    "hallkiosk.cli.services",  # case show, ticket show, notices remind (interface 1.1)
    "hallkiosk.cli.sim",  # sim lockboard|card|platform
    "hallkiosk.cli.diag",  # diag, support-bundle
    "hallkiosk.cli.run",  # run (the touch UI)
    "hallkiosk.cli.setup",  # setup devices (udev rules for stable device names)
    "hallkiosk.cli.console",  # console (the hall's web back office), console user ...
)

log = logging.getLogger("kiosk")
DISTRIBUTION = "hall-kiosk"


def installed_version() -> str:
    """The version of the installed distribution (what pip or the Debian package put there), else the source tree's."""
    try:
        return importlib.metadata.version(DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:  # run from a bare checkout without `pip install`
        import kiosk

        return kiosk.__version__


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kiosk", description="Hall Kiosk: self-service kiosk and 24-hour cabinet."
    )
    parser.add_argument(
        "--config", "-c", metavar="PATH", help="the kiosk.toml to use (default: built-in simulators)"
    )
    parser.add_argument("--log-level", default="WARNING", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    parser.add_argument("--version", action="version", version=f"kiosk (Hall Kiosk) {installed_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        if importlib.util.find_spec(name) is None:
            continue
        importlib.import_module(name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    # A simulator owns its arguments, options included, which argparse's REMAINDER would not pass on.
    args, extra = parser.parse_known_args(argv)
    if extra:
        if getattr(args, "sim_module", None) is None:
            parser.error(f"unrecognized arguments: {' '.join(extra)}")
        args.sim_args = [*extra, *args.sim_args]
    from kiosk.logsetup import setup_logging

    setup_logging(args.log_level)
    try:
        return int(args.func(args) or 0)
    except KioskError as err:
        # One line each: whatever a config or an argument carried (escapes, bidi, newlines) is shown escaped.
        print(f"error: {printable(err.message)}", file=sys.stderr)
        if err.hint:
            print(f"hint: {printable(err.hint)}", file=sys.stderr)
        return err.exit_code
    except RecursionError:  # a pathological input nested beyond what any check could walk
        print("error: the input is nested too deeply", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
