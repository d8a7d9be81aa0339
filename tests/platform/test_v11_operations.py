"""Interface 1.1, the six new operations and the rest of its rules, each with a request the simulator refuses;
per-kiosk idempotency and credentials; the 1.0 client and a platform that has not upgraded."""

from __future__ import annotations

import datetime as dt

import pytest
import requests

from backend_client.client import PlatformClient
from backend_client.sim import DEMO_APPLICANT, DEMO_APPLICANT_2, PlatformSim
from kiosk.clock import FakeClock
from kiosk.errors import PlatformFeatureUnavailable, PlatformRejected
from kiosk.platform_models import Evaluation, HotlineTicket

from .v11_support import ADDRESS, capture, client_for, header_version, person, rid

NEWBORN = {
    "babyName": "王小宝",
    "birthDate": "2026-11-20",
    "WJ-BIRTH-CERT.hospital": "株洲市妇幼保健院",
    "HK-006.hukouAddress": "芦淞区建设南路8号",
    "YB-NEWBORN-ENROL.payer": "母亲",
}


# --- 一件事 bundles ----------------------------------------------------------------------------------------------------
def test_bundle_files_one_case_per_member_in_order(client: PlatformClient, sim: PlatformSim) -> None:
    res = client.submit_bundle(rid(), DEMO_APPLICANT, "YJS-NEWBORN", NEWBORN, "LOCKER")
    assert [c.matter_code for c in res.cases] == ["WJ-BIRTH-CERT", "HK-006", "YB-NEWBORN-ENROL"]
    assert len({c.case_number for c in res.cases}) == 3 and all(c.status == "RECEIVED" for c in res.cases)
    assert all(c.promised_date is not None for c in res.cases)
    hukou = sim.backoffice.case(res.cases[1].case_number)
    assert hukou.fields == {
        "babyName": "王小宝",
        "birthDate": "2026-11-20",
        "hukouAddress": "芦淞区建设南路8号",
    }
    assert hukou.bundle_number == res.bundle_number
    # Each member is an ordinary case.
    assert client.query_cases(case_number=res.cases[0].case_number)[0].matter_code == "WJ-BIRTH-CERT"


def test_a_member_key_takes_precedence_and_unknown_keys_are_ignored(
    client: PlatformClient, sim: PlatformSim
) -> None:
    fields = {**NEWBORN, "HK-006.babyName": "王宝宝", "nothing.here": "x", "shoe": "42"}
    res = client.submit_bundle(rid(), DEMO_APPLICANT, "YJS-NEWBORN", fields, "WINDOW")
    assert sim.backoffice.case(res.cases[1].case_number).fields["babyName"] == "王宝宝"
    assert sim.backoffice.case(res.cases[0].case_number).fields["babyName"] == "王小宝"


def test_an_instant_member_is_approved(client: PlatformClient) -> None:
    fields = {
        "phone": "13800138000",
        "bankAccount": "6222020200112233445",
        "GJJ-RETIRE-WITHDRAW.account": "123456789012",
    }
    res = client.submit_bundle(rid(), DEMO_APPLICANT, "YJS-RETIRE", fields, "WINDOW")
    assert [c.status for c in res.cases] == ["RECEIVED", "APPROVED"]


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({k: v for k, v in NEWBORN.items() if k != "babyName"}, "babyName"),  # a shared value missing
        ({**NEWBORN, "birthDate": "2026-13-40"}, "birthDate"),  # a shared value invalid
        (
            {k: v for k, v in NEWBORN.items() if k != "HK-006.hukouAddress"},
            "HK-006.hukouAddress",
        ),  # a member's missing
        ({**NEWBORN, "YB-NEWBORN-ENROL.payer": "爷爷"}, "YB-NEWBORN-ENROL.payer"),  # a member's invalid
        ({**NEWBORN, "HK-006.babyName": "名" * 21}, "HK-006.babyName"),  # a member's override invalid
    ],
)
def test_bundle_is_all_or_nothing_and_names_the_field(
    client: PlatformClient, sim: PlatformSim, fields: dict[str, str], field: str
) -> None:
    before = sim.backoffice.count_cases()
    with pytest.raises(PlatformRejected) as exc:
        client.submit_bundle(rid(), DEMO_APPLICANT, "YJS-NEWBORN", fields, "LOCKER")
    assert (exc.value.code, exc.value.field) == ("INVALID_FIELD", field)
    assert sim.backoffice.count_cases() == before and not sim.backoffice.bundle_filings


def test_bundle_faults(client: PlatformClient, sim: PlatformSim) -> None:
    before = sim.backoffice.count_cases()
    with pytest.raises(PlatformRejected) as exc:
        client.submit_bundle(rid(), DEMO_APPLICANT, "YJS-NOTHING", NEWBORN, "LOCKER")
    assert exc.value.code == "UNKNOWN_BUNDLE" and exc.value.citizen_key == "error.unknown_bundle"
    with pytest.raises(PlatformRejected) as exc:  # not a mode the bundle allows
        client.submit_bundle(rid(), DEMO_APPLICANT, "YJS-RETIRE", {}, "LOCKER")
    assert (exc.value.code, exc.value.field) == ("INVALID_FIELD", "deliveryMode")
    young = person(dt.date(1990, 5, 7))
    retire = {
        "phone": "13800138000",
        "bankAccount": "6222020200112233445",
        "GJJ-RETIRE-WITHDRAW.account": "123456789012",
    }
    with pytest.raises(PlatformRejected) as exc:  # any member's eligibility
        client.submit_bundle(rid(), young, "YJS-RETIRE", retire, "WINDOW")
    assert (exc.value.code, exc.value.field) == ("NOT_ELIGIBLE", "applicant")
    with pytest.raises(PlatformRejected) as exc:  # MAIL needs an address, for a bundle too
        client.submit_bundle(rid(), DEMO_APPLICANT, "YJS-NEWBORN", NEWBORN, "MAIL")
    assert (exc.value.code, exc.value.field) == ("INVALID_FIELD", "mailAddress")
    assert sim.backoffice.count_cases() == before
    sim.backoffice.withdraw_bundle("YJS-NEWBORN")
    with pytest.raises(PlatformRejected) as exc:
        client.submit_bundle(rid(), DEMO_APPLICANT, "YJS-NEWBORN", NEWBORN, "LOCKER")
    assert exc.value.code == "UNKNOWN_BUNDLE"


def test_bundle_mail_applies_to_every_member_and_a_retry_files_nothing_twice(
    client: PlatformClient, sim: PlatformSim
) -> None:
    r = rid()
    first = client.submit_bundle(r, DEMO_APPLICANT, "YJS-NEWBORN", NEWBORN, "MAIL", mail_address=ADDRESS)
    again = client.submit_bundle(r, DEMO_APPLICANT, "YJS-NEWBORN", NEWBORN, "MAIL", mail_address=ADDRESS)
    assert again == first and len(sim.backoffice.bundle_filings) == 1
    assert all(sim.backoffice.case(c.case_number).mail_address == ADDRESS for c in first.cases)


# --- 12345 tickets -----------------------------------------------------------------------------------------------------
def _ticket(**kw: object) -> HotlineTicket:
    base: dict[str, object] = {
        "kind": "COMPLAINT",
        "phone": "13800138000",
        "content": "窗口排队太久",
        "applicant": DEMO_APPLICANT,
    }
    return HotlineTicket(**{**base, **kw})  # type: ignore[arg-type]


def test_ticket_moves_received_assigned_replied_closed(client: PlatformClient, sim: PlatformSim) -> None:
    text = "我是张三，电话13800138000，身份证110105195803121232，办证等了两小时"
    got = client.submit_hotline_ticket(rid(), _ticket(content=text))
    assert got.promised_reply_days == 5 and 8 <= len(got.ticket_number) <= 32
    (t,) = client.query_tickets(ticket_number=got.ticket_number)
    assert t.status == "RECEIVED" and t.kind == "COMPLAINT" and t.reply is None
    # Returned masked of personal data: ID number, mobile, the applicant's name.
    assert "110105********1232" in t.content and "138****8000" in t.content and "张*" in t.content
    assert (
        DEMO_APPLICANT.id_number not in t.content
        and "13800138000" not in t.content
        and "张三" not in t.content
    )
    sim.backoffice.assign_ticket(got.ticket_number, "区行政审批服务局")
    assert client.query_tickets(ticket_number=got.ticket_number)[0].department == "区行政审批服务局"
    sim.backoffice.reply_ticket(got.ticket_number, "已增设窗口")
    (t,) = client.query_tickets(ticket_number=got.ticket_number)
    assert (t.status, t.reply) == ("REPLIED", "已增设窗口") and t.replied_at is not None
    sim.backoffice.close_ticket(got.ticket_number)
    assert client.query_tickets(applicant_id_number=DEMO_APPLICANT.id_number)[0].status == "CLOSED"


def test_tickets_move_by_themselves_on_the_test_endpoint() -> None:
    clock = FakeClock(dt.datetime.now(dt.UTC))
    with PlatformSim(clock=clock, auto_advance=True) as sim, client_for(sim, clock=clock) as c:
        n = c.submit_hotline_ticket(rid(), _ticket(kind="CONSULT")).ticket_number
        seen = []
        for _ in range(4):
            seen.append(c.query_tickets(ticket_number=n)[0].status)
            clock.advance(61)
        assert seen == ["RECEIVED", "ASSIGNED", "REPLIED", "CLOSED"]


def test_anonymous_ticket_is_followed_by_number_only(client: PlatformClient) -> None:
    n = client.submit_hotline_ticket(rid(), _ticket(applicant=None, kind="SUGGESTION")).ticket_number
    assert client.query_tickets(ticket_number=n)[0].kind == "SUGGESTION"
    assert n not in {
        t.ticket_number for t in client.query_tickets(applicant_id_number=DEMO_APPLICANT.id_number)
    }


@pytest.mark.parametrize(
    ("kw", "code", "field"),
    [
        ({"content": "   "}, "INVALID_FIELD", "content"),
        ({"content": "字" * 501}, "INVALID_FIELD", "content"),
        ({"phone": "0731-2888123"}, "INVALID_FIELD", "phone"),
        ({"case_number": "ZW20990101999999"}, "UNKNOWN_CASE", None),
        ({"matter_code": "NO-SUCH-MATTER"}, "UNKNOWN_MATTER", None),
    ],
)
def test_ticket_rules(
    client: PlatformClient, sim: PlatformSim, kw: dict[str, object], code: str, field: str | None
) -> None:
    with pytest.raises(PlatformRejected) as exc:
        client.submit_hotline_ticket(rid(), _ticket(**kw))
    assert (exc.value.code, exc.value.field) == (code, field)
    assert not sim.backoffice.tickets


def test_unknown_ticket(client: PlatformClient) -> None:
    with pytest.raises(PlatformRejected) as exc:
        client.query_tickets(ticket_number="RX2099010100001")
    assert exc.value.code == "UNKNOWN_TICKET" and exc.value.citizen_key == "error.unknown_ticket"


# --- 好差评 closed loop -------------------------------------------------------------------------------------------------
def test_bad_rating_closed_loop_with_the_supervised_second_round(
    client: PlatformClient, sim: PlatformSim
) -> None:
    case = sim.backoffice.cases_of(DEMO_APPLICANT.id_number)[0].number
    eid = client.submit_evaluation(
        rid(), Evaluation(1, case_number=case, reasons=("办理时间过长",), applicant=DEMO_APPLICANT)
    )
    (e,) = client.query_evaluations(DEMO_APPLICANT.id_number)
    assert (e.evaluation_id, e.status, e.rating, e.case_number) == (eid, "RECTIFYING", 1, case)
    first_department = e.department
    with pytest.raises(PlatformRejected) as exc:  # nothing to confirm yet
        client.confirm_evaluation_reply(rid(), eid, True)
    assert (exc.value.code, exc.value.field) == ("INVALID_FIELD", "evaluationId")
    sim.backoffice.reply_evaluation(eid)
    e = client.query_evaluations(DEMO_APPLICANT.id_number)[0]
    assert e.status == "REPLIED" and e.reply and e.replied_at is not None
    client.confirm_evaluation_reply(rid(), eid, False, "还是没解决")
    e = client.query_evaluations(DEMO_APPLICANT.id_number)[0]
    assert (
        e.status == "RECTIFYING"
        and e.department != first_department
        and "政务服务管理办公室" in (e.department or "")
    )
    sim.backoffice.reply_evaluation(eid)
    assert client.query_evaluations(DEMO_APPLICANT.id_number)[0].status == "REPLIED"
    client.confirm_evaluation_reply(rid(), eid, False)  # the second answer closes it, whatever it says
    assert client.query_evaluations(DEMO_APPLICANT.id_number)[0].status == "CONFIRMED"


def test_good_rating_is_recorded_and_a_satisfied_answer_confirms(
    client: PlatformClient, sim: PlatformSim
) -> None:
    good = client.submit_evaluation(
        rid(), Evaluation(5, matter_code="GA-HUKOU-CERT", applicant=DEMO_APPLICANT)
    )
    bad = client.submit_evaluation(
        rid(), Evaluation(2, matter_code="GA-HUKOU-CERT", reasons=("x",), applicant=DEMO_APPLICANT)
    )
    by_id = {e.evaluation_id: e for e in client.query_evaluations(DEMO_APPLICANT.id_number)}
    assert by_id[good].status == "RECORDED" and by_id[good].matter_name == "户籍证明开具"
    sim.backoffice.reply_evaluation(bad)
    client.confirm_evaluation_reply(rid(), bad, True)
    assert {e.evaluation_id: e.status for e in client.query_evaluations(DEMO_APPLICANT.id_number)}[
        bad
    ] == "CONFIRMED"


def test_anonymous_and_self_service_ratings(client: PlatformClient, sim: PlatformSim) -> None:
    eid = client.submit_evaluation(rid(), Evaluation(4))  # neither case nor matter: the self-service itself
    assert sim.backoffice.evaluation(eid)["matter_code"] is None
    assert client.query_evaluations(DEMO_APPLICANT.id_number) == []  # anonymous: never listed


def test_evaluation_rules(client: PlatformClient) -> None:
    with pytest.raises(PlatformRejected) as exc:
        client.submit_evaluation(rid(), Evaluation(1, matter_code="GA-HUKOU-CERT"))
    assert (exc.value.code, exc.value.field) == ("INVALID_FIELD", "reason")
    with pytest.raises(PlatformRejected) as exc:
        client.confirm_evaluation_reply(rid(), "EV-NOT-THERE", True)
    assert exc.value.code == "UNKNOWN_EVALUATION" and exc.value.citizen_key == "error.unknown_evaluation"


def test_bad_ratings_are_replied_to_by_themselves_on_the_test_endpoint() -> None:
    clock = FakeClock(dt.datetime.now(dt.UTC))
    with PlatformSim(clock=clock, auto_advance=True) as sim, client_for(sim, clock=clock) as c:
        c.submit_evaluation(rid(), Evaluation(2, reasons=("x",), applicant=DEMO_APPLICANT))
        assert c.query_evaluations(DEMO_APPLICANT.id_number)[0].status == "RECTIFYING"
        clock.advance(30)
        assert c.query_evaluations(DEMO_APPLICANT.id_number)[0].status == "REPLIED"


# --- RequestAssistance ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("utc", "kw", "mode", "hotline"),
    [
        (dt.datetime(2026, 11, 25, 2, 0), {"topic": "PICKUP"}, "ON_SITE", "0731-28881234"),  # Wed 10:00
        (dt.datetime(2026, 11, 25, 14, 0), {"topic": "PICKUP"}, "REMOTE_VIDEO", "12345"),  # Wed 22:00
        (dt.datetime(2026, 11, 29, 2, 0), {"topic": "OTHER"}, "REMOTE_VIDEO", "12345"),  # Sunday
        (
            dt.datetime(2026, 11, 25, 2, 0),
            {"topic": "OTHER", "language": "en"},
            "REMOTE_VIDEO",
            "0731-28881234",
        ),
        (
            dt.datetime(2026, 11, 25, 2, 0),
            {"topic": "FILING", "matter_code": "MZ-ELDER-CARD"},
            "PROXY",
            "0731-28881234",
        ),
    ],
)
def test_assistance_mode_by_hours_language_and_matter(
    utc: dt.datetime, kw: dict[str, str], mode: str, hotline: str
) -> None:
    clock = FakeClock(utc.replace(tzinfo=dt.UTC))
    with PlatformSim(clock=clock) as sim, client_for(sim, clock=clock) as c:
        topic = kw.pop("topic")
        got = c.request_assistance(topic, **kw)  # type: ignore[arg-type]
        assert (got.mode, got.hotline) == (mode, hotline) and got.message and got.expected_wait_minutes
        assert sim.backoffice.assists[-1]["id"] == got.assistance_id


def test_assistance_faults(client: PlatformClient) -> None:
    with pytest.raises(PlatformRejected) as exc:
        client.request_assistance("FILING", matter_code="NO-SUCH")
    assert exc.value.code == "UNKNOWN_MATTER"
    with pytest.raises(PlatformRejected) as exc:
        client.request_assistance("PICKUP", case_number="ZW20990101999999")
    assert exc.value.code == "UNKNOWN_CASE"


# --- notices -------------------------------------------------------------------------------------------------------
def _case(sim: PlatformSim) -> str:
    return sim.backoffice.create_case(DEMO_APPLICANT, "GA-HUKOU-CERT", status="READY_FOR_PICKUP").number


def test_code_resend_needs_every_param(client: PlatformClient, sim: PlatformSim) -> None:
    case = _case(sim)
    params = {"cabinet": "CAB-01 A03", "code": "204817", "expires": "2026-12-02 18:00"}
    assert client.notify_applicant(rid(), case, "PICKUP_CODE_RESEND", params).accepted
    assert sim.backoffice.sms[-1].template == "PICKUP_CODE_RESEND"
    for key in params:
        with pytest.raises(PlatformRejected) as exc:
            client.notify_applicant(
                rid(), case, "PICKUP_CODE_RESEND", {k: v for k, v in params.items() if k != key}
            )
        assert (exc.value.code, exc.value.field) == ("INVALID_FIELD", f"param.{key}")


def test_a_reminder_never_repeats_the_code(client: PlatformClient, sim: PlatformSim) -> None:
    case = _case(sim)
    client.notify_applicant(
        rid(), case, "PICKUP_REMINDER", {"cabinet": "CAB-01 A03", "expires": "2026-12-02 18:00"}
    )
    with pytest.raises(PlatformRejected) as exc:
        client.notify_applicant(
            rid(),
            case,
            "PICKUP_REMINDER",
            {"cabinet": "CAB-01 A03", "code": "204817", "expires": "2026-12-02 18:00"},
        )
    assert (exc.value.code, exc.value.field) == ("INVALID_FIELD", "param.code")


# --- per kiosk: idempotency and credentials ---------------------------------------------------------------------------
def test_request_ids_are_per_kiosk() -> None:
    with PlatformSim(users={"hall-3": ("pw3", ["HALL-03", "HALL-03B"])}) as sim:
        with (
            client_for(sim, kiosk_id="HALL-03", username="hall-3", password="pw3") as a,
            client_for(sim, kiosk_id="HALL-03B", username="hall-3", password="pw3") as b,
        ):
            r = rid()
            one = a.submit_application(
                r, DEMO_APPLICANT, "GA-HUKOU-CERT", {"purpose": "就业", "copies": "1"}, "LOCKER"
            )
            two = b.submit_application(
                r, DEMO_APPLICANT, "GA-HUKOU-CERT", {"purpose": "就业", "copies": "1"}, "LOCKER"
            )
            assert (
                one.case_number != two.case_number
            )  # the same requestId from another kiosk is another request
            other = b.submit_application(
                rid(), DEMO_APPLICANT_2, "GA-HUKOU-CERT", {"purpose": "入学", "copies": "1"}, "LOCKER"
            )
            assert other.case_number not in (one.case_number, two.case_number)
            assert (
                a.submit_application(
                    r, DEMO_APPLICANT, "GA-HUKOU-CERT", {"purpose": "就业", "copies": "1"}, "LOCKER"
                )
                == one
            )


def test_a_request_under_another_kiosks_id_is_auth_failed() -> None:
    users = {"hall-1": ("pw1", ["HALL-01"]), "hall-2": ("pw2", ["HALL-02"])}
    with PlatformSim(users=users) as sim:
        with (
            client_for(sim, kiosk_id="HALL-02", username="hall-1", password="pw1") as c,
            pytest.raises(PlatformRejected) as exc,
        ):
            c.submit_hotline_ticket(rid(), _ticket())
        assert exc.value.code == "AUTH_FAILED" and not sim.backoffice.tickets


# --- the 1.0 client, and a platform that has not upgraded ----------------------------------------------------------------
def test_a_1_0_client_refuses_1_1_operations_before_sending(sim: PlatformSim) -> None:
    with client_for(sim, "1.0") as c:
        for call in (
            lambda: c.submit_bundle(rid(), DEMO_APPLICANT, "YJS-NEWBORN", NEWBORN, "LOCKER"),
            lambda: c.submit_hotline_ticket(rid(), _ticket()),
            lambda: c.query_tickets(ticket_number="RX2026112500001"),
            lambda: c.query_evaluations(DEMO_APPLICANT.id_number),
            lambda: c.confirm_evaluation_reply(rid(), "EV1", True),
            lambda: c.request_assistance("OTHER"),
            lambda: c.submit_evaluation(rid(), Evaluation(5, applicant=DEMO_APPLICANT)),
            lambda: c.submit_application(
                rid(),
                DEMO_APPLICANT,
                "RS-SSC-REISSUE",
                {"reason": "损坏", "phone": "13800138000"},
                "MAIL",
                mail_address=ADDRESS,
            ),
        ):
            with pytest.raises(PlatformFeatureUnavailable) as exc:
                call()
            assert exc.value.citizen_key == "error.needs_platform_upgrade"
    assert sim.count() == 0


def test_a_1_0_client_works_against_the_1_0_platform() -> None:
    with PlatformSim(platform_version="1.0") as sim, client_for(sim, "1.0") as c:
        assert b"SubmitBundle" not in requests.get(sim.url + "?wsdl", timeout=5).content
        cat = c.get_matter_catalog()
        assert cat.bundles == () and cat.matters
        res = c.submit_application(
            rid(), DEMO_APPLICANT, "GA-HUKOU-CERT", {"purpose": "就业", "copies": "1"}, "LOCKER"
        )
        assert c.query_cases(case_number=res.case_number)[0].status == "RECEIVED"
        sim.backoffice.approve(res.case_number)
        assert c.get_delivery_ticket(res.case_number).status == "APPROVED"
        assert c.report_delivery(
            rid(), res.case_number, "DEPOSITED", "CAB-01", "A01", dt.datetime.now(dt.UTC)
        ).accepted
        assert c.notify_applicant(
            rid(),
            res.case_number,
            "PICKUP_READY",
            {"cabinet": "CAB-01 A01", "code": "123456", "expires": "2026-12-01 18:00"},
        ).accepted
        assert c.submit_evaluation(rid(), Evaluation(4))
        assert c.heartbeat("1", []).catalog_version
        with pytest.raises(PlatformRejected) as exc:  # names the element as 1.0 does
            c.query_cases(case_number="zw-lower")
        assert exc.value.field == "caseNumber"


def test_a_1_1_client_is_refused_by_a_platform_that_has_not_upgraded() -> None:
    """Why a kiosk in such a province is pinned to 1.0: the 1.0 schema knows no interfaceVersion."""
    with PlatformSim(platform_version="1.0") as sim, client_for(sim) as c:
        with pytest.raises(PlatformRejected) as exc:
            c.heartbeat("1", [])
        assert (exc.value.code, exc.value.field) == ("INVALID_FIELD", "interfaceVersion")


def test_a_higher_version_is_served_as_1_1(sim: PlatformSim) -> None:
    with client_for(sim) as c:
        c.interface_version = "1.7"  # type: ignore[assignment]  # a kiosk newer than the platform
        seen = capture(c)
        cat = c.get_matter_catalog()
    assert header_version(seen[0][0]) == "1.7" and cat.bundles


def test_schema_errors_are_named_by_path_in_1_1_and_by_name_in_1_0(sim: PlatformSim) -> None:
    for version, field in (("1.1", "header.requestId"), ("1.0", "requestId")):
        with client_for(sim, version) as c, pytest.raises(PlatformRejected) as exc:
            c.submit_application("NOT-A-UUID", DEMO_APPLICANT, "GA-HUKOU-CERT", {"purpose": "就业"}, "LOCKER")
        assert exc.value.field == field
