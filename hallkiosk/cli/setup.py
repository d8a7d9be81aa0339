"""``kiosk setup devices``: list the attached serial devices; with --role and --device, write the udev rule."""

from __future__ import annotations

import argparse
from pathlib import Path

from hallkiosk.setup_devices import RULES_FILE, attached, write_rule
from kiosk.errors import ConfigError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("setup", help="installing a kiosk PC")
    s = p.add_subparsers(dest="setup_cmd", required=True)
    d = s.add_parser(
        "devices", help="list serial devices; --role R --device D writes the udev rule naming it"
    )
    d.add_argument("--role", help="lockbus0 (lockbus1 ...), idreader or printer: /dev/hall-kiosk/<role>")
    d.add_argument("--device", help="the device to name, as listed (e.g. /dev/ttyUSB0)")
    d.add_argument("--rules-file", type=Path, default=RULES_FILE, help=f"default: {RULES_FILE}")
    d.set_defaults(func=_devices)


def _devices(args: argparse.Namespace) -> int:
    devices = attached()
    if bool(args.role) != bool(args.device):
        raise ConfigError(
            "--role and --device go together",
            hint="e.g. kiosk setup devices --role lockbus0 --device /dev/ttyUSB0",
        )
    if not args.role:
        if not devices:
            print("no serial devices attached")
            return 0
        print(f"{'device':<16} {'adapter':<10} {'vid:pid':<10} {'serial':<20} {'usb port':<14} description")
        for dev in devices:
            print(
                f"{dev.device:<16} {dev.family:<10} {dev.ids:<10} {dev.serial or '-':<20} {dev.location or '-':<14} "
                f"{dev.description}"
            )
        print("name one with: kiosk setup devices --role lockbus0|idreader|printer --device DEVICE")
        return 0
    dev = next((d for d in devices if d.device == args.device), None)
    if dev is None:
        raise ConfigError(
            f"{args.device} is not attached", hint="`kiosk setup devices` lists the attached ones"
        )
    try:
        rule = write_rule(args.rules_file, dev, args.role)
    except PermissionError as err:
        raise ConfigError(
            f"cannot write {args.rules_file}: {err.strerror}", hint="run it as root (sudo)"
        ) from None
    print(f"wrote to {args.rules_file}:\n{rule}")
    print(
        f"apply: udevadm control --reload && udevadm trigger --subsystem-match=tty; then /dev/hall-kiosk/{args.role}"
    )
    return 0
