"""Every failure the platform or the network can produce, mapped to the right error."""

from __future__ import annotations

import time
import uuid

import pytest
import requests
import zeep.exceptions

from backend_client.client import InvalidReply, PlatformClient
from backend_client.sim import DEMO_APPLICANT, FAULT_CODES, PlatformSim
from kiosk.errors import PlatformAuthFailed, PlatformRejected, PlatformUnavailable


def _hb(client: PlatformClient) -> object:
    return client.heartbeat("1", [])


@pytest.mark.parametrize(
    ("arm", "cause"),
    [
        (lambda f: f.reset(), requests.ConnectionError),
        (lambda f: f.reset(after_processing=True), requests.ConnectionError),
        (lambda f: f.http500(), zeep.exceptions.TransportError),  # nginx-style HTML page
        (lambda f: f.http500(status=503, empty=True), zeep.exceptions.TransportError),
        (lambda f: f.http500(status=502, empty=True), zeep.exceptions.TransportError),
        (lambda f: f.garbage(), zeep.exceptions.TransportError),
        (lambda f: f.invalid_reply(), InvalidReply),  # well-formed but not what the WSDL says
        (lambda f: f.slow(3.0), requests.Timeout),
    ],
    ids=[
        "reset",
        "reset-after-work",
        "html500",
        "empty503",
        "empty502",
        "garbage",
        "schema-invalid",
        "timeout",
    ],
)
def test_transport_failures_are_unavailable(client: PlatformClient, sim: PlatformSim, arm, cause) -> None:
    arm(sim.faults)
    t0 = time.monotonic()
    with pytest.raises(PlatformUnavailable) as exc:
        _hb(client)
    assert isinstance(exc.value.__cause__, cause)  # wrapped with `raise ... from err`
    assert time.monotonic() - t0 < 2.5  # the 1 s read timeout, not the 3 s delay
    assert isinstance(exc.value, ConnectionError)  # callers that only know the built-in still catch it
    _hb(client)  # the fault was for one call only; the same client recovers


def test_refused_connection_is_unavailable(client: PlatformClient, sim: PlatformSim) -> None:
    sim.stop()
    with pytest.raises(PlatformUnavailable) as exc:
        _hb(client)
    assert isinstance(exc.value.__cause__, requests.ConnectionError)


def test_silent_server_times_out_on_connect_or_read() -> None:
    import socket

    # A listening socket that never accepts: the connect completes in the backlog, the read never does.
    with socket.socket() as srv:
        srv.bind(("127.0.0.1", 0))
        srv.listen(1)
        port = srv.getsockname()[1]
        c = PlatformClient(
            f"http://127.0.0.1:{port}/x", "u", "p", "DEMO-HALL-01", timeout_s=0.3, connect_timeout_s=0.3
        )
        t0 = time.monotonic()
        with pytest.raises(PlatformUnavailable):
            c.heartbeat("1", [])
        assert time.monotonic() - t0 < 2


EXPECTED = {
    "AUTH_FAILED": PlatformAuthFailed,
    "INVALID_FIELD": PlatformRejected,
    "UNKNOWN_MATTER": PlatformRejected,
    "UNKNOWN_CASE": PlatformRejected,
    "CONFLICT": PlatformRejected,
    "RATE_LIMITED": PlatformUnavailable,
    "MAINTENANCE": PlatformUnavailable,
    "INTERNAL": PlatformUnavailable,
    "UNKNOWN_BUNDLE": PlatformRejected,
    "UNKNOWN_TICKET": PlatformRejected,
    "UNKNOWN_EVALUATION": PlatformRejected,
    "NOT_ELIGIBLE": PlatformRejected,
}


@pytest.mark.parametrize("code", FAULT_CODES)
def test_each_platform_fault_code(client: PlatformClient, sim: PlatformSim, code: str) -> None:
    assert set(EXPECTED) == set(FAULT_CODES)
    retry = 45 if code in ("RATE_LIMITED", "MAINTENANCE") else None
    sim.faults.platform_fault(code, field="purpose" if code == "INVALID_FIELD" else None, retry_after_s=retry)
    with pytest.raises(EXPECTED[code]) as exc:
        client.submit_application(
            str(uuid.uuid4()), DEMO_APPLICANT, "GA-HUKOU-CERT", {"purpose": "就业", "copies": "1"}, "LOCKER"
        )
    err = exc.value
    assert type(err) is EXPECTED[code]
    assert isinstance(err.__cause__, zeep.exceptions.Fault)
    assert err.retry_after_s == retry
    if isinstance(err, PlatformRejected):
        assert err.code == code
        assert err.field == ("purpose" if code == "INVALID_FIELD" else None)
    else:
        assert code in err.message
    assert sim.backoffice.count_cases(kiosk_id=client.kiosk_id) == 0  # an injected fault does nothing


def test_fault_for_one_operation_and_n_calls(client: PlatformClient, sim: PlatformSim) -> None:
    sim.faults.platform_fault("MAINTENANCE", times=2, operation="Heartbeat", retry_after_s=600)
    client.get_matter_catalog()  # other operations are not affected
    for _ in range(2):
        with pytest.raises(PlatformUnavailable) as exc:
            _hb(client)
        assert exc.value.retry_after_s == 600
    _hb(client)
    assert sim.count("Heartbeat", "fault:MAINTENANCE") == 2 and sim.count("Heartbeat", "ok") == 1


def test_fault_until_cleared(client: PlatformClient, sim: PlatformSim) -> None:
    sim.faults.http500(times=None)
    for _ in range(3):
        with pytest.raises(PlatformUnavailable):
            _hb(client)
    sim.faults.clear()
    _hb(client)


def test_unknown_fault_code_is_refused_by_the_switch(sim: PlatformSim) -> None:
    with pytest.raises(ValueError):
        sim.faults.platform_fault("TEAPOT")
