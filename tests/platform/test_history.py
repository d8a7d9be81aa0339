"""The exchange history: bounded, and never the password, a token, a full ID number, a name or a pickup code."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from backend_client.client import PlatformClient
from backend_client.history import redact
from backend_client.sim import DEMO_APPLICANT, DEMO_PASSWORD, PlatformSim
from backend_client.wsdl import NS, SOAP_ENV, WSSE
from kiosk.errors import PlatformRejected
from kiosk.identity import check_digit

CODE = "582039"


def _everything(records) -> str:
    return "\n".join(f"{r.request_xml}\n{r.reply_xml}\n{r.outcome}\n{r.extra}" for r in records)


def _secrets_absent(text: str, sent: list[bytes]) -> None:
    assert DEMO_PASSWORD not in text
    assert (
        DEMO_APPLICANT.id_number not in text
        and DEMO_APPLICANT.name not in text
        and DEMO_APPLICANT.phone not in text
    )
    assert CODE not in text
    for body in sent:  # nothing of any token that went on the wire
        tok = etree.fromstring(body).find(f".//{{{WSSE}}}UsernameToken")
        for el in tok:
            if el.tag.endswith(("}Password", "}Nonce")):
                assert el.text.strip() not in text


def test_history_is_redacted(client: PlatformClient, sim: PlatformSim, sent: list[bytes]) -> None:
    res = client.submit_application(
        str(uuid.uuid4()),
        DEMO_APPLICANT,
        "MZ-ELDER-CARD",
        {"phone": DEMO_APPLICANT.phone, "address": "北京市朝阳区某路1号"},
        "LOCKER",
    )
    client.query_cases(applicant_id_number=DEMO_APPLICANT.id_number)
    sim.backoffice.approve(res.case_number)
    client.get_delivery_ticket(res.case_number)  # the reply carries the full applicant
    client.notify_applicant(
        str(uuid.uuid4()),
        res.case_number,
        "PICKUP_READY",
        {"cabinet": "CAB-01", "code": CODE, "expires": "2026-12-02"},
    )
    with pytest.raises(PlatformRejected):  # a failing call is recorded too
        client.submit_application(
            str(uuid.uuid4()), DEMO_APPLICANT, "MZ-ELDER-CARD", {"phone": "x"}, "LOCKER"
        )
    records = client.history()
    assert [r.operation for r in records] == [
        "SubmitApplication",
        "QueryCases",
        "GetDeliveryTicket",
        "NotifyApplicant",
        "SubmitApplication",
    ]
    assert [r.outcome for r in records][-1] == "rejected:INVALID_FIELD" and records[0].outcome == "ok"
    assert all(r.request_id and r.duration_ms > 0 for r in records)
    text = _everything(records)
    _secrets_absent(text, sent)
    assert "110105********1232" in text  # masked, still useful for diagnosis
    assert "北京市朝阳区" not in text  # form values are personal too
    assert res.case_number in text


def test_history_is_bounded(sim: PlatformSim) -> None:
    from backend_client.sim import DEMO_KIOSK_ID, DEMO_USERNAME

    with PlatformClient(sim.url, DEMO_USERNAME, DEMO_PASSWORD, DEMO_KIOSK_ID, history_size=3) as c:
        for _ in range(5):
            c.heartbeat("1", [])
        assert len(c.history()) == 3


def test_history_is_bounded_by_characters_too() -> None:
    """Long replies (a case list near its 50 cases) must not let 50 records grow to megabytes: the ring drops its
    oldest records past its character budget, and always keeps the newest."""
    from backend_client.history import ExchangeHistory

    def exchange(ring: ExchangeHistory, n: int, chars: int) -> None:
        rec = ring.begin(f"Op{n}", None, dt.datetime.now(dt.UTC))
        rec.request_xml = "<q/>"
        rec.reply_xml = "案" * (chars - 4)  # what ingress() would have kept
        ring.finish(rec, "ok", 1.0)

    ring = ExchangeHistory(maxlen=50, max_chars=10_000)
    for n in range(10):
        exchange(ring, n, 1_000)
    assert len(ring.records()) == 10 and ring.size_chars() == 10_000  # within both bounds: all kept
    for n in range(10, 14):
        exchange(ring, n, 3_000)
    assert [r.operation for r in ring.records()] == ["Op11", "Op12", "Op13"]  # 9,000 chars: the oldest went
    assert ring.size_chars() == 9_000
    exchange(ring, 14, 25_000)  # one record over the budget on its own is still kept, alone
    assert [r.operation for r in ring.records()] == ["Op14"] and ring.size_chars() == 25_000
    counted = ExchangeHistory(maxlen=3, max_chars=10_000)
    for n in range(5):
        exchange(counted, n, 100)
    assert [r.operation for r in counted.records()] == ["Op2", "Op3", "Op4"] and counted.size_chars() == 300


def _id_numbers() -> st.SearchStrategy[str]:
    def build(area: int, born: dt.date, seq: int) -> str:
        first = f"{area:06d}{born:%Y%m%d}{seq:03d}"
        return first + check_digit(first)

    return st.builds(
        build,
        st.integers(110000, 659999),
        st.dates(dt.date(1900, 1, 1), dt.date(2025, 12, 31)),
        st.integers(0, 999),
    )


@settings(max_examples=60, deadline=None)
@given(
    idn=_id_numbers(),
    name=st.text(min_size=2, max_size=6, alphabet="张王李赵刘陈杨黄周吴"),
    code=st.from_regex(r"[0-9]{6,10}", fullmatch=True),
)
def test_redact_never_keeps_an_id_number_name_or_code(idn: str, name: str, code: str) -> None:
    E = f"{{{NS}}}"
    env = etree.Element(f"{{{SOAP_ENV}}}Envelope")
    body = etree.SubElement(env, f"{{{SOAP_ENV}}}Body")
    op = etree.SubElement(body, f"{E}GetDeliveryTicketResponse")
    app = etree.SubElement(op, f"{E}applicant")
    etree.SubElement(app, f"{E}idNumber").text = idn
    etree.SubElement(app, f"{E}name").text = name
    etree.SubElement(op, f"{E}comment").text = f"free text mentioning {idn} by accident"
    param = etree.SubElement(op, f"{E}param")
    etree.SubElement(param, f"{E}key").text = "code"
    etree.SubElement(param, f"{E}value").text = code
    before = etree.tostring(env)
    text = redact(env)
    assert idn not in text and idn.lower() not in text and name not in text and code not in text
    assert etree.tostring(env) == before  # the envelope that goes on the wire is untouched
