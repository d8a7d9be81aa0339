"""The simulated platform's state, and the back office that moves cases along.

Tests and demos drive cases with Python calls (``approve``, ``refuse`` ...),
the way a department's clerk would in the real back office.
"""

from __future__ import annotations

import datetime as dt
import itertools
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from backend_client.sim.catalog import BUNDLES, MATTERS
from backend_client.sim.rules import add_working_days, platform_date
from kiosk.platform_models import Applicant, Assistant, Bundle, CaseStatus, DeliveryMode, MailAddress, Matter

# A fictitious demo applicant with a valid GB 11643 number (check digit right), born 1958.
DEMO_APPLICANT = Applicant(
    id_type="RESIDENT_ID", id_number="110105195803121232", name="张三", phone="13800138000"
)
# A second one, too young for the senior card (REFUSED demo), no phone (SMS not deliverable).
DEMO_APPLICANT_2 = Applicant(id_type="RESIDENT_ID", id_number="310104199005072113", name="李四")

CATALOG: tuple[Matter, ...] = MATTERS
# Ticket kinds and the working days the 12345 centre promises a reply in.
REPLY_DAYS = {"CONSULT": 2, "COMPLAINT": 5, "SUGGESTION": 5, "PRAISE": 5, "REPORT": 5}
SUPERVISOR = "区政务服务管理办公室"  # supervises a 差评's second round
HALL_DEPARTMENT = "区政务服务中心"  # answers for a rating of the self-service itself
HALL_DESK = "0731-28881234"  # the hall's help desk: the hotline named in opening hours (12345 outside them)
SENT_LOG = 10_000  # texts and delivery reports the simulator keeps, newest last (a demo runs for months)


@dataclass
class SimCase:
    """One case (办件) on the platform."""

    number: str
    matter_code: str
    matter_name: str
    applicant: Applicant
    delivery_mode: DeliveryMode
    status: CaseStatus
    created_at: dt.datetime
    updated_at: dt.datetime
    fields: dict[str, str] = field(default_factory=dict)
    note: str | None = None
    kiosk_id: str | None = None
    # since 1.1
    reason: str | None = None  # why REFUSED, or what NEED_MORE_MATERIAL needs
    next_step: str | None = None  # set by a clerk; otherwise derived from the status (see next_step_of)
    courier: str | None = None
    waybill_number: str | None = None
    mail_address: MailAddress | None = None
    assisted_by: Assistant | None = None
    bundle_number: str | None = None


@dataclass
class SimTicket:
    """A 12345 ticket (工单). Only the platform moves it: RECEIVED -> ASSIGNED -> REPLIED -> CLOSED."""

    number: str
    kind: str
    phone: str
    content: str
    submitted_at: dt.datetime
    applicant: Applicant | None = None
    case_number: str | None = None
    matter_code: str | None = None
    status: str = "RECEIVED"
    department: str | None = None
    reply: str | None = None
    replied_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None
    kiosk_id: str | None = None


@dataclass(frozen=True)
class SentSms:
    case_number: str
    phone: str | None
    template: str
    params: dict[str, str]
    at: dt.datetime


@dataclass(frozen=True)
class DeliveryReport:
    case_number: str
    event: str
    cabinet_id: str
    compartment: str
    occurred_at: dt.datetime
    kiosk_id: str


class BackOffice:
    """Cases, catalog and what kiosks reported. All methods are thread-safe."""

    def __init__(self, now: Callable[[], dt.datetime], *, seed_demo: bool = True) -> None:
        self.now = now
        self.lock = threading.RLock()
        self.matters: dict[str, Matter] = {m.code: m for m in CATALOG}
        self._version = itertools.count(2)
        self.catalog_version = "2026.11-1"
        self.cases: dict[str, SimCase] = {}
        self.sms: list[SentSms] = []  # newest SENT_LOG texts, oldest first
        self.deliveries: list[DeliveryReport] = []  # newest SENT_LOG reports
        # Each rating: id, case_number, matter_code, matter_name, rating, reasons, comment, kiosk_id; since 1.1
        # applicant (None: anonymous), status, round (1, or 2 once supervised), department, reply, replied_at,
        # submitted_at, updated_at.
        self.evaluations: list[dict[str, Any]] = []
        self.heartbeats: dict[str, dict[str, object]] = {}
        self.bundles: dict[str, Bundle] = {b.code: b for b in BUNDLES}
        self.bundle_filings: dict[str, list[str]] = {}  # bundle number -> member case numbers
        self.tickets: dict[str, SimTicket] = {}
        self.assists: deque[dict[str, Any]] = deque(
            maxlen=1000
        )  # the newest help calls (a demo runs for months)
        self.assist_seq = itertools.count(1)
        self.holidays: set[dt.date] = set()  # public holidays: no working day (add the year's as published)
        # The test endpoint moves tickets and 差评 along by itself after these many seconds (None: only by hand):
        # ticket assigned, replied, closed; a 差评 replied (each round).
        self.auto_advance_s: dict[str, float] | None = None
        self._seq = itertools.count(1)
        self._ticket_seq = itertools.count(1)
        self._bundle_seq = itertools.count(1)
        if seed_demo:
            self._seed()

    # --- catalog ---------------------------------------------------------------
    def publish_catalog(
        self, matters: list[Matter] | None = None, bundles: list[Bundle] | None = None
    ) -> str:
        """Replace (or just republish) the catalog; returns the new catalogVersion."""
        with self.lock:
            if matters is not None:
                self.matters = {m.code: m for m in matters}
            if bundles is not None:
                self.bundles = {b.code: b for b in bundles}
            self.catalog_version = f"2026.11-{next(self._version)}"
            return self.catalog_version

    def withdraw_matter(self, code: str) -> str:
        """Take a matter off the catalog (kiosks then get UNKNOWN_MATTER); returns the new version."""
        with self.lock:
            self.matters.pop(code, None)
            return self.publish_catalog()

    def withdraw_bundle(self, code: str) -> str:
        """Take a bundle off the catalog (kiosks then get UNKNOWN_BUNDLE); returns the new version."""
        with self.lock:
            self.bundles.pop(code, None)
            return self.publish_catalog()

    def promised_date(self, now: dt.datetime, working_days: int) -> dt.date:
        """The date promised for a case accepted now: that many working days after today (China time)."""
        return add_working_days(platform_date(now), working_days, self.holidays)

    # --- cases -------------------------------------------------------------------
    def new_case_number(self) -> str:
        return f"ZW{self.now():%Y%m%d}{next(self._seq):06d}"

    def create_case(
        self,
        applicant: Applicant,
        matter_code: str,
        delivery_mode: DeliveryMode = "LOCKER",
        status: CaseStatus = "RECEIVED",
        *,
        fields: dict[str, str] | None = None,
        note: str | None = None,
        kiosk_id: str | None = None,
    ) -> SimCase:
        """File a case directly (as a clerk at a window would); returns it."""
        with self.lock:
            now = self.now()
            case = SimCase(
                self.new_case_number(),
                matter_code,
                self.matters[matter_code].name,
                applicant,
                delivery_mode,
                status,
                now,
                now,
                dict(fields or {}),
                note,
                kiosk_id,
            )
            self.cases[case.number] = case
            return case

    def case(self, number: str) -> SimCase:
        with self.lock:
            return self.cases[number]

    def cases_of(self, id_number: str) -> list[SimCase]:
        """An applicant's cases, newest first."""
        with self.lock:
            found = [c for c in self.cases.values() if c.applicant.id_number == id_number.upper()]
        return sorted(found, key=lambda c: (c.created_at, c.number), reverse=True)

    def set_status(self, number: str, status: CaseStatus, note: str | None = None) -> SimCase:
        with self.lock:
            case = self.cases[number]
            case.status = status
            case.updated_at = self.now()
            if note is not None:
                case.note = note
            return case

    def review(self, number: str) -> SimCase:
        return self.set_status(number, "IN_REVIEW")

    def approve(self, number: str, delivery_mode: DeliveryMode | None = None) -> SimCase:
        """Finish the case: APPROVED; with LOCKER delivery GetDeliveryTicket then answers for it."""
        with self.lock:
            if delivery_mode is not None:
                self.cases[number].delivery_mode = delivery_mode
            return self.set_status(number, "APPROVED", "已办结，请按约定方式领取")

    def refuse(
        self,
        number: str,
        note: str = "材料不符合要求",
        *,
        reason: str | None = None,
        next_step: str | None = None,
    ) -> SimCase:
        with self.lock:
            case = self.set_status(number, "REFUSED", note)
            case.reason, case.next_step = reason or note, next_step
            return case

    def request_material(
        self,
        number: str,
        note: str = "请补正材料",
        *,
        reason: str | None = None,
        next_step: str | None = None,
    ) -> SimCase:
        with self.lock:
            case = self.set_status(number, "NEED_MORE_MATERIAL", note)
            case.reason, case.next_step = reason or note, next_step
            return case

    def dispatch(self, number: str, waybill_number: str, courier: str = "EMS") -> SimCase:
        """A MAIL case's result is posted: courier and waybill show in QueryCases (1.1)."""
        with self.lock:
            case = self.cases[number]
            case.courier, case.waybill_number, case.updated_at = courier, waybill_number, self.now()
            return case

    # --- 12345 tickets ---------------------------------------------------------------
    def new_ticket_number(self) -> str:
        return f"RX{platform_date(self.now()):%Y%m%d}{next(self._ticket_seq):05d}"

    def ticket(self, number: str) -> SimTicket:
        with self.lock:
            self._advance()
            return self.tickets[number]

    def assign_ticket(self, number: str, department: str = "区政务服务中心") -> SimTicket:
        """派单: the 12345 centre hands the ticket to a department."""
        with self.lock:
            t = self.tickets[number]
            t.status, t.department, t.updated_at = "ASSIGNED", department, self.now()
            return t

    def reply_ticket(
        self, number: str, reply: str = "您反映的问题已收悉并处理，如有疑问请致电12345。"
    ) -> SimTicket:
        with self.lock:
            t = self.tickets[number]
            if t.department is None:
                t.department = "区政务服务中心"
            t.status, t.reply, t.replied_at = "REPLIED", reply, self.now()
            t.updated_at = t.replied_at
            return t

    def close_ticket(self, number: str) -> SimTicket:
        """回访 done: the ticket is closed."""
        with self.lock:
            t = self.tickets[number]
            t.status, t.updated_at = "CLOSED", self.now()
            return t

    def tickets_of(self, id_number: str) -> list[SimTicket]:
        """An applicant's tickets, newest first (anonymous ones are followed by number only)."""
        with self.lock:
            self._advance()
            found = [
                t
                for t in self.tickets.values()
                if t.applicant is not None and t.applicant.id_number == id_number.upper()
            ]
        return sorted(found, key=lambda t: (t.submitted_at, t.number), reverse=True)

    # --- 好差评 ------------------------------------------------------------------------
    def evaluation(self, evaluation_id: str) -> dict[str, Any] | None:
        with self.lock:
            self._advance()
            return next((e for e in self.evaluations if e["id"] == evaluation_id), None)

    def reply_evaluation(self, evaluation_id: str, reply: str | None = None) -> dict[str, Any]:
        """The department (or, in the second round, the supervising office) replies to a 差评: RECTIFYING -> REPLIED."""
        with self.lock:
            ev = next(e for e in self.evaluations if e["id"] == evaluation_id)
            if ev["status"] != "RECTIFYING":
                raise ValueError(f"evaluation {evaluation_id} is {ev['status']}, not RECTIFYING")
            default = (
                "已核实并整改：加强窗口引导，缩短办理时间。"
                if ev["round"] == 1
                else "经督办，已责成相关部门整改到位，欢迎继续监督。"
            )
            ev["status"], ev["reply"], ev["replied_at"] = "REPLIED", reply or default, self.now()
            ev["updated_at"] = ev["replied_at"]
            return ev

    def evaluations_of(self, id_number: str) -> list[dict[str, Any]]:
        """An applicant's identified ratings, newest first."""
        with self.lock:
            self._advance()
            found = [
                e
                for e in self.evaluations
                if e.get("applicant") is not None and e["applicant"].id_number == id_number.upper()
            ]
        return sorted(found, key=lambda e: (e["submitted_at"], e["id"]), reverse=True)

    def _advance(self) -> None:
        """The test endpoint's clerks: move tickets and 差评 along once their time has come (auto_advance_s)."""
        timing = self.auto_advance_s
        if not timing:
            return
        now = self.now()
        for t in self.tickets.values():
            since = (now - (t.updated_at or t.submitted_at)).total_seconds()
            if t.status == "RECEIVED" and since >= timing.get("assign", 5):
                self.assign_ticket(t.number)
            elif t.status == "ASSIGNED" and since >= timing.get("reply", 10):
                self.reply_ticket(t.number)
            elif t.status == "REPLIED" and since >= timing.get("close", 60):
                self.close_ticket(t.number)
        for e in self.evaluations:
            if e.get("status") == "RECTIFYING" and (now - e["updated_at"]).total_seconds() >= timing.get(
                "rectify", 10
            ):
                self.reply_evaluation(e["id"])

    def withdraw(self, number: str) -> SimCase:
        return self.set_status(number, "WITHDRAWN")

    def count_cases(self, kiosk_id: str | None = None) -> int:
        """How many cases exist (filed by that kiosk, when given)."""
        with self.lock:
            return sum(1 for c in self.cases.values() if kiosk_id is None or c.kiosk_id == kiosk_id)

    def _seed(self) -> None:
        # Demo cases: one finished and waiting for the cabinet, one in review, one long delivered, one needing
        # material, one refused, one mailed (dispatched: courier and waybill show).
        first = self.create_case(
            DEMO_APPLICANT, "GA-HUKOU-CERT", "LOCKER", fields={"purpose": "就业", "copies": "1"}
        )
        self.approve(first.number)
        self.create_case(DEMO_APPLICANT, "RS-SSC-REISSUE", "LOCKER", "IN_REVIEW", fields={"reason": "遗失"})
        self.create_case(DEMO_APPLICANT, "GJJ-DEPOSIT-CERT", "WINDOW", "DELIVERED")
        self.approve(
            self.create_case(DEMO_APPLICANT_2, "GA-HUKOU-CERT", "LOCKER", fields={"purpose": "入学"}).number
        )
        more = self.create_case(DEMO_APPLICANT, "MZ-ELDER-CARD", "LOCKER", fields={"phone": "13800138000"})
        self.request_material(
            more.number,
            "请补充近期一寸免冠彩色照片2张",
            next_step="请在自助机“投递材料”中投入照片，或到民政窗口提交",
        )
        refused = self.create_case(
            DEMO_APPLICANT_2, "RS-SSC-REISSUE", "WINDOW", fields={"reason": "信息变更"}
        )
        self.refuse(
            refused.number,
            "不予受理",
            reason="信息变更须本人持户口簿到窗口办理",
            next_step="请携带身份证和户口簿到社保窗口办理",
        )
        mailed = self.create_case(DEMO_APPLICANT, "RS-SSC-REISSUE", "MAIL", fields={"reason": "损坏"})
        self.approve(mailed.number)
        self.dispatch(mailed.number, "1190512345678")
