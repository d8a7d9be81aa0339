"""kiosk config check: the example passes; each broken config fails naming its key."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from kiosk.config import load_config
from kiosk.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = (REPO / "kiosk.example.toml").read_text(encoding="utf-8")
CAB1_BUS = "/dev/hall-kiosk/lockbus0"  # the example cabinet's bus


def _second_cabinet(bus: str, board: int = 1) -> str:
    """A [[cabinets]] block whose one compartment sits on board 1 channel 1, like the example's B01."""
    return (
        f'[[cabinets]]\nid = "CAB-02"\nbus = "{bus}"\nfamily = "kerong-cu"\nboards = [{board}]\n'
        f'compartments = [{{ label = "C01", size = "S", board = {board}, channel = 1 }}]\n\n[[card_readers]]'
    )


def kiosk_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hallkiosk.cli", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
    )


def test_example_and_default_are_accepted() -> None:
    r = kiosk_cli("config", "check", str(REPO / "kiosk.example.toml"))
    assert r.returncode == 0, r.stderr
    assert "ok:" in r.stdout and "LS-HALL-01" in r.stdout
    r = kiosk_cli("config", "check")
    assert r.returncode == 0, r.stderr


# (description, edit applied to the example text, the key path the message must name, a word of what is allowed)
BAD = [
    (
        "unknown key",
        lambda t: t.replace("hall_en =", 'hal_en = "x"\nhall_en ='),
        "kiosk.hal_en",
        "unknown key",
    ),
    (
        "wrong type",
        lambda t: t.replace("inactivity_warning_s = 60", 'inactivity_warning_s = "sixty"'),
        "kiosk.inactivity_warning_s",
        "number",
    ),
    (
        "out of range",
        lambda t: t.replace("inactivity_warning_s = 60", "inactivity_warning_s = 5"),
        "kiosk.inactivity_warning_s",
        "10",
    ),
    ("bad kiosk id", lambda t: t.replace('id = "LS-HALL-01"', 'id = "ls hall"'), "kiosk.id", "pattern"),
    (
        "compartment mapped twice",
        lambda t: t.replace(
            '{ label = "A02", size = "S", board = 0, channel = 2 }',
            '{ label = "A02", size = "S", board = 0, channel = 1 }',
        ),
        "cabinets[0].compartments[1]",
        "already mapped to A01",
    ),
    (
        "label twice",
        lambda t: t.replace('label = "A02"', 'label = "A01"'),
        "cabinets[0].compartments[1].label",
        "twice",
    ),
    (
        "bad size",
        lambda t: t.replace('label = "A03", size = "M"', 'label = "A03", size = "XL"'),
        "cabinets[0].compartments[2].size",
        "'S', 'M' or 'L'",
    ),
    (
        "unknown family",
        lambda t: t.replace('family = "kerong-cu"', 'family = "acme"'),
        "cabinets[0].family",
        "kerong-cu",
    ),
    (
        "board not on bus",
        lambda t: t.replace("board = 1, channel = 1", "board = 7, channel = 1"),
        "cabinets[0].compartments[4].board",
        "not in boards",
    ),
    (
        "kerong address too high",
        lambda t: t.replace("boards = [0, 1]", "boards = [0, 1, 20]"),
        "cabinets[0].boards",
        "0-15",
    ),
    (
        "channel beyond board",
        lambda t: t.replace("board = 1, channel = 1", "board = 1, channel = 17"),
        "cabinets[0].compartments[4].channel",
        "16",
    ),
    (
        "polarity not 0/1",
        lambda t: t.replace("hook_closed_level = 1", "hook_closed_level = 2"),
        "cabinets[0].hook_closed_level",
        "0 or 1",
    ),
    (
        "ga467 without url",
        lambda t: t.replace('url = "/dev/hall-kiosk/idreader"', ""),
        "card_readers[1].url",
        "serial port",
    ),
    (
        "bad reader regex",
        lambda t: t.replace('name = "(?i)ACS|Virtual PCD"', 'name = "(unclosed"'),
        "card_readers[0].name",
        "regular expression",
    ),
    (
        "platform endpoint",
        lambda t: t.replace('endpoint = "https://zwfw.example.gov.cn/zwfw/kiosk/v1"', 'endpoint = "ftp://x"'),
        "platform.endpoint",
        "http",
    ),
    (
        "plain HTTP to a host name",
        lambda t: t.replace('endpoint = "https://zwfw', 'endpoint = "http://zwfw'),
        "platform.endpoint",
        "plain HTTP only for a test endpoint on a private address (platform rules); use https://",
    ),
    (
        "plain HTTP to a public address",
        lambda t: t.replace('"https://zwfw.example.gov.cn/', '"http://202.96.1.1:8080/'),
        "platform.endpoint",
        "plain HTTP only for a test endpoint on a private address",
    ),
    (
        "ca_file missing",
        lambda t: t.replace(
            '# ca_file = "/etc/hall-kiosk/platform-ca.pem"', 'ca_file = "/nonexistent/platform-ca.pem"'
        ),
        "platform.ca_file",
        "not an existing readable file",
    ),
    (
        "ca_file relative",
        lambda t: t.replace('# ca_file = "/etc/hall-kiosk/platform-ca.pem"', 'ca_file = "platform-ca.pem"'),
        "platform.ca_file",
        "absolute path",
    ),
    (
        "ca_file not PEM",
        lambda t: t.replace(
            '# ca_file = "/etc/hall-kiosk/platform-ca.pem"', f'ca_file = "{REPO / "kiosk.example.toml"}"'
        ),
        "platform.ca_file",
        "holds no PEM certificate",
    ),
    ("code too short", lambda t: t.replace("code_digits = 6", "code_digits = 4"), "pickup.code_digits", "6"),
    (
        "reminders never looked for",
        lambda t: t.replace("reminders_interval_s = 900", "reminders_interval_s = 0"),
        "pickup.reminders_interval_s",
        "1",
    ),
    (
        "password in the file",
        lambda t: t.replace('username = "ls-hall-01"', 'username = "ls-hall-01"\npassword = "secret"'),
        "platform.password",
        "unknown key",
    ),
    ("missing section key", lambda t: t.replace('hall = "芦淞区政务服务中心"', ""), "kiosk.hall", "missing"),
    (
        "unknown time zone",
        lambda t: t.replace('timezone = "Asia/Shanghai"', 'timezone = "Asia/Beijing"'),
        "kiosk.timezone",
        "IANA time zone",
    ),
    ("not toml", lambda t: t.replace("[kiosk]", "[kiosk"), "", "not valid TOML"),
    # Strict types: what lax mode used to coerce silently.
    (
        "quoted number",
        lambda t: t.replace("inactivity_warning_s = 60", 'inactivity_warning_s = "60"'),
        "kiosk.inactivity_warning_s",
        "valid number",
    ),
    (
        "word for a switch",
        lambda t: t.replace("has_item_sensors = true", 'has_item_sensors = "yes"'),
        "cabinets[0].has_item_sensors",
        "valid boolean",
    ),
    (
        "number for a switch",
        lambda t: t.replace("fullscreen = true", "fullscreen = 0"),
        "ui.fullscreen",
        "valid boolean",
    ),
    (
        "fraction for a count",
        lambda t: t.replace("retries = 2 ", "retries = 2.0 "),
        "cabinets[0].retries",
        "valid integer",
    ),
    (
        "switch for a 0/1 level",
        lambda t: t.replace("hook_closed_level = 1", "hook_closed_level = true"),
        "cabinets[0].hook_closed_level",
        "0 or 1 (an integer)",
    ),
    (
        "fraction for a 0/1 level",
        lambda t: t.replace("item_present_level = 1", "item_present_level = 1.0"),
        "cabinets[0].item_present_level",
        "0 or 1 (an integer)",
    ),
    (
        "number for a string",
        lambda t: t.replace('closed_status = "11"', "closed_status = 11"),
        "cabinets[0].closed_status",
        "'11' or '00'",
    ),
    # Consistency between keys.
    (
        "board listed twice",
        lambda t: t.replace("boards = [0, 1]", "boards = [0, 1, 0]"),
        "cabinets[0].boards",
        "board 0 is listed twice",
    ),
    (
        "one lock, two cabinets on one bus",
        lambda t: t.replace("[[card_readers]]", _second_cabinet(CAB1_BUS), 1),
        "cabinets[1].compartments[0]",
        "board 1 channel 1 on bus " + CAB1_BUS + " is already mapped to B01 in cabinet CAB-01",
    ),
    (
        "backoff cap below the first wait",
        lambda t: t.replace("outbox_backoff_max_s = 600", "outbox_backoff_max_s = 1"),
        "platform.outbox_backoff_max_s",
        "at least the first wait",
    ),
    (
        "usb printer without target",
        lambda t: t.replace('target = "0x0416:0x5011"', ""),
        "printer.target",
        "an escpos-usb printer needs its USB vendor:product",
    ),
    (
        "usb printer with a path",
        lambda t: t.replace('target = "0x0416:0x5011"', 'target = "/dev/usb/lp0"'),
        "printer.target",
        "vendor:product, e.g. 0x0416:0x5011 (got '/dev/usb/lp0')",
    ),
    (
        "serial printer without device",
        lambda t: t.replace('kind = "escpos-usb"', 'kind = "escpos-serial"').replace(
            'target = "0x0416:0x5011"', 'target = ""'
        ),
        "printer.target",
        "its serial device",
    ),
    (
        "network printer without address",
        lambda t: t.replace('kind = "escpos-usb"', 'kind = "escpos-network"').replace(
            'target = "0x0416:0x5011"', ""
        ),
        "printer.target",
        "its host[:port]",
    ),
    (
        "network printer, port not a number",
        lambda t: t.replace('kind = "escpos-usb"', 'kind = "escpos-network"').replace(
            'target = "0x0416:0x5011"', 'target = "10.1.2.3:lp"'
        ),
        "printer.target",
        "its host[:port]",
    ),
]


@pytest.mark.parametrize(("what", "edit", "key", "allowed"), BAD, ids=[b[0] for b in BAD])
def test_bad_config_names_the_key(tmp_path: Path, what: str, edit, key: str, allowed: str) -> None:
    bad = edit(EXAMPLE)
    assert bad != EXAMPLE, f"the edit for {what!r} did not change the example"
    path = tmp_path / "kiosk.toml"
    path.write_text(bad, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    first = str(info.value).splitlines()[0]
    assert str(path) in first
    assert key in first, first
    assert allowed in first, first
    r = kiosk_cli("config", "check", str(path))
    assert r.returncode == 3
    assert key in r.stderr and str(path) in r.stderr


def test_missing_and_non_utf8_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "nope.toml")
    p = tmp_path / "gbk.toml"
    p.write_bytes(EXAMPLE.encode("gbk"))
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_config(p)


def test_password_file_must_be_private(tmp_path: Path) -> None:
    pw = tmp_path / "pw"
    pw.write_text("s3cret\n")
    pw.chmod(0o644)
    cfgp = tmp_path / "kiosk.toml"
    cfgp.write_text(
        EXAMPLE.replace('# password_file = "/etc/hall-kiosk/platform.password"', f'password_file = "{pw}"')
    )
    cfg = load_config(cfgp)
    os.environ.pop("KIOSK_PLATFORM_PASSWORD", None)
    with pytest.raises(ConfigError, match="readable by others"):
        cfg.platform_password()
    pw.chmod(0o600)
    assert cfg.platform_password() == "s3cret"


@pytest.mark.parametrize("bus", ["/dev/serial/by-id/usb-FTDI_USB-RS485_Cable_FT9999-if00-port0", "sim"])
def test_same_board_and_channel_on_another_bus_is_accepted(tmp_path: Path, bus: str) -> None:
    """Board 1 channel 1 on a different bus is a different lock; so is any "sim" cabinet's (each has its own)."""
    text_ = EXAMPLE.replace("[[card_readers]]", _second_cabinet(bus), 1)
    if bus == "sim":
        text_ = text_.replace(f'bus = "{CAB1_BUS}"', 'bus = "sim"')
    path = tmp_path / "kiosk.toml"
    path.write_text(text_, encoding="utf-8")
    cfg = load_config(path)
    assert [(c.bus, c.compartments[-1].board, c.compartments[-1].channel) for c in cfg.cabinets][1] == (
        bus,
        1,
        1,
    )


def test_integers_are_accepted_for_fractional_settings(tmp_path: Path) -> None:
    """Strict types still take a TOML integer where a float is meant (``timeout_s = 10``), as a float."""
    path = tmp_path / "kiosk.toml"
    path.write_text(
        EXAMPLE.replace("open_poll_interval_s = 0.15", "open_poll_interval_s = 1"), encoding="utf-8"
    )
    cfg = load_config(path)
    assert type(cfg.platform.timeout_s) is float and cfg.platform.timeout_s == 10
    assert type(cfg.cabinets[0].open_poll_interval_s) is float and cfg.cabinets[0].open_poll_interval_s == 1
    assert type(cfg.kiosk.inactivity_warning_s) is float and cfg.ui.fullscreen is True
