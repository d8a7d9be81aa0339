"""``kiosk sim card ...``: a virtual card for vpcd, or a GA 467 reader simulator on a pty.

    kiosk sim card vpcd --port 35963 --name 张三 --id 110105199001011232
    kiosk sim card vpcd --badge 04A1B2C3
    kiosk sim card ga467 --pty --insert

Both run in the foreground; on a terminal they read ``insert`` / ``remove`` / ``quit`` lines.
"""

from __future__ import annotations

import argparse
import sys
import threading
from collections.abc import Callable

from drivers.cardreader.ga467_sim import DEMO_CARD, Ga467Sim
from drivers.cardreader.vcard import (
    VPCD_PORT,
    CardFaults,
    VirtualCard,
    VirtualSocialSecurityCard,
    VirtualStaffBadge,
)
from kiosk.identity import validate_id_number
from kiosk.privacy import mask_id_number


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="kiosk sim card", description="virtual cards and card reader simulators")
    s = p.add_subparsers(dest="verb", required=True)
    v = s.add_parser("vpcd", help="a virtual card on vsmartcard's vpcd reader (pcscd must run with vpcd)")
    v.add_argument("--host", default="127.0.0.1")
    v.add_argument("--port", type=int, default=VPCD_PORT, help="35963 = 'Virtual PCD 00 00', 35964 = '00 01'")
    v.add_argument("--name", default=DEMO_CARD["name"], help="holder's name (fictitious!)")
    v.add_argument(
        "--id", default=DEMO_CARD["id_number"], help="18-character ID number with a valid check digit"
    )
    v.add_argument("--birth", help="YYYYMMDD (default: from the ID number)")
    v.add_argument("--sex", choices=["1", "2", "M", "F"], help="default: from the ID number")
    v.add_argument("--card-number", default="D00000001")
    v.add_argument("--badge", metavar="UID", help="be a staff badge with this hex UID instead")
    v.add_argument("--pin-required", action="store_true", help="records answer 6982")
    v.add_argument("--t0", action="store_true", help="answer through 61xx / GET RESPONSE")
    v.add_argument("--remove-after", type=int, metavar="N", help="pull out after N APDUs")
    g = s.add_parser("ga467", help="a GA 467 SAM reader on a pseudo-terminal")
    g.add_argument(
        "--pty", action="store_true", required=True, help="serve on a new pty (its path is printed)"
    )
    g.add_argument("--baud-timing", action="store_true", help="pace replies like a 115200 baud UART")
    g.add_argument("--insert", action="store_true", help="start with the demo card on the reader")
    return p


def cli_main(argv: list[str]) -> int:
    """Entry point for ``kiosk sim card``; returns the exit code."""
    args = _parser().parse_args(argv)
    if args.verb == "vpcd":
        return _vpcd(args)
    return _ga467(args)


def _vpcd(args: argparse.Namespace) -> int:
    faults = CardFaults(
        pin_required=args.pin_required, use_61xx=args.t0, remove_after_apdus=args.remove_after
    )
    card: VirtualCard
    if args.badge:
        try:
            card = VirtualStaffBadge(args.badge, faults)
        except ValueError:
            print("error: --badge wants a hex UID such as 04A1B2C3", file=sys.stderr)
            return 2
        what = f"staff badge {args.badge.upper()}"
    else:
        try:
            validate_id_number(args.id)
        except ValueError as err:
            print(f"error: --id: {err}", file=sys.stderr)
            return 2
        card = VirtualSocialSecurityCard(
            args.name, args.id, args.birth, args.sex, args.card_number, faults=faults
        )
        what = f"social security card {mask_id_number(args.id.upper())}"

    def insert() -> None:
        card.insert(args.port, args.host)
        print(f"inserted {what} into vpcd at {args.host}:{args.port}", flush=True)

    try:
        insert()
    except OSError as err:
        print(
            f"error: cannot reach vpcd at {args.host}:{args.port} ({err}); is pcscd running with vsmartcard-vpcd?",
            file=sys.stderr,
        )
        return 1
    return _console(insert, card.remove)


def _ga467(args: argparse.Namespace) -> int:
    sim = Ga467Sim(baud_timing=args.baud_timing).start()
    print(f"GA 467 simulator on {sim.path} (115200 8N1); use it as the reader's url", flush=True)
    if args.insert:
        sim.insert_demo_card()
    try:
        return _console(sim.insert_demo_card, sim.remove_card)
    finally:
        sim.stop()


def _console(insert: Callable[[], None], remove: Callable[[], None]) -> int:
    """Read insert/remove/quit from a terminal; otherwise just wait for Ctrl-C."""
    try:
        if not sys.stdin.isatty():
            threading.Event().wait()
        print("commands: insert, remove, quit", flush=True)
        for line in sys.stdin:
            cmd = line.strip().lower()
            if cmd in ("q", "quit", "exit"):
                break
            if cmd == "insert":
                insert()
            elif cmd == "remove":
                remove()
                print("removed", flush=True)
            elif cmd:
                print("commands: insert, remove, quit", flush=True)
    except KeyboardInterrupt:
        pass
    finally:
        remove()
    return 0
