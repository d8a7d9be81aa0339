"""Helpers for the interface 1.1 tests: made-up people with valid GB 11643 numbers, clients in either version."""

from __future__ import annotations

import datetime as dt
import uuid

from lxml import etree

from backend_client.client import PlatformClient
from backend_client.sim import DEMO_KIOSK_ID, DEMO_PASSWORD, DEMO_USERNAME, PlatformSim
from backend_client.wsdl import NS, SOAP_ENV
from kiosk.clock import Clock
from kiosk.identity import check_digit
from kiosk.platform_models import Applicant, MailAddress

ADDRESS = MailAddress(
    recipient="张三",
    phone="13800138000",
    province="湖南省",
    city="株洲市",
    district="芦淞区",
    street="建设南路街道",
    detail="建设南路8号3栋2单元501",
    postcode="412000",
)


def rid() -> str:
    return str(uuid.uuid4())


def id_number(born: dt.date, region: str = "430203", seq: str = "123") -> str:
    """A fictitious resident ID number born on ``born``, its check digit right."""
    first17 = f"{region}{born:%Y%m%d}{seq}"
    return first17 + check_digit(first17)


def person(
    born: dt.date,
    *,
    id_type: str = "RESIDENT_ID",
    name: str = "王五",
    phone: str | None = "13900139000",
    number: str | None = None,
) -> Applicant:
    return Applicant(id_type, number or id_number(born), name, phone)  # type: ignore[arg-type]


def client_for(
    sim: PlatformSim,
    version: str = "1.1",
    *,
    clock: Clock | None = None,
    kiosk_id: str = DEMO_KIOSK_ID,
    username: str = DEMO_USERNAME,
    password: str = DEMO_PASSWORD,
) -> PlatformClient:
    return PlatformClient(
        sim.url,
        username,
        password,
        kiosk_id,
        timeout_s=5,
        connect_timeout_s=2,
        clock=clock,
        interface_version=version,
    )  # type: ignore[arg-type]


def capture(client: PlatformClient) -> list[tuple[bytes, bytes]]:
    """(request body, reply body) of every exchange the client makes from now on."""
    seen: list[tuple[bytes, bytes]] = []
    client._session.hooks["response"].append(lambda r, *a, **k: seen.append((r.request.body, r.content)))
    return seen


def payload(body: bytes) -> etree._Element:
    """The element inside a SOAP body."""
    return etree.fromstring(body).find(f"{{{SOAP_ENV}}}Body")[0]


def header_version(body: bytes) -> str | None:
    return payload(body).findtext(f"{{{NS}}}header/{{{NS}}}interfaceVersion")
