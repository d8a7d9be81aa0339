"""One writer of key files (kiosk.secret.write_key): mode 0600, exclusive create vs atomic replace."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from kiosk.secret import load_or_create_secret, write_key


def _mode(p: Path) -> int:
    return stat.S_IMODE(p.stat().st_mode)


def test_exclusive_creates_0600_and_refuses_an_existing_file(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "k.key"
    write_key(path, b"a" * 32, exclusive=True)
    assert path.read_bytes() == b"a" * 32
    assert _mode(path) == 0o600
    assert _mode(path.parent) & 0o077 == 0
    with pytest.raises(FileExistsError):
        write_key(path, b"b" * 32, exclusive=True)
    assert path.read_bytes() == b"a" * 32


def test_replace_swaps_the_file_atomically_and_leaves_no_tmp(tmp_path: Path) -> None:
    path = tmp_path / "k.key"
    write_key(path, b"a" * 32, exclusive=True)
    write_key(path, b"b" * 32, exclusive=False)
    assert path.read_bytes() == b"b" * 32
    assert _mode(path) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["k.key"]


def test_first_start_secret_goes_through_the_writer(tmp_path: Path) -> None:
    key = load_or_create_secret(tmp_path, tmp_path / "secret.key")
    assert len(key) == 32
    assert _mode(tmp_path / "secret.key") == 0o600
    assert load_or_create_secret(tmp_path, tmp_path / "secret.key") == key
