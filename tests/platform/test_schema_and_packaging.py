"""Server-side schema validation, the packaged WSDL, no network at construction, build_platform."""

from __future__ import annotations

import socket
import uuid
from pathlib import Path

import pytest
import requests

from backend_client import build_platform
from backend_client.client import PlatformClient
from backend_client.sim import DEMO_APPLICANT, DEMO_KIOSK_ID, DEMO_PASSWORD, DEMO_USERNAME, PlatformSim
from backend_client.wsdl import WSDL_PATH, wsdl_bytes
from kiosk.config import PlatformConfig
from kiosk.errors import ConfigError, PlatformRejected, PlatformUnavailable
from kiosk.platform_models import Applicant, Evaluation

SPEC_WSDL = Path(__file__).resolve().parents[2] / "docs" / "spec" / "platform" / "kiosk-platform.wsdl"


def test_invalid_request_is_rejected_by_the_server_schema(client: PlatformClient, sim: PlatformSim) -> None:
    with pytest.raises(PlatformRejected) as exc:
        client.query_cases(case_number="zw-lower-case")  # breaks the CaseNumber pattern
    assert (exc.value.code, exc.value.field) == ("INVALID_FIELD", "caseNumber")
    with pytest.raises(PlatformRejected) as exc:
        client.submit_evaluation(str(uuid.uuid4()), Evaluation(rating=9, matter_code="GA-HUKOU-CERT"))
    assert exc.value.field == "rating"
    with pytest.raises(PlatformRejected) as exc:
        client.submit_application(
            "NOT-A-UUID", DEMO_APPLICANT, "GA-HUKOU-CERT", {"purpose": "就业", "copies": "1"}, "LOCKER"
        )
    assert exc.value.field == "header.requestId"  # 1.1 names schema errors by their dotted path
    assert sim.backoffice.evaluations == [] and sim.count(outcome="ok") == 0


def test_schema_error_never_echoes_an_id_number(client: PlatformClient) -> None:
    with pytest.raises(PlatformRejected) as exc:  # an ID number where a case number belongs
        client.query_cases(case_number=DEMO_APPLICANT.id_number + "Q")
    assert DEMO_APPLICANT.id_number not in str(exc.value)


def test_request_zeep_cannot_build_is_rejected_locally(client: PlatformClient, sim: PlatformSim) -> None:
    nameless = Applicant(id_type="RESIDENT_ID", id_number=DEMO_APPLICANT.id_number, name=None)  # type: ignore[arg-type]
    with pytest.raises(PlatformRejected) as exc:  # zeep refuses a missing required element before sending
        client.submit_application(str(uuid.uuid4()), nameless, "GA-HUKOU-CERT", {}, "LOCKER")
    assert exc.value.code == "INVALID_FIELD" and "not sent" in exc.value.platform_message
    assert sim.count() == 0
    assert client.history()[-1].outcome == "rejected:INVALID_FIELD"


def test_not_a_soap_request(sim: PlatformSim) -> None:
    r = requests.post(sim.url, data=b"<hello/>", timeout=5)
    assert r.status_code == 500 and b"INVALID_FIELD" in r.content


def test_packaged_wsdl_is_the_shipped_one() -> None:
    assert WSDL_PATH.parent.name == "backend_client"
    assert wsdl_bytes() == SPEC_WSDL.read_bytes()


def test_sim_serves_the_wsdl(sim: PlatformSim) -> None:
    r = requests.get(sim.url + "?wsdl", timeout=5)
    assert r.status_code == 200
    assert r.content == wsdl_bytes().replace(b"https://platform.invalid/zwfw/kiosk/v1", sim.url.encode())


def test_client_is_built_without_any_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_network(*a: object, **k: object) -> None:
        raise AssertionError("network used while building the client")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(requests.Session, "get", no_network)
    c = PlatformClient("https://platform.example.invalid/zwfw/kiosk/v1", "u", "p", "DEMO-HALL-01")
    monkeypatch.undo()
    with pytest.raises(PlatformUnavailable):  # the address came from the argument, not from the WSDL
        c.heartbeat("1", [])
    assert "example.invalid" in c.history()[-1].extra["error"]


def test_build_platform_sim(caplog: pytest.LogCaptureFixture) -> None:
    cfg = PlatformConfig(endpoint="sim", username="kiosk-demo")
    built = build_platform(cfg, kiosk_id="DEMO-HALL-01", password=None)
    p = built.part
    try:
        assert p.simulated is True and isinstance(built.sim, PlatformSim)
        assert any(r.levelname == "WARNING" and "SIMULATED" in r.getMessage() for r in caplog.records)
        assert p.heartbeat("1", []).catalog_version
    finally:
        p.close()
    with pytest.raises(requests.ConnectionError):  # close() stopped the simulator
        requests.get(built.sim.url + "?wsdl", timeout=2)


def test_build_platform_sim_with_configured_password() -> None:
    built = build_platform(
        PlatformConfig(endpoint="sim", username="hall-7"), kiosk_id="HALL-07", password="s3cret!"
    )
    p = built.part
    try:
        assert p.heartbeat("1", []).catalog_version
        assert built.sim is not None and built.sim.tokens.users["hall-7"].password == "s3cret!"
    finally:
        p.close()


def test_build_platform_real_endpoint() -> None:
    cfg = PlatformConfig(endpoint="https://platform.example.invalid/zwfw/kiosk/v1", username="k")
    with pytest.raises(ConfigError) as exc:
        build_platform(cfg, kiosk_id="DEMO-HALL-01", password=None)
    assert "platform.password_env" in str(exc.value) and "password_file" in str(exc.value)
    built = build_platform(cfg, kiosk_id="DEMO-HALL-01", password="pw")
    p = built.part
    assert (
        built.sim is None and p.simulated is False and isinstance(p, PlatformClient) and "pw" not in repr(p)
    )
    p.close()


def test_client_against_sim_with_own_users() -> None:
    with PlatformSim(users={"hall-3": ("pw3", ["HALL-03", "HALL-03B"])}, seed_demo=False) as sim:
        assert sim.backoffice.count_cases() == 0
        for kiosk in ("HALL-03", "HALL-03B"):
            with PlatformClient(sim.url, "hall-3", "pw3", kiosk) as c:
                c.heartbeat("1", [])
        with PlatformClient(sim.url, DEMO_USERNAME, DEMO_PASSWORD, DEMO_KIOSK_ID) as c:
            with pytest.raises(PlatformRejected):
                c.heartbeat("1", [])
