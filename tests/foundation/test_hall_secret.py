"""One hall secret for the kiosks on one database: fingerprint recorded by the first, another secret refused."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from hallkiosk.wiring import App
from kiosk.config import Config, load_config
from kiosk.hall_secret import SecretMismatch, fingerprint
from kiosk.identity import Identity
from tests.conftest import REPO, init_kiosk


def _config(tmp: Path, db_url: str, kiosk_id: str, secret_file: str = "") -> Path:
    tmp.mkdir(parents=True, exist_ok=True)
    text_ = (REPO / "kiosk" / "default.toml").read_text(encoding="utf-8")
    extra = f'\nsecret_file = "{secret_file}"' if secret_file else ""
    text_ = text_.replace('data_dir = "~/.local/share/hall-kiosk"', f'data_dir = "{tmp / "data"}"{extra}')
    text_ = text_.replace('id = "DEMO-HALL-01"', f'id = "{kiosk_id}"', 1)
    p = tmp / "kiosk.toml"
    p.write_text(text_ + f'\n[storage]\nurl = "{db_url}"\n', encoding="utf-8")
    return p


def _secret(cfg: Config) -> bytes:
    app = App(cfg)
    try:
        return app.secret
    finally:
        app.close()


def test_a_second_kiosk_with_its_own_secret_is_refused(
    tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("KIOSK_SECRET_FILE", raising=False)
    a = init_kiosk(_config(tmp_path / "a", db_url, "KIOSK-A"))
    b = init_kiosk(_config(tmp_path / "b", db_url, "KIOSK-B"))
    key_a = _secret(a)  # the first kiosk on the database records the fingerprint
    (b.data_dir / "secret.key").unlink(missing_ok=True)
    # No secret at all on B: refused, and none is made (its hashes would match nothing here).
    r = subprocess.run(
        [sys.executable, "-m", "hallkiosk.cli", "--config", b.source, "cabinet", "status"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        env={k: v for k, v in os.environ.items() if k != "KIOSK_SECRET_FILE"},
    )
    assert r.returncode == SecretMismatch.exit_code == 16, r.stderr
    assert "Traceback" not in r.stderr
    err = [ln for ln in r.stderr.splitlines() if ln.startswith(("error:", "hint:"))]
    assert (
        err[0]
        == f"error: {b.data_dir / 'secret.key'}: no hall secret, but this database's rows were made with "
        f"secret {fingerprint(key_a)[:12]}"
    )
    assert f"(kiosk KIOSK-A: {a.data_dir / 'secret.key'}) to {b.data_dir / 'secret.key'}" in err[1]
    assert not (b.data_dir / "secret.key").exists()
    # Its own, different secret: refused naming both fingerprints.
    (b.data_dir / "secret.key").write_bytes(b"b" * 32)
    (b.data_dir / "secret.key").chmod(0o600)
    with pytest.raises(SecretMismatch, match=rf"secret {fingerprint(b'b' * 32)[:12]} is not the hall's"):
        _secret(b)
    # The hall's secret copied over: B starts and shares A's key.
    shutil.copy(a.data_dir / "secret.key", b.data_dir / "secret.key")
    assert _secret(b) == key_a


def test_a_shared_secret_file_in_the_config(
    tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """kiosk.secret_file: both kiosks read one file, so a code deposited at A hashes the same at B."""
    monkeypatch.delenv("KIOSK_SECRET_FILE", raising=False)
    hall = tmp_path / "hall-secret.key"
    a = init_kiosk(_config(tmp_path / "a", db_url, "KIOSK-A", str(hall)))
    b = init_kiosk(_config(tmp_path / "b", db_url, "KIOSK-B", str(hall)))
    assert a.secret_path == b.secret_path == hall
    from kiosk.cabinet import Cabinet
    from kiosk.cabinet.codes import code_hmac

    app = App(a)
    try:
        cab = Cabinet(
            app.db,
            app.buses,
            app.cfg.cabinets,
            app.cfg.pickup,
            app.clock,
            app.secret,
            a.kiosk.id,
            close_poll_interval_s=0.02,
        )
        cab.start()
        h = cab.start_deposit(
            "LS202600000009",
            actor="staff:test",
            size="S",
            applicant=Identity(id_number="11010519491231002X", name="张三", card_kind="resident_id"),
        )
        sim = app.sims.boards[a.cabinets[0].id]
        cc = next(c for c in a.cabinets[0].compartments if c.label == h.label)
        sim.put_item(cc.board, cc.channel)
        sim.close_door(cc.board, cc.channel)
        code = cab.wait_closed(h, 10).code
    finally:
        app.close()
    assert code
    assert code_hmac(_secret(b), code) == code_hmac(_secret(a), code)
    assert load_config(a.source).secret_path.stat().st_mode & 0o077 == 0


def test_secret_show(cfg: Config, capsys: pytest.CaptureFixture[str]) -> None:
    from hallkiosk.cli import main

    assert main(["--config", cfg.source, "secret", "show"]) == 0
    out = capsys.readouterr().out
    key = cfg.secret_path.read_bytes()
    assert f"(fingerprint {fingerprint(key)})" in out and "same secret" in out
    assert key.hex() not in out
