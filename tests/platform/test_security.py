"""WS-Security UsernameToken: digest, fresh nonce per attempt, Created window, replay, kiosk ownership."""

from __future__ import annotations

import datetime as dt

import pytest
import requests
from lxml import etree

from backend_client.client import PlatformClient
from backend_client.sim import DEMO_KIOSK_ID, DEMO_PASSWORD, DEMO_USERNAME, PlatformSim
from backend_client.wsdl import NS, PASSWORD_DIGEST, SOAP_ENV, WSSE, WSU
from kiosk.clock import FakeClock
from kiosk.errors import PlatformAuthFailed


def _token(body: bytes) -> etree._Element:
    return etree.fromstring(body).find(f"{{{SOAP_ENV}}}Header/{{{WSSE}}}Security/{{{WSSE}}}UsernameToken")


def test_digest_token_with_fresh_nonce_per_attempt(
    client: PlatformClient, sim: PlatformSim, sent: list[bytes]
) -> None:
    client.heartbeat("1", [])
    client.heartbeat("1", [])
    tokens = [_token(b) for b in sent]
    assert all(t.find(f"{{{WSSE}}}Password").get("Type") == PASSWORD_DIGEST for t in tokens)
    nonces = {t.findtext(f"{{{WSSE}}}Nonce") for t in tokens}
    assert len(nonces) == 2
    assert all(t.findtext(f"{{{WSU}}}Created").endswith("Z") for t in tokens)
    assert all(DEMO_PASSWORD.encode() not in b for b in sent)
    assert sim.count("Heartbeat", "ok") == 2


def test_body_header_carries_kiosk_request_and_time(client: PlatformClient, sent: list[bytes]) -> None:
    client.get_matter_catalog()
    client.get_matter_catalog()
    headers = [etree.fromstring(b).find(f".//{{{NS}}}header") for b in sent]
    assert all(h.findtext(f"{{{NS}}}kioskId") == DEMO_KIOSK_ID for h in headers)
    rids = [h.findtext(f"{{{NS}}}requestId") for h in headers]
    assert rids[0] != rids[1]  # a read generates its own requestId per call
    assert all(h.findtext(f"{{{NS}}}sentAt") for h in headers)


def test_wrong_password_is_auth_failed(sim: PlatformSim) -> None:
    with PlatformClient(sim.url, DEMO_USERNAME, "not-the-password", DEMO_KIOSK_ID) as c:
        with pytest.raises(PlatformAuthFailed) as exc:
            c.heartbeat("1", [])
        rec = c.history()[-1]
    assert exc.value.code == "AUTH_FAILED" and "not-the-password" not in str(exc.value)
    assert rec.outcome == "rejected:AUTH_FAILED" and "not-the-password" not in repr(rec)
    assert sim.count("Heartbeat", "fault:AUTH_FAILED") == 1


def test_unknown_user_and_foreign_kiosk_are_auth_failed(sim: PlatformSim) -> None:
    for user, kiosk in (("someone-else", DEMO_KIOSK_ID), (DEMO_USERNAME, "OTHER-HALL-09")):
        with PlatformClient(sim.url, user, DEMO_PASSWORD, kiosk) as c, pytest.raises(PlatformAuthFailed):
            c.heartbeat("1", [])


def test_replayed_nonce_is_refused(client: PlatformClient, sim: PlatformSim, sent: list[bytes]) -> None:
    client.heartbeat("1", [])
    # Send the very same bytes again, as an eavesdropper would: same nonce, still inside the Created window.
    again = requests.post(
        sim.url, data=sent[0], headers={"Content-Type": "text/xml; charset=utf-8"}, timeout=5
    )
    assert again.status_code == 500
    assert b"AUTH_FAILED" in again.content and b"nonce replayed" in again.content


@pytest.mark.parametrize("offset_s", [-301, 301, -3600])
def test_created_outside_the_window_is_refused(sim: PlatformSim, offset_s: int) -> None:
    wrong = FakeClock(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=offset_s))
    with PlatformClient(sim.url, DEMO_USERNAME, DEMO_PASSWORD, DEMO_KIOSK_ID, clock=wrong) as c:
        with pytest.raises(PlatformAuthFailed) as exc:
            c.heartbeat("1", [])
    assert "Created" in exc.value.platform_message


def test_small_skew_is_accepted_and_visible(client: PlatformClient, sim: PlatformSim) -> None:
    sim.clock_offset_s = 120  # the platform's clock is 2 minutes ahead: still within 300 s
    hb = client.heartbeat("1", [])
    skew = (hb.server_time - dt.datetime.now(dt.UTC)).total_seconds()
    assert 115 < skew < 125
