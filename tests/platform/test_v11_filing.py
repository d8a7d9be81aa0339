"""Interface 1.1, filing: catalog guides, eligibility (ages in UTC+8, 29 February, id types), instant matters,
working days, MAIL, 帮办, case details; each rule with a request the simulator refuses."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal

import pytest

from backend_client.client import PlatformClient
from backend_client.sim import DEMO_APPLICANT, PlatformSim
from backend_client.sim.v10 import schema_v10
from kiosk.clock import FakeClock
from kiosk.errors import PlatformRejected
from kiosk.platform_models import Assistant, MailAddress

from .v11_support import ADDRESS, capture, client_for, header_version, payload, person, rid

HUKOU = ("GA-HUKOU-CERT", {"purpose": "就业", "copies": "1"})


def test_catalog_carries_guides_eligibility_instant_fee_notes_and_bundles(client: PlatformClient) -> None:
    cat = client.get_matter_catalog()
    elder = next(m for m in cat.matters if m.code == "MZ-ELDER-CARD")
    assert elder.eligibility is not None and elder.eligibility.min_age_years == 60
    assert elder.eligibility.id_types == ("RESIDENT_ID", "SOCIAL_SECURITY_CARD")
    assert elder.guide is not None and elder.guide.conditions and elder.guide.legal_basis
    photo = next(m for m in elder.guide.materials if "照片" in m.name)
    assert photo.copies == 2 and photo.original is True
    assert elder.fee == Decimal("0.00") and elder.fee_note == "免费"
    assert next(m for m in cat.matters if m.code == "GJJ-DEPOSIT-CERT").instant is True
    assert "MAIL" in next(m for m in cat.matters if m.code == "RS-SSC-REISSUE").delivery_modes
    newborn = next(b for b in cat.bundles if b.code == "YJS-NEWBORN")
    assert newborn.member_codes == ("WJ-BIRTH-CERT", "HK-006", "YB-NEWBORN-ENROL")
    assert [f.key for f in newborn.shared_fields] == ["babyName", "birthDate"]
    assert set(newborn.member_codes) <= {m.code for m in cat.matters}


def test_the_header_says_1_1_and_a_1_0_client_sends_none(sim: PlatformSim) -> None:
    with client_for(sim) as c11, client_for(sim, "1.0") as c10:
        seen11, seen10 = capture(c11), capture(c10)
        c11.heartbeat("1", [])
        c10.heartbeat("1", [])
    assert header_version(seen11[0][0]) == "1.1" and header_version(seen10[0][0]) is None


def test_a_1_0_request_gets_a_1_0_catalog(sim: PlatformSim) -> None:
    with client_for(sim, "1.0") as c:
        seen = capture(c)
        cat = c.get_matter_catalog()
    assert cat.bundles == () and all(
        m.guide is None and m.eligibility is None and not m.instant and m.fee_note is None
        for m in cat.matters
    )
    reply = payload(seen[0][1])
    assert schema_v10().validate(reply), schema_v10().error_log  # nothing a strict 1.0 parser would choke on
    assert b"bundle" not in seen[0][1] and b"guide" not in seen[0][1]


# --- eligibility -------------------------------------------------------------------------------------------------
@pytest.fixture
def fixed() -> Iterator[tuple[PlatformSim, FakeClock]]:
    """A simulator whose clock the test sets (the platform's date decides eligibility)."""
    clock = FakeClock(dt.datetime(2022, 2, 28, 3, 0, tzinfo=dt.UTC))
    s = PlatformSim(clock=clock, seed_demo=False).start()
    yield s, clock
    s.stop()


def _set(clock: FakeClock, when: dt.datetime) -> None:
    clock.advance((when - clock.now()).total_seconds())


def test_under_60_is_not_eligible_and_nothing_is_filed(client: PlatformClient, sim: PlatformSim) -> None:
    young = person(dt.date(1990, 5, 7))
    before = sim.backoffice.count_cases()
    with pytest.raises(PlatformRejected) as exc:
        client.submit_application(rid(), young, "MZ-ELDER-CARD", {"phone": "13900139000"}, "LOCKER")
    assert (exc.value.code, exc.value.field) == ("NOT_ELIGIBLE", "applicant")
    assert "60" in exc.value.platform_message and exc.value.citizen_key == "error.not_eligible"
    assert sim.backoffice.count_cases() == before


def test_a_1_0_kiosk_gets_invalid_field_applicant_instead(sim: PlatformSim) -> None:
    with client_for(sim, "1.0") as c, pytest.raises(PlatformRejected) as exc:
        c.submit_application(
            rid(), person(dt.date(1990, 5, 7)), "MZ-ELDER-CARD", {"phone": "13900139000"}, "LOCKER"
        )
    assert (exc.value.code, exc.value.field) == ("INVALID_FIELD", "applicant")


def test_id_type_not_listed_and_no_birth_date_are_not_eligible(client: PlatformClient) -> None:
    passport = person(dt.date(1950, 1, 1), id_type="PASSPORT", number="E12345678")
    with pytest.raises(PlatformRejected) as exc:  # the senior card lists its id types
        client.submit_application(rid(), passport, "MZ-ELDER-CARD", {"phone": "13900139000"}, "LOCKER")
    assert exc.value.code == "NOT_ELIGIBLE" and "PASSPORT" in exc.value.platform_message
    with pytest.raises(
        PlatformRejected
    ) as exc:  # any id type, but an age limit: a passport has no birth date
        client.submit_application(rid(), passport, "JY-JOBSEEK-REG", {"phone": "13900139000"}, "WINDOW")
    assert exc.value.code == "NOT_ELIGIBLE" and "出生日期" in exc.value.platform_message


def test_max_age_is_inclusive(client: PlatformClient) -> None:
    with pytest.raises(PlatformRejected) as exc:
        client.submit_application(rid(), DEMO_APPLICANT, "JY-JOBSEEK-REG", {"phone": "13900139000"}, "WINDOW")
    assert exc.value.code == "NOT_ELIGIBLE" and "60" in exc.value.platform_message


def test_age_in_completed_years_on_the_china_date(fixed: tuple[PlatformSim, FakeClock]) -> None:
    sim, clock = fixed
    # Born 1962-03-01: 60 on 2022-03-01. At 23:59 on 28 Feb China time (15:59 UTC) still 59; a minute past
    # midnight China time (16:01 UTC, still 28 Feb in UTC) 60: the platform's date is China's.
    someone = person(dt.date(1962, 3, 1))
    with client_for(sim, clock=clock) as c:
        _set(clock, dt.datetime(2022, 2, 28, 15, 59, tzinfo=dt.UTC))
        with pytest.raises(PlatformRejected) as exc:
            c.submit_application(rid(), someone, "MZ-ELDER-CARD", {"phone": "13900139000"}, "LOCKER")
        assert exc.value.code == "NOT_ELIGIBLE"
        _set(clock, dt.datetime(2022, 2, 28, 16, 1, tzinfo=dt.UTC))
        assert (
            c.submit_application(rid(), someone, "MZ-ELDER-CARD", {"phone": "13900139000"}, "LOCKER").status
            == "RECEIVED"
        )


def test_born_on_29_february_completes_the_year_on_1_march(fixed: tuple[PlatformSim, FakeClock]) -> None:
    sim, clock = fixed
    leapling = person(dt.date(1972, 2, 29))  # 50 in 2022, a common year: on 1 March, not 28 February
    fields = {"phone": "13900139000", "bankAccount": "6222020200112233445"}
    with client_for(sim, clock=clock) as c:
        _set(clock, dt.datetime(2022, 2, 28, 4, 0, tzinfo=dt.UTC))  # 12:00 on 28 Feb in China
        with pytest.raises(PlatformRejected) as exc:
            c.submit_application(rid(), leapling, "RS-RETIRE-CLAIM", fields, "WINDOW")
        assert exc.value.code == "NOT_ELIGIBLE" and "50" in exc.value.platform_message
        _set(clock, dt.datetime(2022, 2, 28, 16, 0, tzinfo=dt.UTC))  # 00:00 on 1 March in China
        assert c.submit_application(rid(), leapling, "RS-RETIRE-CLAIM", fields, "WINDOW").status == "RECEIVED"


# --- instant matters and working days ------------------------------------------------------------------------------
def test_instant_matter_is_approved_at_once(client: PlatformClient, sim: PlatformSim) -> None:
    res = client.submit_application(
        rid(), DEMO_APPLICANT, "GJJ-DEPOSIT-CERT", {"account": "123456789012"}, "LOCKER"
    )
    assert res.status == "APPROVED" and sim.backoffice.case(res.case_number).status == "APPROVED"


def test_instant_matter_answers_received_to_a_1_0_kiosk_and_is_approved_right_after(sim: PlatformSim) -> None:
    with client_for(sim, "1.0") as c:
        res = c.submit_application(
            rid(), DEMO_APPLICANT, "GJJ-DEPOSIT-CERT", {"account": "123456789012"}, "LOCKER"
        )
        assert res.status == "RECEIVED"
        assert c.query_cases(case_number=res.case_number)[0].status == "APPROVED"


def test_promised_date_counts_working_days(fixed: tuple[PlatformSim, FakeClock]) -> None:
    sim, clock = fixed
    with client_for(sim, clock=clock) as c:
        _set(clock, dt.datetime(2026, 11, 27, 2, 0, tzinfo=dt.UTC))  # Friday 10:00 in China
        res = c.submit_application(rid(), DEMO_APPLICANT, *HUKOU, "LOCKER")  # 3 working days
        assert res.promised_date == dt.date(2026, 12, 2)  # Mon, Tue, Wed
        sim.backoffice.holidays.add(dt.date(2026, 12, 1))
        res = c.submit_application(rid(), DEMO_APPLICANT, *HUKOU, "LOCKER")
        assert res.promised_date == dt.date(2026, 12, 3)  # a public holiday is no working day
        _set(clock, dt.datetime(2026, 11, 27, 17, 0, tzinfo=dt.UTC))  # already Saturday 01:00 in China
        res = c.submit_application(rid(), DEMO_APPLICANT, *HUKOU, "LOCKER")
        assert res.promised_date == dt.date(2026, 12, 3)


# --- MAIL ----------------------------------------------------------------------------------------------------------
REISSUE = ("RS-SSC-REISSUE", {"reason": "损坏", "phone": "13800138000"})


def test_mail_with_an_address_is_filed_and_kept(client: PlatformClient, sim: PlatformSim) -> None:
    res = client.submit_application(rid(), DEMO_APPLICANT, *REISSUE, "MAIL", mail_address=ADDRESS)
    assert res.status == "RECEIVED" and sim.backoffice.case(res.case_number).mail_address == ADDRESS


@pytest.mark.parametrize(
    ("mode", "address", "field"),
    [
        ("MAIL", None, "mailAddress"),  # MAIL needs an address
        ("LOCKER", ADDRESS, "mailAddress"),  # an address with another mode
        (
            "MAIL",
            ADDRESS.__class__(**{**ADDRESS.__dict__, "phone": "02888881234"}),
            "mailAddress.phone",
        ),  # not a mobile
        (
            "MAIL",
            ADDRESS.__class__(**{**ADDRESS.__dict__, "district": "   "}),
            "mailAddress.district",
        ),  # blank
        (
            "MAIL",
            ADDRESS.__class__(**{**ADDRESS.__dict__, "detail": "号" * 121}),
            "mailAddress.detail",
        ),  # > 120
        (
            "MAIL",
            ADDRESS.__class__(**{**ADDRESS.__dict__, "postcode": "41200"}),
            "mailAddress.postcode",
        ),  # 6 digits
        ("MAIL", ADDRESS.__class__(**{**ADDRESS.__dict__, "city": "市" * 41}), "mailAddress.city"),  # 1-40
    ],
)
def test_mail_rules(
    client: PlatformClient, sim: PlatformSim, mode: str, address: MailAddress | None, field: str
) -> None:
    before = sim.backoffice.count_cases()
    with pytest.raises(PlatformRejected) as exc:
        client.submit_application(rid(), DEMO_APPLICANT, *REISSUE, mode, mail_address=address)  # type: ignore[arg-type]
    assert (exc.value.code, exc.value.field) == ("INVALID_FIELD", field)
    assert sim.backoffice.count_cases() == before


def test_mail_without_an_address_is_accepted_from_a_1_0_kiosk(sim: PlatformSim) -> None:
    with client_for(sim, "1.0") as c:
        assert c.submit_application(rid(), DEMO_APPLICANT, *REISSUE, "MAIL").status == "RECEIVED"


# --- 帮办代办 --------------------------------------------------------------------------------------------------------
def test_assisted_filing_is_recorded(client: PlatformClient, sim: PlatformSim) -> None:
    helper = Assistant("DEMO-STAFF-01", "ON_SITE", False)
    res = client.submit_application(rid(), DEMO_APPLICANT, *HUKOU, "LOCKER", assisted_by=helper)
    case = sim.backoffice.case(res.case_number)
    assert case.assisted_by == helper and case.applicant.id_number == DEMO_APPLICANT.id_number
    proxy = Assistant("DEMO-STAFF-01", "PROXY", True)
    assert (
        client.submit_application(rid(), DEMO_APPLICANT, *HUKOU, "LOCKER", assisted_by=proxy).status
        == "RECEIVED"
    )


@pytest.mark.parametrize(
    ("helper", "field"),
    [
        (Assistant("DEMO-STAFF-01", "PROXY", False), "assistedBy.consentRecorded"),
        (Assistant("工号1", "ON_SITE", True), "assistedBy.staffId"),
    ],
)
def test_assistance_rules(client: PlatformClient, sim: PlatformSim, helper: Assistant, field: str) -> None:
    before = sim.backoffice.count_cases()
    with pytest.raises(PlatformRejected) as exc:
        client.submit_application(rid(), DEMO_APPLICANT, *HUKOU, "LOCKER", assisted_by=helper)
    assert (exc.value.code, exc.value.field) == ("INVALID_FIELD", field)
    assert sim.backoffice.count_cases() == before


# --- case details ----------------------------------------------------------------------------------------------------
def test_case_details(client: PlatformClient, sim: PlatformSim) -> None:
    by_matter = {
        c.matter_code + ":" + c.status: c
        for c in client.query_cases(applicant_id_number=DEMO_APPLICANT.id_number)
    }
    more = by_matter["MZ-ELDER-CARD:NEED_MORE_MATERIAL"]
    assert more.reason and "照片" in more.reason and more.next_step and more.delivery_mode == "LOCKER"
    mailed = next(c for c in by_matter.values() if c.delivery_mode == "MAIL")
    assert (mailed.courier, mailed.waybill_number) == ("EMS", "1190512345678")
    ready = by_matter["GA-HUKOU-CERT:APPROVED"]
    assert ready.reason is None and "智能柜" in (ready.next_step or "")
    res = client.submit_application(
        rid(), DEMO_APPLICANT, "RS-SSC-REISSUE", {"reason": "信息变更", "phone": "13800138000"}, "WINDOW"
    )
    refused = client.query_cases(case_number=res.case_number)[0]
    assert refused.status == "REFUSED" and "户口簿" in (refused.reason or "") and refused.next_step


def test_a_1_0_kiosk_gets_no_case_details(sim: PlatformSim) -> None:
    with client_for(sim, "1.0") as c:
        seen = capture(c)
        cases = c.query_cases(applicant_id_number=DEMO_APPLICANT.id_number)
    assert cases and all(
        x.reason is None and x.next_step is None and x.delivery_mode is None and x.courier is None
        for x in cases
    )
    assert schema_v10().validate(payload(seen[0][1]))


def test_history_keeps_no_address_ticket_text_or_phone(client: PlatformClient) -> None:
    from kiosk.platform_models import HotlineTicket

    client.submit_application(rid(), DEMO_APPLICANT, *REISSUE, "MAIL", mail_address=ADDRESS)
    client.submit_hotline_ticket(
        rid(), HotlineTicket("CONSULT", "13912345678", "请回电13700137000", applicant=DEMO_APPLICANT)
    )
    kept = " ".join(r.request_xml + r.reply_xml for r in client.history())
    for personal in (
        ADDRESS.detail,
        ADDRESS.street,
        "13912345678",
        "13700137000",
        "13800138000",
        ADDRESS.recipient,
        DEMO_APPLICANT.id_number,
    ):
        assert personal not in kept
    assert "芦淞区" in kept  # the district stays: it says where, not who
