"""Every operation, production client against the simulator over HTTP."""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from decimal import Decimal

import pytest

from backend_client.client import PlatformClient
from backend_client.sim import DEMO_APPLICANT, DEMO_APPLICANT_2, DEMO_KIOSK_ID, PlatformSim
from kiosk.errors import PlatformRejected
from kiosk.identity import validate_id_number
from kiosk.platform_models import (
    Ack,
    CaseSummary,
    Catalog,
    DeliveryTicket,
    DeviceHealth,
    Evaluation,
    HeartbeatResult,
    SubmitResult,
)
from kiosk.ports import Platform

NOW = dt.datetime.now(dt.UTC)


def _rid() -> str:
    return str(uuid.uuid4())


def _no_zeep(value: object) -> None:
    """Walk a result: only the project's dataclasses and plain Python values, never a zeep object."""
    assert "zeep" not in type(value).__module__, type(value)
    if dataclasses.is_dataclass(value):
        for f in dataclasses.fields(value):
            _no_zeep(getattr(value, f.name))
    elif isinstance(value, (list, tuple)):
        for v in value:
            _no_zeep(v)


def _submit(client: PlatformClient, applicant=DEMO_APPLICANT, mode: str = "LOCKER") -> SubmitResult:
    return client.submit_application(
        _rid(), applicant, "GA-HUKOU-CERT", {"purpose": "就业", "copies": "2"}, mode
    )


def test_client_implements_the_port(client: PlatformClient) -> None:
    assert isinstance(client, Platform)


def test_demo_applicants_have_valid_id_numbers() -> None:
    for a in (DEMO_APPLICANT, DEMO_APPLICANT_2):
        assert validate_id_number(a.id_number) == a.id_number


def test_catalog(client: PlatformClient, sim: PlatformSim) -> None:
    cat = client.get_matter_catalog()
    _no_zeep(cat)
    assert isinstance(cat, Catalog) and cat.version == sim.backoffice.catalog_version
    assert 4 <= len(cat.matters) <= 20 and cat.bundles  # the v1.1 demo catalog: matters and 一件事 bundles
    hukou = next(m for m in cat.matters if m.code == "GA-HUKOU-CERT")
    assert hukou.name == "户籍证明开具" and hukou.name_en == "Household Registration Certificate"
    assert "LOCKER" in hukou.delivery_modes and hukou.fee == Decimal("0.00")
    purpose = next(f for f in hukou.fields if f.key == "purpose")
    assert (
        purpose.type == "CHOICE" and purpose.choices == ("入学", "就业", "出国", "其他") and purpose.required
    )
    copies = next(f for f in hukou.fields if f.key == "copies")
    assert copies.pattern == "[1-5]" and copies.max_length == 1


def test_submit_query_ticket_deliver_notify_evaluate(client: PlatformClient, sim: PlatformSim) -> None:
    res = _submit(client)
    _no_zeep(res)
    assert res.status == "RECEIVED" and res.promised_date is not None and res.accepted_at.tzinfo is not None
    assert sim.backoffice.case(res.case_number).kiosk_id == DEMO_KIOSK_ID

    mine = client.query_cases(applicant_id_number=DEMO_APPLICANT.id_number)
    assert mine[0].case_number == res.case_number  # newest first
    assert all(isinstance(c, CaseSummary) for c in mine) and len(mine) == 6  # 5 seeded + this one
    one = client.query_cases(case_number=res.case_number)
    assert [c.status for c in one] == ["RECEIVED"]

    with pytest.raises(PlatformRejected) as exc:  # not finished yet: no ticket
        client.get_delivery_ticket(res.case_number)
    assert exc.value.code == "UNKNOWN_CASE"

    sim.backoffice.approve(res.case_number)
    ticket = client.get_delivery_ticket(res.case_number)
    assert (
        isinstance(ticket, DeliveryTicket)
        and ticket.status == "APPROVED"
        and ticket.delivery_mode == "LOCKER"
    )
    assert (
        ticket.applicant.id_number == DEMO_APPLICANT.id_number
        and ticket.applicant.name == DEMO_APPLICANT.name
    )

    ack = client.report_delivery(_rid(), res.case_number, "DEPOSITED", "CAB-01", "A07", NOW)
    assert isinstance(ack, Ack) and ack.accepted
    assert sim.backoffice.case(res.case_number).status == "READY_FOR_PICKUP"

    ack = client.notify_applicant(
        _rid(),
        res.case_number,
        "PICKUP_READY",
        {"cabinet": "CAB-01", "code": "493817", "expires": "2026-12-02"},
    )
    assert ack.accepted
    assert (
        sim.backoffice.sms[-1].params["code"] == "493817"
        and sim.backoffice.sms[-1].phone == DEMO_APPLICANT.phone
    )

    client.report_delivery(_rid(), res.case_number, "PICKED_UP", "CAB-01", "A07", NOW)
    assert client.query_cases(case_number=res.case_number)[0].status == "DELIVERED"

    eid = client.submit_evaluation(
        _rid(), Evaluation(rating=2, case_number=res.case_number, reasons=("等待时间长",))
    )
    assert isinstance(eid, str) and sim.backoffice.evaluations[-1]["id"] == eid
    assert sim.backoffice.evaluations[-1]["reasons"] == ["等待时间长"]


def test_heartbeat(client: PlatformClient, sim: PlatformSim) -> None:
    before = dt.datetime.now(dt.UTC)
    hb = client.heartbeat(
        "1.2.3", [DeviceHealth("lockboard CAB-01", "OK"), DeviceHealth("printer", "FAULT", "paper out")]
    )
    assert isinstance(hb, HeartbeatResult) and hb.catalog_version == sim.backoffice.catalog_version
    assert abs((hb.server_time - before).total_seconds()) < 5
    seen = sim.backoffice.heartbeats[DEMO_KIOSK_ID]
    assert seen["software_version"] == "1.2.3" and ("printer", "FAULT", "paper out") in seen["devices"]


def test_heartbeat_reports_a_new_catalog_version(client: PlatformClient, sim: PlatformSim) -> None:
    v1 = client.heartbeat("1", []).catalog_version
    sim.backoffice.withdraw_matter("GJJ-DEPOSIT-CERT")
    v2 = client.heartbeat("1", []).catalog_version
    assert v1 != v2 and client.get_matter_catalog().version == v2
    with pytest.raises(PlatformRejected) as exc:
        client.submit_application(
            _rid(), DEMO_APPLICANT, "GJJ-DEPOSIT-CERT", {"account": "123456789012"}, "LOCKER"
        )
    assert exc.value.code == "UNKNOWN_MATTER"


def test_refused_case(client: PlatformClient) -> None:
    # Under 1.1 an under-60 applicant is NOT_ELIGIBLE for the senior card (tests/platform/test_v11_rules.py); a
    # refusal at once is the reissue for changed details, which needs the window.
    res = client.submit_application(
        _rid(), DEMO_APPLICANT, "RS-SSC-REISSUE", {"reason": "信息变更", "phone": "13912345678"}, "LOCKER"
    )
    assert res.status == "REFUSED" and res.promised_date is None and "窗口" in (res.message or "")


@pytest.mark.parametrize(
    ("matter", "fields", "mode", "field"),
    [
        ("GA-HUKOU-CERT", {"purpose": "旅游", "copies": "1"}, "LOCKER", "purpose"),  # not a choice
        ("GA-HUKOU-CERT", {"purpose": "就业", "copies": "9"}, "LOCKER", "copies"),  # pattern
        ("GA-HUKOU-CERT", {"copies": "1"}, "LOCKER", "purpose"),  # required
        ("GA-HUKOU-CERT", {"purpose": "就业", "copies": "1"}, "MAIL", "deliveryMode"),  # mode not offered
        ("MZ-ELDER-CARD", {"phone": "13912345678", "address": "路" * 81}, "LOCKER", "address"),  # maxLength
        ("MZ-ELDER-CARD", {"phone": "1391234567x"}, "LOCKER", "phone"),
        ("MZ-ELDER-CARD", {"phone": "13912345678", "shoe": "42"}, "LOCKER", "shoe"),  # unknown field
    ],
)
def test_invalid_field_names_the_field(
    client: PlatformClient, sim: PlatformSim, matter, fields, mode, field
) -> None:
    n = sim.backoffice.count_cases()
    with pytest.raises(PlatformRejected) as exc:
        client.submit_application(_rid(), DEMO_APPLICANT, matter, fields, mode)
    assert (exc.value.code, exc.value.field) == ("INVALID_FIELD", field)
    assert sim.backoffice.count_cases() == n


def test_bad_id_check_digit_is_invalid(client: PlatformClient) -> None:
    wrong = dataclasses.replace(DEMO_APPLICANT, id_number=DEMO_APPLICANT.id_number[:-1] + "9")
    with pytest.raises(PlatformRejected) as exc:
        _submit(client, wrong)
    assert exc.value.field == "idNumber" and wrong.id_number not in str(exc.value)


def test_unknown_case(client: PlatformClient) -> None:
    for call in (
        lambda: client.query_cases(case_number="ZW20000101999999"),
        lambda: client.report_delivery(_rid(), "ZW20000101999999", "DEPOSITED", "CAB-01", "A01", NOW),
        lambda: client.notify_applicant(_rid(), "ZW20000101999999", "DROPOFF_RECEIVED", {}),
    ):
        with pytest.raises(PlatformRejected) as exc:
            call()
        assert exc.value.code == "UNKNOWN_CASE"


def test_query_needs_exactly_one_key(client: PlatformClient) -> None:
    with pytest.raises(ValueError):
        client.query_cases()
    with pytest.raises(ValueError):
        client.query_cases(case_number="ZW20000101999999", applicant_id_number=DEMO_APPLICANT.id_number)


def test_deposit_needs_an_approved_case(client: PlatformClient) -> None:
    res = _submit(client)
    with pytest.raises(PlatformRejected) as exc:
        client.report_delivery(_rid(), res.case_number, "DEPOSITED", "CAB-01", "A01", NOW)
    assert (exc.value.code, exc.value.field) == ("INVALID_FIELD", "event")
