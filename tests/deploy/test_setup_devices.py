"""`kiosk setup devices`: the attached serial devices with their ids, and the udev rule for the one chosen.

The USB-serial adapters are FAKED as pyserial ListPortInfo objects: the test machine has no FTDI, CH340, CP210x
or PL2303 adapter plugged in, and pyserial reads them from sysfs. Everything after list_ports (the listing, the
rule text, the rules file) is the real code; one test also lists this machine's real ports. The rules written
are checked by `udevadm verify` where this udev has it (systemd >= 253), else by their shape."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from serial.tools.list_ports_common import ListPortInfo

from hallkiosk import cli
from hallkiosk.setup_devices import SerialDevice, attached, rule_for


def _port(
    device: str, vid: int | None, pid: int | None, serial: str | None, location: str | None, description: str
) -> ListPortInfo:
    p = ListPortInfo(device, skip_link_detection=True)
    p.vid, p.pid, p.serial_number, p.location, p.description = vid, pid, serial, location, description
    return p


PORTS = [
    _port("/dev/ttyUSB0", 0x0403, 0x6001, "FT1234AB", "1-1.1:1.0", "FT232R USB UART"),
    _port("/dev/ttyUSB1", 0x1A86, 0x7523, None, "1-1.3:1.0", "USB2.0-Serial"),  # CH340: no serial number
    _port("/dev/ttyUSB2", 0x10C4, 0xEA60, "0001", "1-1.4:1.0", "CP2102 USB to UART Bridge Controller"),
    _port("/dev/ttyUSB3", 0x067B, 0x2303, "PL1", "1-1.2:1.0", "USB-Serial Controller"),
    _port("/dev/ttyS0", None, None, None, None, "n/a"),
]


@pytest.fixture
def fake_ports(monkeypatch: pytest.MonkeyPatch) -> list[ListPortInfo]:
    monkeypatch.setattr("serial.tools.list_ports.comports", lambda: PORTS)
    return PORTS


def test_lists_each_device_with_its_ids(
    fake_ports: list[ListPortInfo], capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["setup", "devices"]) == 0
    out = capsys.readouterr().out.splitlines()
    rows = {line.split()[0]: line.split() for line in out[1:-1]}
    assert rows["/dev/ttyUSB0"][1:5] == ["FTDI", "0403:6001", "FT1234AB", "1-1.1:1.0"]
    assert rows["/dev/ttyUSB1"][1:5] == ["CH340", "1a86:7523", "-", "1-1.3:1.0"]
    assert rows["/dev/ttyUSB2"][1:3] == ["CP210x", "10c4:ea60"] and rows["/dev/ttyUSB3"][1] == "PL2303"
    assert rows["/dev/ttyS0"][1:3] == ["not", "USB"]


def test_writes_the_rule_for_the_chosen_device(
    fake_ports: list[ListPortInfo], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rules = tmp_path / "70-hall-kiosk-devices.rules"
    assert (
        cli.main(
            ["setup", "devices", "--role", "lockbus0", "--device", "/dev/ttyUSB0", "--rules-file", str(rules)]
        )
        == 0
    )
    assert (
        cli.main(
            ["setup", "devices", "--role", "idreader", "--device", "/dev/ttyUSB1", "--rules-file", str(rules)]
        )
        == 0
    )
    text = rules.read_text()
    assert (
        'SUBSYSTEM=="tty", ATTRS{idVendor}=="0403", ATTRS{idProduct}=="6001", ATTRS{serial}=="FT1234AB", '
        'SYMLINK+="hall-kiosk/lockbus0", GROUP="dialout", MODE="0660"'
    ) in text
    # CH340 has no serial number: its rule names the USB port.
    assert (
        'ATTRS{idVendor}=="1a86", ATTRS{idProduct}=="7523", KERNELS=="1-1.3:1.0", SYMLINK+="hall-kiosk/idreader"'
        in text
    )
    # Choosing another adapter for a role replaces that role's rule and keeps the others.
    assert (
        cli.main(
            ["setup", "devices", "--role", "lockbus0", "--device", "/dev/ttyUSB2", "--rules-file", str(rules)]
        )
        == 0
    )
    text = rules.read_text()
    assert (
        text.count('hall-kiosk/lockbus0"') == 1 and 'ATTRS{serial}=="0001"' in text and "FT1234AB" not in text
    )
    assert text.count("# lockbus0:") == 1 and "hall-kiosk/idreader" in text
    assert "udevadm control --reload" in capsys.readouterr().out
    if (
        shutil.which("udevadm")
        and "verify" in subprocess.run(["udevadm", "--help"], capture_output=True, text=True).stdout
    ):
        r = subprocess.run(["udevadm", "verify", str(rules)], capture_output=True, text=True)
        assert r.returncode == 0, r.stdout + r.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--role", "lockbus0", "--device", "/dev/ttyUSB9"], "error: /dev/ttyUSB9 is not attached"),
        (["--role", "door", "--device", "/dev/ttyUSB0"], "error: unknown device role 'door'"),
        (["--role", "lockbus0", "--device", "/dev/ttyS0"], "error: /dev/ttyS0 is not a USB adapter"),
        (["--role", "lockbus0"], "error: --role and --device go together"),
    ],
)
def test_bad_choices_are_one_line_errors(
    fake_ports: list[ListPortInfo],
    tmp_path: Path,
    args: list[str],
    message: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    rules = tmp_path / "r.rules"
    assert cli.main(["setup", "devices", *args, "--rules-file", str(rules)]) == 3
    err = capsys.readouterr().err
    assert err.splitlines()[0].startswith(message) and "Traceback" not in err
    assert not rules.exists()


def test_a_quote_in_a_serial_number_never_reaches_a_rule() -> None:
    dev = SerialDevice("/dev/ttyUSB0", 0x0403, 0x6001, 'X", RUN+="/bin/sh', None, "evil")
    with pytest.raises(Exception, match="neither a serial number nor a USB port"):
        rule_for(dev, "printer")


def test_lists_this_machines_real_ports() -> None:
    """No fake: whatever pyserial finds here (often only on-board ports) comes back as devices."""
    for dev in attached():
        assert dev.device.startswith("/dev/")
