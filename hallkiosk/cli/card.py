"""``kiosk card watch [--reader NAME]``: print every card event of the configured readers until Ctrl-C."""

from __future__ import annotations

import argparse
import datetime as dt
import threading

from hallkiosk.cli.common import config_of
from kiosk.errors import ConfigError
from kiosk.ports import CardEvent


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("card", help="card readers")
    s = p.add_subparsers(dest="card_cmd", required=True)
    w = s.add_parser("watch", help="print card events (identities masked) until interrupted")
    w.add_argument(
        "--reader", metavar="NAME", help="only the reader with this name (default: all configured)"
    )
    w.add_argument(
        "--seconds", type=float, default=None, help=argparse.SUPPRESS
    )  # for tests: stop after this
    w.set_defaults(func=_watch)


def format_event(ev: CardEvent) -> str:
    """One line for an event; identities only in masked form."""
    at = dt.datetime.now().strftime("%H:%M:%S.%f")[:-3]
    parts = [at, f"[{ev.reader}]", ev.kind]
    if ev.identity is not None:
        i = ev.identity
        parts += [i.card_kind, i.masked_name, i.masked_id]
    if ev.badge_uid:
        parts += ["staff_badge", ev.badge_uid]
    if ev.error is not None:
        parts.append(f"{type(ev.error).__name__}: {ev.error}")
    if ev.read_ms is not None:
        parts.append(f"read in {ev.read_ms:.0f} ms")
    return " ".join(parts)


def _watch(args: argparse.Namespace) -> int:
    from drivers.cardreader import build_reader

    cfg = config_of(args)
    entries = [rc for rc in cfg.card_readers if args.reader is None or (rc.name or rc.url) == args.reader]
    if not entries:
        names = ", ".join(repr(rc.name or rc.url) for rc in cfg.card_readers) or "none"
        raise ConfigError(
            f"{cfg.source}: card_readers: no reader named {args.reader!r} (configured: {names})"
        )
    lock = threading.Lock()

    def show(ev: CardEvent) -> None:
        with lock:
            print(format_event(ev), flush=True)
        if ev.identity is not None:
            ev.identity.wipe()  # watching is all this command does with it

    built = [build_reader(rc) for rc in entries]
    readers = [b.part for b in built]
    try:
        for b in built:
            r = b.part
            sim = " (SIMULATED reader, not real hardware)" if b.sim is not None else ""
            print(f"watching {r.name}{sim}", flush=True)
            r.start(show)
        threading.Event().wait(args.seconds)
    except KeyboardInterrupt:
        pass
    finally:
        for r in readers:
            r.close()
    return 0
