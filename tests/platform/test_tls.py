"""Real TLS end to end: the production client and `kiosk diag` against the simulator serving HTTPS.

A throwaway CA made here issues the simulator's certificates (good, expired, for
another host, expiring soon) beside one self-signed certificate no bundle holds.
Each refusal must say what was wrong, name platform.ca_file in its hint, and
happen before a byte of the request is sent.
"""

from __future__ import annotations

import datetime as dt
import inspect
import ipaddress
import json
import logging
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests.certs
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from backend_client import build_platform
from backend_client.client import PlatformClient
from backend_client.sim import DEMO_KIOSK_ID, DEMO_PASSWORD, DEMO_USERNAME, PlatformSim
from kiosk.config import PlatformConfig
from kiosk.errors import ConfigError, PlatformUnavailable
from tests.support.cli import run_cli
from tests.support.config import write_config

REPO = Path(__file__).resolve().parents[2]
NOW = dt.datetime.now(dt.UTC)
DAY = dt.timedelta(days=1)
PW_ENV = "KIOSK_TLS_TEST_PASSWORD"


# --- a throwaway PKI ------------------------------------------------------------------
def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _cert(
    subject: str,
    key: ec.EllipticCurvePrivateKey,
    issuer: tuple[x509.Certificate, ec.EllipticCurvePrivateKey] | None,
    *,
    ca: bool,
    names: list[x509.GeneralName] | None = None,
    not_before: dt.datetime = NOW - DAY,
    not_after: dt.datetime = NOW + 365 * DAY,
) -> x509.Certificate:
    issuer_name, issuer_key = (issuer[0].subject, issuer[1]) if issuer else (_name(subject), key)
    b = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), critical=False
        )
    )
    if ca:
        b = b.add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    if names:
        b = b.add_extension(x509.SubjectAlternativeName(names), critical=False)
    return b.sign(issuer_key, hashes.SHA256())


@dataclass(frozen=True)
class Pki:
    ca: str  # the CA's PEM: what platform.ca_file would name
    good: tuple[str, str]  # (cert chain, key) for 127.0.0.1 and localhost
    expired: tuple[str, str]
    other_host: tuple[str, str]  # valid, but for platform.example.test only
    self_signed: tuple[str, str]  # for 127.0.0.1, issued by itself: in no bundle
    expiring: tuple[str, str]  # for 127.0.0.1, expires in 10 days


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    d = tmp_path_factory.mktemp("pki")
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = _cert("Test Provincial Government CA", ca_key, None, ca=True)
    (d / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    local = [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]

    def leaf(
        name: str, names: list[x509.GeneralName], *, self_signed: bool = False, **validity: dt.datetime
    ) -> tuple[str, str]:
        key = ec.generate_private_key(ec.SECP256R1())
        cert = _cert(name, key, None if self_signed else (ca, ca_key), ca=False, names=names, **validity)
        (d / f"{name}.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        (d / f"{name}.key").write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        return str(d / f"{name}.crt"), str(d / f"{name}.key")

    return Pki(
        ca=str(d / "ca.pem"),
        good=leaf("good", local),
        expired=leaf("expired", local, not_before=NOW - 30 * DAY, not_after=NOW - DAY),
        other_host=leaf("other", [x509.DNSName("platform.example.test")]),
        self_signed=leaf("selfsigned", local, self_signed=True),
        expiring=leaf("expiring", local, not_after=NOW + 10 * DAY + dt.timedelta(hours=1)),
    )


@pytest.fixture
def https_sim(pki: Pki) -> Iterator[PlatformSim]:
    sim = PlatformSim(tls_cert=pki.good[0], tls_key=pki.good[1]).start()
    yield sim
    sim.stop()


def serve(cert: tuple[str, str]) -> PlatformSim:
    return PlatformSim(tls_cert=cert[0], tls_key=cert[1]).start()


def client(url: str, ca_file: str | None = None) -> PlatformClient:
    return PlatformClient(
        url, DEMO_USERNAME, DEMO_PASSWORD, DEMO_KIOSK_ID, timeout_s=3, connect_timeout_s=3, ca_file=ca_file
    )


def refused_in_handshake(sim: PlatformSim) -> list[str]:
    """The sim's failed handshakes (waited for: the server side notices the client's alert a moment later)."""
    deadline = time.monotonic() + 3
    while not sim.tls_failures() and time.monotonic() < deadline:
        time.sleep(0.02)
    return sim.tls_failures()


# --- the client ------------------------------------------------------------------------
def test_heartbeat_over_https_with_the_ca_file(https_sim: PlatformSim, pki: Pki) -> None:
    assert https_sim.url.startswith("https://127.0.0.1:")
    with client(https_sim.url, pki.ca) as c:
        assert c.heartbeat("1.0", []).catalog_version
        assert c.history()[-1].outcome == "ok"
    assert https_sim.count("Heartbeat", "ok") == 1 and https_sim.tls_failures() == []


def test_without_the_ca_file_the_certificate_is_not_trusted_and_nothing_is_sent(
    https_sim: PlatformSim,
) -> None:
    with client(https_sim.url) as c, pytest.raises(PlatformUnavailable) as info:
        c.heartbeat("1.0", [])
    err = info.value
    assert "Heartbeat: the platform's TLS certificate for 127.0.0.1 is not trusted" in err.message
    assert "unable to get local issuer certificate" in err.message and "nothing was sent" in err.message
    assert "platform.ca_file" in err.hint and "never turn certificate verification off" in err.hint
    assert https_sim.requests() == []  # refused in the handshake: no SOAP request reached the server
    assert refused_in_handshake(https_sim)  # ...but the client did connect: this is not "platform down"


@pytest.mark.parametrize(
    ("which", "words", "hint_words"),
    [
        (
            "expired",
            "the platform's TLS certificate for 127.0.0.1 has expired (certificate has expired)",
            "renew",
        ),
        (
            "other_host",
            "the platform's TLS certificate does not name 127.0.0.1: hostname mismatch (IP address mismatch",
            "platform.endpoint",
        ),
        (
            "self_signed",
            "the platform's TLS certificate for 127.0.0.1 is not trusted (self-signed certificate)",
            "does not hold the CA that issued the platform's certificate",
        ),
    ],
    ids=["expired", "other-host", "self-signed-not-in-bundle"],
)
def test_each_refusal_says_what_is_wrong(pki: Pki, which: str, words: str, hint_words: str) -> None:
    sim = serve(getattr(pki, which))
    try:
        with client(sim.url, pki.ca) as c, pytest.raises(PlatformUnavailable) as info:
            c.heartbeat("1.0", [])
        assert words in info.value.message, info.value.message
        assert "platform.ca_file" in info.value.hint and hint_words in info.value.hint
        assert c.history()[-1].outcome == "unavailable:SSLError"
        assert sim.requests() == []
        assert refused_in_handshake(sim)
    finally:
        sim.stop()


def test_a_refusal_is_logged_once_not_on_every_retry(
    https_sim: PlatformSim, pki: Pki, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="backend_client.client")
    with client(https_sim.url) as c:
        for _ in range(3):
            with pytest.raises(PlatformUnavailable):
                c.heartbeat("1.0", [])
    warnings = [r for r in caplog.records if "certificate refused" in r.getMessage()]
    assert len(warnings) == 1 and "platform.ca_file" in warnings[0].getMessage()


def test_ca_bundle_environment_variables_cannot_replace_the_ca_file(
    https_sim: PlatformSim, pki: Pki, monkeypatch: pytest.MonkeyPatch
) -> None:
    # requests would let these override session.verify; the client's configured trust must win both ways.
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", requests.certs.where())
    with client(https_sim.url, pki.ca) as c:
        assert c.heartbeat("1.0", []).catalog_version
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", pki.ca)
    monkeypatch.setenv("CURL_CA_BUNDLE", pki.ca)
    with client(https_sim.url) as c, pytest.raises(PlatformUnavailable, match="not trusted"):
        c.heartbeat("1.0", [])


def test_verification_cannot_be_switched_off(tmp_path: Path) -> None:
    assert "verify_tls" not in inspect.signature(PlatformClient).parameters
    with pytest.raises(TypeError):
        PlatformClient("https://127.0.0.1:1/x", "u", "p", "DEMO-HALL-01", verify_tls=False)  # type: ignore[call-arg]
    with pytest.raises(ConfigError, match=r"platform\.ca_file: .* is not a readable file"):
        PlatformClient(
            "https://127.0.0.1:1/x", "u", "p", "DEMO-HALL-01", ca_file=str(tmp_path / "missing.pem")
        )


def test_build_platform_passes_ca_file(https_sim: PlatformSim, pki: Pki) -> None:
    cfg = PlatformConfig(endpoint=https_sim.url, username=DEMO_USERNAME, ca_file=pki.ca)
    p = build_platform(cfg, kiosk_id=DEMO_KIOSK_ID, password=DEMO_PASSWORD).part
    try:
        assert p.heartbeat("1.0", []).catalog_version
    finally:
        p.close()  # type: ignore[attr-defined]


# --- the configuration -------------------------------------------------------------------
@pytest.mark.parametrize(
    "endpoint",
    [
        "http://127.0.0.1:8088/zwfw/kiosk/v1",
        "http://localhost:8088/x",
        "http://10.20.0.5/x",
        "http://192.168.1.9:80/x",
        "http://172.16.0.1/x",
        "http://[::1]:8088/x",
        "https://zwfw.example.gov.cn/zwfw/kiosk/v1",
        "https://8.8.8.8/x",
        "sim",
    ],
)
def test_endpoints_the_platform_rules_allow(endpoint: str) -> None:
    assert PlatformConfig(endpoint=endpoint).endpoint == endpoint


@pytest.mark.parametrize(
    "endpoint", ["http://zwfw.example.gov.cn/x", "http://8.8.8.8/x", "http://platform.lan/x"]
)
def test_plain_http_elsewhere_is_refused(endpoint: str) -> None:
    with pytest.raises(
        ValueError, match=r"plain HTTP only for a test endpoint on a private address \(platform rules\)"
    ):
        PlatformConfig(endpoint=endpoint)


def test_ca_file_must_be_a_pem_certificate(tmp_path: Path, pki: Pki) -> None:
    assert PlatformConfig(ca_file=pki.ca).ca_file == pki.ca
    key_only = tmp_path / "key.pem"
    key_only.write_bytes(Path(pki.good[1]).read_bytes())
    with pytest.raises(ValueError, match="holds no PEM certificate"):
        PlatformConfig(ca_file=str(key_only))
    with pytest.raises(ValueError, match="must be an absolute path"):
        PlatformConfig(ca_file="ca.pem")


# --- the simulator's command line ------------------------------------------------------
def test_kiosk_sim_platform_serves_https(pki: Pki) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO), "KIOSK_PLATFORM_PASSWORD": ""}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "hallkiosk.cli",
            "sim",
            "platform",
            "--port",
            "0",
            "--tls-cert",
            pki.good[0],
            "--tls-key",
            pki.good[1],
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=REPO,
    )
    try:
        first = proc.stdout.readline()  # type: ignore[union-attr]
        assert first.startswith("platform simulator on https://127.0.0.1:"), first + proc.stderr.read()  # type: ignore[union-attr]
        with client(first.split()[3], pki.ca) as c:
            assert c.heartbeat("1.0", []).catalog_version
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    bad = run_cli(
        None,
        "sim",
        "platform",
        "--port",
        "0",
        "--tls-cert",
        pki.good[0],
        "--tls-key",
        pki.expired[1],
        own_process=True,
        env=env,
    )
    assert bad.code == 2 and "cannot serve HTTPS with --tls-cert" in bad.err


# --- kiosk diag ---------------------------------------------------------------------------
def _diag(tmp_path: Path, url: str, ca_file: str | None) -> tuple[int, dict]:
    cfg = write_config(
        tmp_path,
        kiosk={"id": DEMO_KIOSK_ID},
        platform={
            "endpoint": url,
            "username": DEMO_USERNAME,
            "password_env": PW_ENV,
            "ca_file": ca_file,
            "timeout_s": 3,
            "connect_timeout_s": 3,
        },
        printer={"kind": "none"},
    )
    r = run_cli(cfg, "diag", "--json", "--only", "platform")
    return r.code, {c["id"]: c for c in json.loads(r.out)["checks"]}


@pytest.fixture
def diag_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PW_ENV, DEMO_PASSWORD)
    # The command line would add a stderr handler to this test's captured stream (as tests/diag does).
    monkeypatch.setattr("kiosk.logsetup._done", True)


@pytest.mark.usefixtures("diag_env")
def test_diag_names_the_certificate_and_ca_file(https_sim: PlatformSim, pki: Pki, tmp_path: Path) -> None:
    code, checks = _diag(tmp_path, https_sim.url, None)
    tls = checks["platform.tls"]
    assert code == 2 and tls["status"] == "FAULT"
    assert "the platform's TLS certificate for 127.0.0.1 is not trusted" in tls["finding"]
    assert "platform.ca_file" in tls["hint"]
    assert checks["platform.tcp"]["status"] == "OK"  # the network is fine: the certificate is the fault
    assert checks["platform.soap"]["finding"] == "not tried: TLS certificate refused"
    assert https_sim.requests() == []

    code, checks = _diag(tmp_path, https_sim.url, pki.ca)
    assert (
        checks["platform.tls"]["status"] == "OK"
        and "certificate valid for 36" in checks["platform.tls"]["finding"]
    )
    assert checks["platform.soap"]["status"] == "OK" and https_sim.count("Heartbeat", "ok") == 1


@pytest.mark.usefixtures("diag_env")
def test_diag_warns_of_a_certificate_about_to_expire(pki: Pki, tmp_path: Path) -> None:
    sim = serve(pki.expiring)
    try:
        _, checks = _diag(tmp_path, sim.url, pki.ca)
    finally:
        sim.stop()
    tls = checks["platform.tls"]
    assert tls["status"] == "DEGRADED" and "the platform's certificate expires in 10 days" in tls["finding"]
    assert checks["platform.soap"]["status"] == "OK"  # still usable: only a warning
