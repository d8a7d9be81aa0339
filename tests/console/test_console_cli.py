"""``kiosk console`` and ``kiosk console user ...`` as a hall PC runs them; TLS; the sign-in throttle; texts."""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from hallkiosk.console.i18n import TEXTS
from hallkiosk.console.security import PERMISSIONS, LoginThrottle
from kiosk.cabinet_hall import GRID_STATES
from kiosk.staff import ROLES
from tests.console.conftest import login
from tests.console.hall import REPO, console_config, start_console


def kiosk(cfg: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hallkiosk.cli", "-c", str(cfg), *args],
        input=stdin,
        text=True,
        capture_output=True,
        cwd=REPO,
        timeout=60,
    )


@pytest.fixture
def cfg(tmp_path: Path) -> Path:
    return console_config(tmp_path, f"sqlite:///{tmp_path / 'hall.db'}")


def test_user_commands(cfg: Path) -> None:
    r = kiosk(
        cfg,
        "console",
        "user",
        "add",
        "S0042",
        "--name",
        "欧阳晓峰",
        "--role",
        "staff",
        "--role",
        "technician",
        "--password-stdin",
        stdin="long-enough-pw\n",
    )
    assert r.returncode == 0 and "欧**峰" in r.stdout and "欧阳晓峰" not in r.stdout, r.stderr
    r = kiosk(cfg, "console", "user", "add", "S0042", "--name", "x", "--role", "staff", "--no-password")
    assert (
        r.returncode == 2
        and r.stderr.startswith("error: staff id 'S0042' is already")
        and "Traceback" not in r.stderr
    )
    r = kiosk(
        cfg,
        "console",
        "user",
        "add",
        "S2",
        "--name",
        "x",
        "--role",
        "staff",
        "--password-stdin",
        stdin="short\n",
    )
    assert r.returncode == 2 and "at least 10 characters" in r.stderr
    r = kiosk(cfg, "console", "user", "badge", "S0042", "0a0b0c0d")
    assert r.returncode == 0 and "****0C0D" in r.stdout
    r = kiosk(cfg, "console", "user", "badge", "S0042", "not-a-uid")
    assert r.returncode == 2 and "hexadecimal" in r.stderr
    assert (
        kiosk(
            cfg, "console", "user", "passwd", "S0042", "--password-stdin", stdin="another-long-pw\n"
        ).returncode
        == 0
    )
    assert kiosk(cfg, "console", "user", "disable", "S0042").returncode == 0
    r = kiosk(cfg, "console", "user", "list")
    assert (
        "S0042" in r.stdout
        and "disabled" in r.stdout
        and "****0C0D" in r.stdout
        and "0A0B0C0D" not in r.stdout
    )
    assert kiosk(cfg, "console", "user", "enable", "S0042").returncode == 0
    r = kiosk(cfg, "console", "user", "passwd", "NOBODY", "--password-stdin", stdin="another-long-pw\n")
    assert r.returncode == 2 and "no staff member 'NOBODY'" in r.stderr


def test_demo_account_only_on_the_simulators(tmp_path: Path, cfg: Path, browser: Any) -> None:
    real = console_config(tmp_path / "real", f"sqlite:///{tmp_path / 'real.db'}")
    real.write_text(
        real.read_text(encoding="utf-8").replace('endpoint = "sim"', 'endpoint = "https://10.1.2.3/ws"'),
        encoding="utf-8",
    )
    r = kiosk(real, "console", "--demo", "--port", "0")
    assert r.returncode == 3 and "only on the built-in simulators" in r.stderr
    proc, url, lines = start_console(cfg, "--demo")
    ctx = browser.new_context()
    try:
        assert "staff id demo, password " in lines[-1]
        assert any("plain HTTP on 127.0.0.1 only" in x for x in lines)
        page = ctx.new_page()
        login(page, SimpleNamespace(url=url), "demo", lines[-1].rsplit(" ", 1)[1])
        assert page.url.endswith("/kiosks")
    finally:
        ctx.close()
        proc.terminate()
        proc.wait(10)


def test_a_network_address_needs_a_certificate(tmp_path: Path) -> None:
    cfg = console_config(tmp_path, f"sqlite:///{tmp_path / 'h.db'}", console={"host": "0.0.0.0"}, init=False)
    r = kiosk(cfg, "console", "user", "list")
    assert r.returncode == 3 and "console.host" in r.stderr and "tls_cert" in r.stderr


def _self_signed(tmp: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "hall console test")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False
        )
        .sign(key, hashes.SHA256())
    )
    c, k = tmp / "console.pem", tmp / "console.key"
    c.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    k.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    k.chmod(0o600)
    return c, k


@pytest.mark.slow
def test_https_with_a_configured_certificate(tmp_path: Path, browser: Any) -> None:
    cert, key = _self_signed(tmp_path)
    cfg = console_config(
        tmp_path / "tls", f"sqlite:///{tmp_path / 'h.db'}", console={"tls_cert": cert, "tls_key": key}
    )
    r = kiosk(
        cfg,
        "console",
        "user",
        "add",
        "A1",
        "--name",
        "王五",
        "--role",
        "hall_admin",
        "--password-stdin",
        stdin="long-enough-pw\n",
    )
    assert r.returncode == 0, r.stderr
    proc, url, lines = start_console(cfg)
    ctx = browser.new_context(ignore_https_errors=True)
    try:
        assert url.startswith("https://127.0.0.1:") and not any("plain HTTP" in x for x in lines)
        page = ctx.new_page()
        resp = page.goto(url + "/login")
        assert resp.headers["strict-transport-security"].startswith("max-age=")
        login(page, SimpleNamespace(url=url), "A1", "long-enough-pw")
        assert page.url.endswith("/kiosks")
        names = {c["name"]: c for c in ctx.cookies()}
        assert names["__Host-hk_session"]["secure"] and names["__Host-hk_session"]["httpOnly"]
    finally:
        ctx.close()
        proc.terminate()
        proc.wait(10)


def test_login_throttle_per_address() -> None:
    now = [0.0]
    t = LoginThrottle(3, clock=lambda: now[0])
    assert [t.allow("a") for _ in range(4)] == [True, True, True, False]
    assert t.allow("b")
    now[0] = 61
    assert t.allow("a")


def test_every_text_in_both_languages_and_every_permission_names_real_roles() -> None:
    for key, (zh, en) in TEXTS.items():
        assert zh.strip() and en.strip(), key
        assert sorted(re.findall(r"{(\w+)}", zh)) == sorted(re.findall(r"{(\w+)}", en)), key
    for perm, roles in PERMISSIONS.items():
        assert roles <= set(ROLES), perm
    templates = Path(__file__).resolve().parents[2] / "hallkiosk" / "console" / "templates"
    used = {m for f in templates.glob("*.html") for m in re.findall(r"t\('([a-z_.]+)'", f.read_text("utf-8"))}
    # Dynamic keys ('cab.' ~ state, 'role.' ~ role) are built from these tables:
    used = (
        {k for k in used if not k.endswith(".")}
        | {f"cab.{s}" for s in GRID_STATES}
        | {f"role.{r}" for r in ROLES}
    )
    assert used - set(TEXTS) == set()


def test_every_parcel_kind_and_state_has_words_in_both_languages() -> None:
    from hallkiosk.console.i18n import parcel_state
    from kiosk.cabinet import states as S

    kinds = (S.RESULT, S.DROPOFF)
    states = (
        S.DEPOSITING,
        S.READY,
        S.PICKING,
        S.PICKED_UP,
        S.RETURNED,
        S.DROPPING,
        S.DROPPED_OFF,
        S.COLLECTING,
        S.COLLECTED,
        S.ATTENTION,
        S.CANCELLED,
    )  # every parcel state of kiosk.cabinet.states
    assert [s for s in states if f"pstate.{s}" not in TEXTS] == []
    assert parcel_state(S.RESULT, S.READY, "zh") == "办理结果 · 待领取"
    assert parcel_state(S.RESULT, S.READY, "en") == "Result · ready for its owner"
    for k in kinds:
        assert f"pkind.{k}" in TEXTS
    assert parcel_state("result", "unheard_of", "en") == "Result · unheard_of"  # never a blank cell
