"""Config and command-line edge cases: each a one-line error, never a traceback or a hang; unsafe text shown escaped."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from hallkiosk.cli import main
from kiosk.config import Config
from kiosk.printable import printable
from tests.conftest import REPO


def _cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    try:
        code = main(list(args))
    except SystemExit as exit_:  # argparse's own refusal of an argument
        code = int(exit_.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def _one_line(err: str) -> str:
    assert "Traceback" not in err, err
    lines = [ln for ln in err.splitlines() if ln.startswith(("error: ", "kiosk "))]
    assert len(lines) == 1, err
    return lines[0]


def test_a_fifo_or_dev_zero_as_the_config_is_refused_without_hanging(tmp_path: Path) -> None:
    fifo = tmp_path / "kiosk.toml"
    os.mkfifo(fifo)  # nobody ever writes to it: reading it would block for ever
    for path in (fifo, Path("/dev/zero")):
        r = subprocess.run(
            [sys.executable, "-m", "hallkiosk.cli", "--config", str(path), "audit", "verify"],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert r.returncode == 3, r.stderr
        assert f"error: {path}: not a regular file" in _one_line(r.stderr)


def test_deep_nesting_and_a_huge_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    deep = tmp_path / "deep.toml"
    deep.write_text("a = " + "[" * 50_000 + "]" * 50_000 + "\n", encoding="utf-8")
    code, _, err = _cli(capsys, "--config", str(deep), "config", "check")
    assert code == 3 and "nested too deeply" in _one_line(err)
    big = tmp_path / "big.toml"
    big.write_bytes(b"# " + b"x" * (2 << 20) + b"\n")
    code, _, err = _cli(capsys, "--config", str(big), "config", "check")
    assert code == 3 and "a configuration is at most 1048576 bytes" in _one_line(err)


def test_nul_bytes_in_paths(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _cli(capsys, "--config", f"{tmp_path}/a\0b.toml", "config", "check")
    assert code == 3 and "a path cannot contain a NUL byte" in _one_line(err) and "\\x00" in err
    text_ = (REPO / "kiosk" / "default.toml").read_text(encoding="utf-8")
    text_ = text_.replace('data_dir = "~/.local/share/hall-kiosk"', 'data_dir = "/tmp/a\\u0000b"')
    p = tmp_path / "kiosk.toml"
    p.write_text(text_, encoding="utf-8")
    code, _, err = _cli(capsys, "--config", str(p), "audit", "verify")
    assert code == 3 and "kiosk.data_dir" in _one_line(err) and "NUL" in err


def test_non_utf8_text_in_the_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    p = tmp_path / "kiosk.toml"
    p.write_bytes(b'[kiosk]\nid = "HALL-01"\nhall = "\xb4\xf3\xcc\xfc"\n')  # GBK, not UTF-8
    code, _, err = _cli(capsys, "--config", str(p), "config", "check")
    assert code == 3 and "not UTF-8 text (byte 31); save the file as UTF-8" in _one_line(err)


@pytest.mark.parametrize(
    "args",
    [
        ["audit", "tail", "-n", "-5"],
        ["audit", "tail", "-n", "0"],
        ["audit", "tail", "-n", "9" * 40],
        ["outbox", "list", "-n", "99999999999999999999"],
        ["outbox", "retry", "-1"],
        ["outbox", "retry", "9" * 5000],
        ["cabinet", "resolve", "18446744073709551617"],
        ["outbox", "purge", "--older-than", "-30"],
        ["diag", "door", "A01", "--timeout", "inf"],
        ["diag", "door", "A01", "--timeout", "nan"],
    ],
)
def test_numbers_out_of_range_are_refused(
    cfg: Config, capsys: pytest.CaptureFixture[str], args: list[str]
) -> None:
    code, _, err = _cli(capsys, "--config", cfg.source, *args)
    assert code == 2 and "expected " in _one_line(err), err


def test_escapes_bidi_and_zero_width_are_shown_escaped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = _cli(capsys, "--config", f"{tmp_path}/\x1b[2J\u202eevil\u200b.toml", "config", "check")
    line = _one_line(err)
    assert code == 3 and "\\x1b[2J\\u202eevil\\u200b.toml" in line
    assert "\x1b" not in err and "\u202e" not in err and "\u200b" not in err


def test_typed_text_is_stored_escaped(cfg: Config, capsys: pytest.CaptureFixture[str]) -> None:
    reason = "\x1b[31m \u202eA01\u200b"
    code, _, err = _cli(capsys, "--config", cfg.source, "cabinet", "disable", "A01", "--reason", reason)
    assert code == 0, err
    code, out, _ = _cli(capsys, "--config", cfg.source, "audit", "tail", "--json", "-n", "5")
    rec = next(json.loads(ln) for ln in out.splitlines() if json.loads(ln)["action"] == "cabinet.disabled")
    # The typed reason is a staff note (kiosk.notes), stored escaped too.
    code, out, _ = _cli(capsys, "--config", cfg.source, "notes", "show", str(rec["detail"]["note"]))
    assert code == 0 and out.strip() == "\\x1b[31m \\u202eA01\\u200b"


def test_printable_leaves_chinese_and_plain_text_alone() -> None:
    assert printable("演示政务服务中心 A01 (ok)") == "演示政务服务中心 A01 (ok)"
    assert printable("a\nb\tc\x7f\u2028") == "a\\x0ab\\x09c\\x7f\\u2028"
