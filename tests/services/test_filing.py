"""Filing with 1.1 through the outbox against the simulator: eligibility before the form, MAIL, 帮办, instant
matters, bundles all or nothing and exactly once, the platform down, a kiosk pinned to 1.0."""

from __future__ import annotations

import json
import time

import pytest
from sqlalchemy import select

from backend_client.client import PlatformClient
from backend_client.sim import DEMO_APPLICANT, PlatformSim
from kiosk import audit, outbox
from kiosk.applications import ApplicationService
from kiosk.assistance import assisted_filing
from kiosk.bundles import BundleService, members_of
from kiosk.catalog import CatalogService
from kiosk.clock import Clock
from kiosk.config import PlatformConfig
from kiosk.eligibility import NotEligible
from kiosk.errors import PlatformFeatureUnavailable, PlatformRejected, ValidationError
from kiosk.outbox_sender import OutboxSender
from kiosk.platform_models import Applicant, MailAddress
from kiosk.storage.db import Database
from kiosk.storage.models import OutboxMessage, ServiceRequest, StaffTask

YOUNG = Applicant("RESIDENT_ID", "310104199005072113", "李四", "13900139000")
ADDRESS = MailAddress(
    recipient="张三",
    phone="13800138000",
    province="湖南省",
    city="株洲市",
    district="芦淞区",
    detail="建设南路8号3栋501",
    street="建设南路街道",
    postcode="412000",
)
REISSUE = ("RS-SSC-REISSUE", {"reason": "损坏", "phone": "13800138000"})
NEWBORN = {
    "babyName": "王小宝",
    "birthDate": "2026-11-20",
    "WJ-BIRTH-CERT.hospital": "株洲市妇幼保健院",
    "HK-006.hukouAddress": "芦淞区建设南路8号",
    "YB-NEWBORN-ENROL.payer": "母亲",
}


@pytest.fixture
def apps(
    db: Database, secret: bytes, real_clock: Clock, catalog: CatalogService, sender: OutboxSender
) -> ApplicationService:
    return ApplicationService(db, secret, real_clock, catalog, sender)


@pytest.fixture
def bundles(
    db: Database, secret: bytes, real_clock: Clock, catalog: CatalogService, sender: OutboxSender
) -> BundleService:
    return BundleService(db, secret, real_clock, catalog, sender)


def _outbox(db: Database) -> list[OutboxMessage]:
    with db.transaction() as s:
        rows = list(s.execute(select(OutboxMessage).order_by(OutboxMessage.id)).scalars())
        s.expunge_all()
        return rows


# --- eligibility ---------------------------------------------------------------------------------------------------
def test_an_under_60_citizen_learns_before_the_form(
    apps: ApplicationService, sim: PlatformSim, db: Database
) -> None:
    v = apps.eligibility("MZ-ELDER-CARD", YOUNG)
    assert not v.eligible and v.why == "too_young" and v.min_age == 60 and v.age is not None and v.age >= 36
    assert apps.eligibility("MZ-ELDER-CARD", DEMO_APPLICANT).eligible
    with pytest.raises(NotEligible) as exc:  # and were the form filed anyway, nothing is queued or sent
        apps.submit(YOUNG, "MZ-ELDER-CARD", {"phone": "13900139000"}, "LOCKER")
    assert exc.value.verdict is not None and exc.value.citizen_key == "error.not_eligible"
    assert _outbox(db) == [] and sim.count("SubmitApplication") == 0


def test_the_platforms_not_eligible_is_handled_when_the_catalog_is_stale(
    db: Database, secret: bytes, real_clock: Clock, make_client, sender: OutboxSender
) -> None:
    stale = CatalogService(db, make_client("1.0"), real_clock)  # a 1.0 catalog: no eligibility in it
    stale.refresh()
    apps = ApplicationService(db, secret, real_clock, stale, sender)
    with pytest.raises(NotEligible) as exc:
        apps.submit(YOUNG, "MZ-ELDER-CARD", {"phone": "13900139000"}, "LOCKER")
    assert exc.value.verdict is None and "60" in (exc.value.platform_message or "")
    (msg,) = _outbox(db)
    assert msg.state == "dead" and msg.last_error.startswith("NOT_ELIGIBLE")


# --- MAIL, 帮办, instant ----------------------------------------------------------------------------------------------
def test_mail_needs_a_valid_address_before_anything_is_queued(apps: ApplicationService, db: Database) -> None:
    with pytest.raises(ValidationError) as exc:
        apps.submit(DEMO_APPLICANT, *REISSUE, "MAIL")
    assert exc.value.field == "mailAddress"
    with pytest.raises(ValidationError) as exc:
        apps.submit(
            DEMO_APPLICANT, *REISSUE, "MAIL", mail_address=MailAddress(**{**ADDRESS.__dict__, "phone": "123"})
        )
    assert exc.value.field == "mailAddress.phone"
    with pytest.raises(ValidationError) as exc:
        apps.submit(DEMO_APPLICANT, *REISSUE, "LOCKER", mail_address=ADDRESS)
    assert exc.value.field == "mailAddress"
    assert _outbox(db) == []


def test_mailed_application_is_filed_and_the_address_not_kept(
    apps: ApplicationService, sim: PlatformSim, db: Database
) -> None:
    r = apps.submit(DEMO_APPLICANT, *REISSUE, "MAIL", mail_address=ADDRESS)
    assert r.state == "filed" and sim.backoffice.case(r.case_number).mail_address == ADDRESS
    (msg,) = _outbox(db)
    assert msg.payload == outbox.SCRUBBED  # sent: the sealed address is gone
    with db.transaction() as s:
        dump = json.dumps([a.detail for a in audit.tail(s, 10)], ensure_ascii=False)
    assert ADDRESS.detail not in dump and ADDRESS.phone not in dump


def test_assisted_filing_carries_staff_and_consent_and_is_audited(
    apps: ApplicationService, sim: PlatformSim, db: Database
) -> None:
    with pytest.raises(ValidationError) as exc:
        assisted_filing("DEMO-STAFF-01", "PROXY", consent_recorded=False)
    assert exc.value.field == "assistedBy.consentRecorded" and exc.value.citizen_key == "error.assist_consent"
    helper = assisted_filing("DEMO-STAFF-01", "PROXY", consent_recorded=True)
    r = apps.submit(
        DEMO_APPLICANT, "GA-HUKOU-CERT", {"purpose": "就业", "copies": "1"}, "LOCKER", assisted_by=helper
    )
    case = sim.backoffice.case(r.case_number)
    assert case.assisted_by == helper and case.applicant.id_number == DEMO_APPLICANT.id_number  # still theirs
    with db.transaction() as s:
        rec = next(a for a in audit.tail(s, 10) if a.action == "filing.assisted")
        assert (
            rec.actor == "staff:DEMO-STAFF-01"
            and rec.detail["mode"] == "PROXY"
            and rec.detail["consent"] is True
        )
        assert DEMO_APPLICANT.name not in json.dumps(rec.detail, ensure_ascii=False)


def test_an_instant_matter_is_approved_on_the_receipt(apps: ApplicationService) -> None:
    r = apps.submit(DEMO_APPLICANT, "GJJ-DEPOSIT-CERT", {"account": "123456789012"}, "WINDOW")
    assert r.state == "approved" and r.case_number and r.text[0].startswith("已办结")


def test_a_kiosk_pinned_to_1_0(
    db: Database, secret: bytes, real_clock: Clock, make_client, pcfg: PlatformConfig, sim: PlatformSim
) -> None:
    c10 = make_client("1.0")
    cat = CatalogService(db, c10, real_clock)
    sender = OutboxSender(db, c10, secret, real_clock, pcfg)
    apps = ApplicationService(db, secret, real_clock, cat, sender)
    # MAIL without an address: accepted (the centre phones); assistedBy is audited here, not sent.
    r = apps.submit(
        DEMO_APPLICANT, *REISSUE, "MAIL", assisted_by=assisted_filing("DEMO-STAFF-01", "ON_SITE", True)
    )
    case = sim.backoffice.case(r.case_number)
    assert r.state == "filed" and case.mail_address is None and case.assisted_by is None
    assert BundleService(db, secret, real_clock, cat, sender).bundles() == ()
    with pytest.raises(PlatformFeatureUnavailable):
        BundleService(db, secret, real_clock, cat, sender).submit(
            DEMO_APPLICANT, "YJS-NEWBORN", NEWBORN, "LOCKER"
        )
    with pytest.raises(NotEligible):  # 1.0's INVALID_FIELD applicant is the same refusal
        apps.submit(YOUNG, "MZ-ELDER-CARD", {"phone": "13900139000"}, "LOCKER")


# --- bundles ---------------------------------------------------------------------------------------------------------
def test_bundle_form_asks_shared_fields_once_then_each_members_own(bundles: BundleService) -> None:
    form = bundles.form("YJS-NEWBORN")
    assert [s.matter.code if s.matter else None for s in form.sections] == [
        None,
        "WJ-BIRTH-CERT",
        "HK-006",
        "YB-NEWBORN-ENROL",
    ]
    assert [f.key for f in form.fields] == [
        "babyName",
        "birthDate",
        "WJ-BIRTH-CERT.hospital",
        "HK-006.hukouAddress",
        "YB-NEWBORN-ENROL.payer",
    ]
    assert bundles.guide("YJS-NEWBORN").materials


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"babyName": ""}, "babyName"),
        ({"birthDate": "2026-02-30"}, "birthDate"),
        ({"HK-006.hukouAddress": ""}, "HK-006.hukouAddress"),
        ({"YB-NEWBORN-ENROL.payer": "爷爷"}, "YB-NEWBORN-ENROL.payer"),
        ({"nothing.here": "x"}, "nothing.here"),
    ],
)
def test_bundle_form_names_the_field(bundles: BundleService, change: dict[str, str], field: str) -> None:
    with pytest.raises(ValidationError) as exc:
        bundles.check("YJS-NEWBORN", {**NEWBORN, **change}, "LOCKER")
    assert exc.value.field == field


def test_bundle_filed_once_with_one_receipt_listing_every_case(
    bundles: BundleService, sim: PlatformSim, db: Database
) -> None:
    r = bundles.submit(DEMO_APPLICANT, "YJS-NEWBORN", NEWBORN, "LOCKER")
    assert (
        r.state == "done"
        and r.receipt_number.startswith("B")
        and r.reference in sim.backoffice.bundle_filings
    )
    cases = members_of(r)
    assert [c["matter_code"] for c in cases] == ["WJ-BIRTH-CERT", "HK-006", "YB-NEWBORN-ENROL"]
    assert [c["case_number"] for c in cases] == sim.backoffice.bundle_filings[r.reference]
    (msg,) = _outbox(db)
    assert msg.operation == "SubmitBundle" and msg.payload == outbox.SCRUBBED


def test_bundle_eligibility_and_a_platform_refusal_on_a_member_field(
    bundles: BundleService, sim: PlatformSim
) -> None:
    retire = {
        "phone": "13900139000",
        "bankAccount": "6222020200112233445",
        "GJJ-RETIRE-WITHDRAW.account": "123456789012",
    }
    v = bundles.eligibility("YJS-RETIRE", YOUNG)
    assert not v.eligible and v.matter_code == "RS-RETIRE-CLAIM"
    with pytest.raises(NotEligible):
        bundles.submit(YOUNG, "YJS-RETIRE", retire, "WINDOW")
    sim.faults.platform_fault(
        "INVALID_FIELD", operation="SubmitBundle", field="HK-006.hukouAddress", message="入户地址不在本区"
    )
    with pytest.raises(ValidationError) as exc:
        bundles.submit(DEMO_APPLICANT, "YJS-NEWBORN", NEWBORN, "LOCKER")
    assert exc.value.field == "HK-006.hukouAddress"
    assert sim.backoffice.count_cases() == 7 and not sim.backoffice.bundle_filings  # 7 seeded: nothing filed


def test_bundle_with_the_platform_down_gets_a_receipt_then_is_filed_exactly_once(
    bundles: BundleService, sender: OutboxSender, sim: PlatformSim
) -> None:
    sim.faults.reset(operation="SubmitBundle", times=1, after_processing=True)  # filed, but the reply is lost
    r = bundles.submit(DEMO_APPLICANT, "YJS-NEWBORN", NEWBORN, "MAIL", mail_address=ADDRESS)
    assert r.state == "queued" and r.receipt_number.startswith("B") and r.reference is None
    deadline = time.monotonic() + 10
    while bundles.receipt(r.id).state == "queued" and time.monotonic() < deadline:
        sender.resume()  # the backoff after the lost reply is under half a second here
        sender.run_once()
        time.sleep(0.05)
    after = bundles.receipt(r.id)
    assert after.state == "done" and len(members_of(after)) == 3
    assert len(sim.backoffice.bundle_filings) == 1 and sim.count("SubmitBundle", "replayed") == 1


def test_a_dead_bundle_becomes_a_staff_task_naming_the_receipt(
    bundles: BundleService, sender: OutboxSender, sim: PlatformSim, db: Database
) -> None:
    sim.faults.platform_fault("INTERNAL", operation="SubmitBundle", times=None)
    r = bundles.submit(DEMO_APPLICANT, "YJS-NEWBORN", NEWBORN, "LOCKER", send_now=False)
    sim.backoffice.withdraw_bundle("YJS-NEWBORN")
    sim.faults.clear()
    sender.run_once()
    with db.transaction() as s:
        row = s.get(ServiceRequest, r.id)
        assert row.state == "refused" and "UNKNOWN_BUNDLE" in (row.message or "")
        task = s.execute(select(StaffTask).where(StaffTask.kind == "bundle_not_filed")).scalar_one()
        assert r.receipt_number in task.detail and "王小宝" not in task.detail


def test_platform_refusal_codes_reach_the_citizen(bundles: BundleService, sim: PlatformSim) -> None:
    bundles.form("YJS-NEWBORN")  # the catalog is cached now
    sim.backoffice.withdraw_bundle("YJS-NEWBORN")
    with pytest.raises(PlatformRejected) as exc:  # the kiosk's catalog still lists it: the platform says no
        bundles.submit(DEMO_APPLICANT, "YJS-NEWBORN", NEWBORN, "LOCKER")
    assert exc.value.code == "UNKNOWN_BUNDLE" and exc.value.citizen_key == "error.unknown_bundle"


def test_client_of_the_sender_is_the_v11_one(sender: OutboxSender, client: PlatformClient) -> None:
    assert sender.platform is client and client.v11
