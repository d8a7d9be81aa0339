"""Stable device names: which USB-serial adapter is the lock bus, the GA 467 reader, the receipt printer.

A kiosk PC enumerates its adapters as /dev/ttyUSB0, 1, 2 in whatever order they answer at boot. A udev rule
per device, matched on vendor, product and serial number, gives each a name that does not move
(/dev/hall-kiosk/lockbus0, idreader, printer); the example config uses these names. CH340 adapters have no
serial number: their rule matches the USB port instead (KERNELS), so such an adapter must stay in its port.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from kiosk.errors import ConfigError

HINT = "`kiosk setup devices` lists the attached serial devices with their ids."
RULES_FILE = Path("/etc/udev/rules.d/70-hall-kiosk-devices.rules")
LINK_DIR = "hall-kiosk"
ROLE_RE = re.compile(r"^(lockbus[0-9]{1,2}|idreader|printer)$")
# The adapters kiosks are sold with, by USB vendor id (the rules in packaging/udev name their products).
FAMILIES = {0x0403: "FTDI", 0x1A86: "CH340", 0x10C4: "CP210x", 0x067B: "PL2303"}
_SAFE = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")  # a serial number or port path we may quote in a rule


@dataclass(frozen=True)
class SerialDevice:
    device: str  # /dev/ttyUSB0
    vid: int | None
    pid: int | None
    serial: str | None
    location: str | None  # the USB interface, e.g. 1-1.2:1.0 (udev's KERNELS)
    description: str

    @property
    def family(self) -> str:
        return FAMILIES.get(self.vid or -1, "other USB" if self.vid is not None else "not USB")

    @property
    def ids(self) -> str:
        return f"{self.vid:04x}:{self.pid:04x}" if self.vid is not None and self.pid is not None else "-"


def attached(comports: object = None) -> list[SerialDevice]:
    """Every serial port pyserial's list_ports sees, USB ones first."""
    if comports is None:
        from serial.tools.list_ports import comports as _comports

        comports = _comports
    out = [
        SerialDevice(
            device=p.device,
            vid=p.vid,
            pid=p.pid,
            serial=p.serial_number or None,
            location=p.location or None,
            description=p.description or "",
        )
        for p in comports()
    ]  # type: ignore[operator]
    return sorted(out, key=lambda d: (d.vid is None, d.device))


def rule_for(dev: SerialDevice, role: str) -> str:
    """The udev rule naming ``dev`` /dev/hall-kiosk/<role>; ConfigError when it cannot be told apart."""
    if not ROLE_RE.match(role):
        raise ConfigError(
            f"unknown device role {role!r}: expected lockbus0..lockbus99, idreader or printer", hint=HINT
        )
    if dev.vid is None or dev.pid is None:
        raise ConfigError(
            f"{dev.device} is not a USB adapter: name it by its own path in kiosk.toml, no rule needed",
            hint=HINT,
        )
    match = f'SUBSYSTEM=="tty", ATTRS{{idVendor}}=="{dev.vid:04x}", ATTRS{{idProduct}}=="{dev.pid:04x}"'
    if dev.serial and _SAFE.match(dev.serial):
        match += f', ATTRS{{serial}}=="{dev.serial}"'
    elif dev.location and _SAFE.match(dev.location):
        match += f', KERNELS=="{dev.location}"'  # no usable serial number (CH340): this USB port only
    else:
        raise ConfigError(
            f"{dev.device} has neither a serial number nor a USB port path to match on", hint=HINT
        )
    return f'{match}, SYMLINK+="{LINK_DIR}/{role}", GROUP="dialout", MODE="0660"'


def write_rule(rules_file: Path, dev: SerialDevice, role: str) -> str:
    """Add or replace the rule for ``role`` in ``rules_file``; other roles' rules stay. Returns the rule."""
    rule = rule_for(dev, role)
    marker = f'SYMLINK+="{LINK_DIR}/{role}"'
    lines = (
        rules_file.read_text(encoding="utf-8").splitlines()
        if rules_file.exists()
        else [
            "# Written by `kiosk setup devices`: one stable name per kiosk device (see /lib/udev/rules.d/60-hall-kiosk.rules)."
        ]
    )
    kept = [line for line in lines if marker not in line]
    kept.append(f"# {role}: {dev.family} {dev.ids} {dev.description}".rstrip())
    kept.append(rule)
    # A comment left without its rule (the role was replaced) goes too.
    text = "\n".join(
        line
        for i, line in enumerate(kept)
        if not (line.startswith(f"# {role}: ") and i + 1 < len(kept) and kept[i + 1].startswith("#"))
    )
    rules_file.parent.mkdir(parents=True, exist_ok=True)
    tmp = rules_file.with_suffix(".tmp")
    tmp.write_text(text + "\n", encoding="utf-8")
    tmp.chmod(0o644)
    tmp.replace(rules_file)
    return rule
