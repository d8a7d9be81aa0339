"""12345 tickets, the 好差评 closed loop, "Get help", case details and lookups with the platform down, against the
simulator through the outbox."""

from __future__ import annotations

import datetime as dt
import json
import time

import pytest
from sqlalchemy import select

from backend_client.client import PlatformClient
from backend_client.sim import DEMO_APPLICANT, PlatformSim
from kiosk import audit
from kiosk.assistance import request_assistance, staff_member
from kiosk.case_details import CaseService
from kiosk.clock import Clock
from kiosk.config import Config, PlatformConfig
from kiosk.errors import PlatformFeatureUnavailable, PlatformRejected, ValidationError
from kiosk.evaluations import EvaluationService
from kiosk.outbox_sender import OutboxSender
from kiosk.platform_queries import QueryUnavailable
from kiosk.storage.db import Database
from kiosk.storage.models import Compartment, OutboxMessage, Parcel, ServiceRequest
from kiosk.tickets import TicketService, compose, validate_ticket

TEXT = "我是张三，电话13800138000，办证排队两小时"


@pytest.fixture
def tickets(db: Database, secret: bytes, real_clock: Clock, sender: OutboxSender) -> TicketService:
    return TicketService(db, secret, real_clock, sender)


@pytest.fixture
def ratings(db: Database, secret: bytes, real_clock: Clock, sender: OutboxSender) -> EvaluationService:
    return EvaluationService(db, secret, real_clock, sender)


# --- 12345 ---------------------------------------------------------------------------------------------------------
def test_ticket_rules_locally() -> None:
    for args, field in (
        (("FEEDBACK", "13800138000", "x"), "kind"),
        (("CONSULT", "0731-1234", "x"), "phone"),
        (("CONSULT", "13800138000", "  "), "content"),
        (("CONSULT", "13800138000", "字" * 501), "content"),
    ):
        with pytest.raises(ValidationError) as exc:
            validate_ticket(*args)
        assert exc.value.field == field
    assert compose(["waiting", "waiting", "nonsense"], " 很久 ") == "办事等待时间过长；很久"


def test_complaint_filed_and_its_reply_shown(tickets: TicketService, sim: PlatformSim, db: Database) -> None:
    r = tickets.submit(validate_ticket("COMPLAINT", "13800138000", TEXT), DEMO_APPLICANT)
    assert r.state == "done" and r.receipt_number.startswith("T") and r.reference in sim.backoffice.tickets
    assert r.detail["promised_reply_days"] == 5
    sim.backoffice.assign_ticket(r.reference)
    sim.backoffice.reply_ticket(r.reference, "已增设两个窗口")
    (mine,) = tickets.mine(DEMO_APPLICANT.id_number)
    assert (mine.status, mine.reply) == ("REPLIED", "已增设两个窗口") and "138****8000" in mine.content
    assert tickets.one(r.reference.lower()).ticket_number == r.reference
    with db.transaction() as s:  # the kiosk kept neither the text nor the phone
        kept = json.dumps(
            [[m.payload, m.result] for m in s.execute(select(OutboxMessage)).scalars()]
            + [a.detail for a in audit.tail(s, 20)],
            ensure_ascii=False,
        )
    assert TEXT not in kept and "13800138000" not in kept


def test_anonymous_ticket_from_a_case(tickets: TicketService, sim: PlatformSim) -> None:
    case = sim.backoffice.cases_of(DEMO_APPLICANT.id_number)[0].number
    r = tickets.submit(
        validate_ticket("CONSULT", "13800138000", compose(["progress"], None), case_number=case)
    )
    t = sim.backoffice.tickets[r.reference]
    assert t.applicant is None and t.case_number == case and r.applicant_id_masked is None
    assert tickets.mine(DEMO_APPLICANT.id_number) == []


def test_ticket_with_the_platform_down_gets_a_receipt_and_lookups_say_so(
    tickets: TicketService, sim: PlatformSim, client: PlatformClient
) -> None:
    client.heartbeat("1", [])  # the platform answered a moment ago
    answered = client.last_answer_at
    sim.faults.http500(times=None)
    r = tickets.submit(validate_ticket("SUGGESTION", "13800138000", "多设几台自助机"), DEMO_APPLICANT)
    assert r.state == "queued" and r.receipt_number.startswith("T") and r.reference is None
    with pytest.raises(QueryUnavailable) as exc:
        tickets.mine(DEMO_APPLICANT.id_number)
    assert exc.value.last_answer_at == answered and exc.value.citizen_key == "error.query_unavailable"
    assert exc.value.when(dt.UTC)


def test_a_lookup_before_any_answer_says_never(
    db: Database, secret: bytes, real_clock: Clock, sim: PlatformSim, make_client
) -> None:
    sim.faults.reset(times=None)
    svc = CaseService(db, make_client(), ["CAB-01"])
    with pytest.raises(QueryUnavailable) as exc:
        svc.mine(DEMO_APPLICANT.id_number)
    assert exc.value.last_answer_at is None and exc.value.citizen_key == "error.query_unavailable_never"


# --- 好差评 ----------------------------------------------------------------------------------------------------------
def test_bad_rating_reply_and_confirmation(
    ratings: EvaluationService, sender: OutboxSender, sim: PlatformSim
) -> None:
    case = sim.backoffice.cases_of(DEMO_APPLICANT.id_number)[0].number
    q = ratings.submit(1, case_number=case, reasons=["too_slow"], applicant=DEMO_APPLICANT)
    assert not q.anonymous and q.receipt_number.startswith("E")
    sender.run_once()
    (ev,) = ratings.mine(DEMO_APPLICANT.id_number)
    assert ev.status == "RECTIFYING" and ev.case_number == case
    with pytest.raises(ValidationError) as exc:  # nothing to answer yet
        ratings.confirm(ev, satisfied=True)
    assert exc.value.field == "evaluationId"
    sim.backoffice.reply_evaluation(ev.evaluation_id, "已整改")
    (ev,) = ratings.mine(DEMO_APPLICANT.id_number)
    r = ratings.confirm(ev, satisfied=True, applicant=DEMO_APPLICANT)
    assert r.state == "done" and r.receipt_number.startswith("C")
    assert ratings.mine(DEMO_APPLICANT.id_number)[0].status == "CONFIRMED"


def test_confirmation_queues_with_the_platform_down(
    ratings: EvaluationService, sender: OutboxSender, sim: PlatformSim
) -> None:
    ratings.submit(2, matter_code="GA-HUKOU-CERT", reasons=["other"], applicant=DEMO_APPLICANT)
    sender.run_once()
    (ev,) = ratings.mine(DEMO_APPLICANT.id_number)
    sim.backoffice.reply_evaluation(ev.evaluation_id)
    (ev,) = ratings.mine(DEMO_APPLICANT.id_number)
    sim.faults.reset(times=None)
    r = ratings.confirm(ev, satisfied=False, comment="还没解决")
    assert r.state == "queued" and r.receipt_number.startswith("C")
    sim.faults.clear()
    deadline = time.monotonic() + 10
    while sim.backoffice.evaluation(ev.evaluation_id)["round"] == 1 and time.monotonic() < deadline:
        sender.resume()  # the backoff after the failed attempt is under half a second here
        sender.run_once()
        time.sleep(0.05)
    assert sim.backoffice.evaluation(ev.evaluation_id)["round"] == 2  # the supervised second round


def test_anonymous_and_self_service_ratings_are_delivered(
    ratings: EvaluationService, sender: OutboxSender, sim: PlatformSim, db: Database
) -> None:
    ratings.submit(5)  # the self-service itself: neither case nor matter
    ratings.submit(2, matter_code="KIOSK-SERVICE", reasons=["hard_to_use"])  # what the runtime passes today
    assert sender.run_once().sent == 2
    assert [e["matter_code"] for e in sim.backoffice.evaluations] == [None, None]
    assert all(e["applicant"] is None for e in sim.backoffice.evaluations)
    with db.transaction() as s:
        rows = s.execute(select(ServiceRequest).where(ServiceRequest.kind == "rating")).scalars().all()
        assert [r.state for r in rows] == ["done", "done"] and all(r.reference for r in rows)


def test_ratings_on_a_kiosk_pinned_to_1_0_are_anonymous(
    db: Database, secret: bytes, real_clock: Clock, make_client, pcfg: PlatformConfig, sim: PlatformSim
) -> None:
    c10 = make_client("1.0")
    svc = EvaluationService(db, secret, real_clock, OutboxSender(db, c10, secret, real_clock, pcfg))
    assert svc.anonymous_only
    q = svc.submit(4, matter_code="GA-HUKOU-CERT", applicant=DEMO_APPLICANT)
    assert q.anonymous and svc.sender.run_once().sent == 1  # type: ignore[union-attr]
    assert sim.backoffice.evaluations[-1]["applicant"] is None
    with pytest.raises(PlatformFeatureUnavailable):
        svc.mine(DEMO_APPLICANT.id_number)
    with pytest.raises(PlatformFeatureUnavailable):
        TicketService(db, secret, real_clock, svc.sender).mine(DEMO_APPLICANT.id_number)


# --- 帮办: staff ids and "Get help" ------------------------------------------------------------------------------------
def test_staff_ids_per_badge(cfg: Config) -> None:
    member = staff_member(cfg, "5a1f0d5e")
    assert member is not None and member.staff_id == "DEMO-STAFF-01" and member.actor == "staff:DEMO-STAFF-01"
    assert staff_member(cfg, "DEADBEEF") is None and "5A1F0D5E" in cfg.kiosk.staff_badges


def test_get_help_asks_the_platform_and_falls_back_to_the_hotline(
    client: PlatformClient, sim: PlatformSim, make_client
) -> None:
    got = request_assistance(client, "FILING", matter_code="MZ-ELDER-CARD", language="zh")
    assert got.reached and got.mode == "PROXY" and got.text_key == "help.mode.PROXY" and got.hotline
    assert sim.backoffice.assists[-1]["language"] == "zh-cn"
    sim.faults.slow(5.0, operation="RequestAssistance")  # longer than the client's 2 s timeout
    late = request_assistance(client, "PICKUP", fallback_hotline="0731-28880000")
    assert not late.reached and late.hotline == "0731-28880000" and late.text_key == "help.unreachable"
    assert not request_assistance(make_client("1.0"), "OTHER").reached
    assert not request_assistance(None, "OTHER").reached


# --- case details ----------------------------------------------------------------------------------------------------
def test_case_details_say_where_the_result_is(db: Database, client: PlatformClient, sim: PlatformSim) -> None:
    ready = next(
        c
        for c in sim.backoffice.cases_of(DEMO_APPLICANT.id_number)
        if c.status == "APPROVED" and c.delivery_mode == "LOCKER"
    )
    now = dt.datetime.now(dt.UTC)
    with db.transaction() as s:
        comp = Compartment(
            cabinet_id="CAB-01", label="A07", size="M", board=0, channel=7, state="occupied", updated_at=now
        )
        s.add(comp)
        s.flush()
        s.add(
            Parcel(
                kind="result",
                state="ready",
                case_number=ready.number,
                compartment_id=comp.id,
                created_at=now,
                stored_at=now,
                expires_at=now + dt.timedelta(days=7),
            )
        )
    details = {
        d.case.case_number: d for d in CaseService(db, client, ["CAB-01"]).mine(DEMO_APPLICANT.id_number)
    }
    here = details[ready.number]
    assert here.can_pick_up_here and (here.cabinet_id, here.compartment) == ("CAB-01", "A07")
    mailed = next(d for d in details.values() if d.where == "mailed")
    assert mailed.where_params["waybill"] == "1190512345678" and mailed.case.courier == "EMS"
    more = next(d for d in details.values() if d.case.status == "NEED_MORE_MATERIAL")
    assert more.case.reason and more.case.next_step and not more.can_pick_up_here
    elsewhere = CaseService(db, client, ["CAB-09"]).one(ready.number)
    assert elsewhere.where == "cabinet_elsewhere" and not elsewhere.can_pick_up_here
    with pytest.raises(PlatformRejected):
        CaseService(db, client, ["CAB-01"]).one("ZW20990101999999")
