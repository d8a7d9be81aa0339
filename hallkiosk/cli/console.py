"""``kiosk console``: serve the hall console; ``kiosk console user add|passwd|disable|enable|badge|list``."""

from __future__ import annotations

import argparse
import getpass
import sys

from hallkiosk.cli.common import config_of, whole
from kiosk.config import Config
from kiosk.errors import ConfigError
from kiosk.staff import BadStaffInput

CLI_ACTOR = "cli:console-user"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("console", help="the hall console (web back office); `console user ...` manages staff")
    p.add_argument("--host", help="address to listen on (default: console.host)")
    p.add_argument("--port", type=whole(0, 65535), help="port (default: console.port; 0 picks a free one)")
    p.add_argument(
        "--demo",
        action="store_true",
        help="simulator only: (re)create the demo account with a new random password and print it",
    )
    p.set_defaults(func=_serve)
    s = p.add_subparsers(dest="console_cmd", metavar="user")
    u = s.add_parser("user", help="the hall staff directory").add_subparsers(dest="user_cmd", required=True)

    a = u.add_parser("add", help="add a staff member (asks for a console password unless --no-password)")
    a.add_argument("staff_id")
    a.add_argument("--name", required=True, help="display name (always shown masked)")
    a.add_argument(
        "--role",
        action="append",
        required=True,
        choices=["staff", "technician", "hall_admin"],
        help="repeat for several roles",
    )
    a.add_argument("--no-password", action="store_true", help="badge only: no console sign-in")
    a.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    a.set_defaults(func=_add)

    pw = u.add_parser("passwd", help="set a new console password (unlocks the account, ends its sessions)")
    pw.add_argument("staff_id")
    pw.add_argument("--password-stdin", action="store_true")
    pw.set_defaults(func=_passwd)

    d = u.add_parser("disable", help="refuse the member's password and badges (ends their sessions)")
    d.add_argument("staff_id")
    d.set_defaults(func=_disable, enable=False)
    e = u.add_parser("enable", help="undo disable")
    e.add_argument("staff_id")
    e.set_defaults(func=_disable, enable=True)

    b = u.add_parser("badge", help="register a badge UID to a member (stored hashed)")
    b.add_argument("staff_id")
    b.add_argument("uid", help="hexadecimal, as `kiosk card watch` shows it")
    b.add_argument("--remove", action="store_true")
    b.set_defaults(func=_badge)

    r = u.add_parser("roles", help="replace a member's roles")
    r.add_argument("staff_id")
    r.add_argument("--role", action="append", required=True, choices=["staff", "technician", "hall_admin"])
    r.set_defaults(func=_roles)

    u.add_parser("list", help="every member, names masked").set_defaults(func=_list)


def _directory(args: argparse.Namespace):
    from hallkiosk.console.server import directory_of
    from hallkiosk.wiring import App

    app = App(config_of(args))
    return app, directory_of(app.cfg, app.db, app.secret, app.clock)


def _password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("new console password: ")
    if getpass.getpass("again: ") != first:
        raise BadStaffInput("the two passwords differ")
    return first


def simulator_only(cfg: Config) -> bool:
    """Every part simulated (the demo account exists only where nothing real can be reached)."""
    return (
        cfg.platform.endpoint == "sim"
        and all(c.bus == "sim" for c in cfg.cabinets)
        and all(r.kind == "sim" for r in cfg.card_readers)
    )


def _serve(args: argparse.Namespace) -> int:
    from hallkiosk.console.server import serve

    cfg = config_of(args)
    demo = None
    if args.demo:
        if not simulator_only(cfg):
            raise ConfigError(
                "--demo: only on the built-in simulators (this configuration has real parts)",
                hint="Add a real account with `kiosk console user add`.",
            )
        app, directory = _directory(args)
        try:
            demo = directory.ensure_demo()
        finally:
            app.close()

    def announce(address: str) -> None:
        print(f"console: {address}", flush=True)
        if demo is not None:
            print(
                f"console demo sign-in (simulator only, new each start): staff id demo, password {demo}",
                flush=True,
            )

    serve(cfg, host=args.host, port=args.port, announce=announce)
    return 0


def _add(args: argparse.Namespace) -> int:
    password = None if args.no_password else _password(args)
    app, d = _directory(args)
    try:
        v = d.add(args.staff_id, args.name, args.role, actor=CLI_ACTOR, password=password)
    finally:
        app.close()
    print(
        f"added {v.staff_id} ({v.name_masked}), roles {', '.join(v.roles)}"
        + ("" if password else "; no console password (badge only)")
    )
    return 0


def _passwd(args: argparse.Namespace) -> int:
    password = _password(args)
    app, d = _directory(args)
    try:
        d.set_password(args.staff_id, password, actor=CLI_ACTOR)
    finally:
        app.close()
    print(f"password set for {args.staff_id}; its console sessions were ended")
    return 0


def _disable(args: argparse.Namespace) -> int:
    app, d = _directory(args)
    try:
        d.set_disabled(args.staff_id, not args.enable, actor=CLI_ACTOR)
    finally:
        app.close()
    print(f"{args.staff_id} {'enabled' if args.enable else 'disabled'}")
    return 0


def _badge(args: argparse.Namespace) -> int:
    app, d = _directory(args)
    try:
        if args.remove:
            d.remove_badge(args.staff_id, args.uid, actor=CLI_ACTOR)
            print(f"badge removed from {args.staff_id}")
        else:
            print(
                f"badge {d.add_badge(args.staff_id, args.uid, actor=CLI_ACTOR)} registered to {args.staff_id}"
            )
    finally:
        app.close()
    return 0


def _roles(args: argparse.Namespace) -> int:
    app, d = _directory(args)
    try:
        d.set_roles(args.staff_id, args.role, actor=CLI_ACTOR)
    finally:
        app.close()
    print(f"{args.staff_id}: roles {', '.join(sorted(set(args.role)))}")
    return 0


def _list(args: argparse.Namespace) -> int:
    app, d = _directory(args)
    try:
        rows = d.members()
    finally:
        app.close()
    for v in rows:
        flags = [
            f
            for f, on in (
                ("disabled", v.disabled),
                ("demo", v.demo),
                ("no password", not v.can_sign_in and not v.disabled),
            )
            if on
        ]
        print(
            f"{v.staff_id:<16} {v.name_masked:<10} {','.join(v.roles):<28} badges {' '.join(v.badges) or '-'}"
            + (f"  [{', '.join(flags)}]" if flags else "")
        )
    return 0
