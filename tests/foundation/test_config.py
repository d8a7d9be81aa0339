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


def kiosk_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hallkiosk.cli", *args],
        capture_output=True, text=True, timeout=60, env={**os.environ, **(env or {})},
    )


def test_example_and_default_are_accepted() -> None:
    r = kiosk_cli("config", "check", str(REPO / "kiosk.example.toml"))
    assert r.returncode == 0, r.stderr
    assert "ok:" in r.stdout and "LS-HALL-01" in r.stdout
    r = kiosk_cli("config", "check")
    assert r.returncode == 0, r.stderr


# (description, edit applied to the example text, the key path the message must name, a word of what is allowed)
BAD = [
    ("unknown key", lambda t: t.replace('hall_en =', 'hal_en = "x"\nhall_en ='), "kiosk.hal_en", "unknown key"),
    ("wrong type", lambda t: t.replace("inactivity_warning_s = 60", 'inactivity_warning_s = "sixty"'),
     "kiosk.inactivity_warning_s", "number"),
    ("out of range", lambda t: t.replace("inactivity_warning_s = 60", "inactivity_warning_s = 5"),
     "kiosk.inactivity_warning_s", "10"),
    ("bad kiosk id", lambda t: t.replace('id = "LS-HALL-01"', 'id = "ls hall"'), "kiosk.id", "pattern"),
    ("compartment mapped twice", lambda t: t.replace('{ label = "A02", size = "S", board = 0, channel = 2 }',
                                                     '{ label = "A02", size = "S", board = 0, channel = 1 }'),
     "cabinets[0].compartments[1]", "already mapped to A01"),
    ("label twice", lambda t: t.replace('label = "A02"', 'label = "A01"'), "cabinets[0].compartments[1].label", "twice"),
    ("bad size", lambda t: t.replace('label = "A03", size = "M"', 'label = "A03", size = "XL"'),
     "cabinets[0].compartments[2].size", "'S', 'M' or 'L'"),
    ("unknown family", lambda t: t.replace('family = "kerong-cu"', 'family = "acme"'), "cabinets[0].family", "kerong-cu"),
    ("board not on bus", lambda t: t.replace('board = 1, channel = 1', 'board = 7, channel = 1'),
     "cabinets[0].compartments[4].board", "not in boards"),
    ("kerong address too high", lambda t: t.replace("boards = [0, 1]", "boards = [0, 1, 20]"), "cabinets[0].boards", "0-15"),
    ("channel beyond board", lambda t: t.replace('board = 1, channel = 1', 'board = 1, channel = 17'),
     "cabinets[0].compartments[4].channel", "16"),
    ("polarity not 0/1", lambda t: t.replace("hook_closed_level = 1", "hook_closed_level = 2"),
     "cabinets[0].hook_closed_level", "0 or 1"),
    ("ga467 without url", lambda t: t.replace('url = "/dev/serial/by-id/usb-ID_Card_Reader-if00"', ""),
     "card_readers[1].url", "serial port"),
    ("bad reader regex", lambda t: t.replace('name = "(?i)ACS|Virtual PCD"', 'name = "(unclosed"'),
     "card_readers[0].name", "regular expression"),
    ("platform endpoint", lambda t: t.replace('endpoint = "https://zwfw.example.gov.cn/zwfw/kiosk/v1"', 'endpoint = "ftp://x"'),
     "platform.endpoint", "http"),
    ("plain HTTP to a host name", lambda t: t.replace('endpoint = "https://zwfw', 'endpoint = "http://zwfw'),
     "platform.endpoint", "plain HTTP only for a test endpoint on a private address (platform rules); use https://"),
    ("plain HTTP to a public address", lambda t: t.replace('"https://zwfw.example.gov.cn/', '"http://202.96.1.1:8080/'),
     "platform.endpoint", "plain HTTP only for a test endpoint on a private address"),
    ("ca_file missing", lambda t: t.replace('# ca_file = "/etc/hall-kiosk/platform-ca.pem"',
                                            'ca_file = "/nonexistent/platform-ca.pem"'),
     "platform.ca_file", "not an existing readable file"),
    ("ca_file relative", lambda t: t.replace('# ca_file = "/etc/hall-kiosk/platform-ca.pem"', 'ca_file = "platform-ca.pem"'),
     "platform.ca_file", "absolute path"),
    ("ca_file not PEM", lambda t: t.replace('# ca_file = "/etc/hall-kiosk/platform-ca.pem"',
                                            f'ca_file = "{REPO / "kiosk.example.toml"}"'),
     "platform.ca_file", "holds no PEM certificate"),
    ("code too short", lambda t: t.replace("code_digits = 6", "code_digits = 4"), "pickup.code_digits", "6"),
    ("password in the file", lambda t: t.replace('username = "ls-hall-01"', 'username = "ls-hall-01"\npassword = "secret"'),
     "platform.password", "unknown key"),
    ("missing section key", lambda t: t.replace('hall = "芦淞区政务服务中心"', ""), "kiosk.hall", "missing"),
    ("unknown time zone", lambda t: t.replace('timezone = "Asia/Shanghai"', 'timezone = "Asia/Beijing"'),
     "kiosk.timezone", "IANA time zone"),
    ("not toml", lambda t: t.replace("[kiosk]", "[kiosk"), "", "not valid TOML"),
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
    cfgp.write_text(EXAMPLE.replace('# password_file = "/etc/hall-kiosk/platform.password"', f'password_file = "{pw}"'))
    cfg = load_config(cfgp)
    os.environ.pop("KIOSK_PLATFORM_PASSWORD", None)
    with pytest.raises(ConfigError, match="readable by others"):
        cfg.platform_password()
    pw.chmod(0o600)
    assert cfg.platform_password() == "s3cret"
