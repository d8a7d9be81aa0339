"""The simulated platform's state, and the back office that moves cases along.

Tests and demos drive cases with Python calls (``approve``, ``refuse`` ...),
the way a department's clerk would in the real back office.
"""

from __future__ import annotations

import datetime as dt
import itertools
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from kiosk.platform_models import Applicant, CaseStatus, DeliveryMode, FieldSpec, Matter

# A fictitious demo applicant with a valid GB 11643 number (check digit right), born 1958.
DEMO_APPLICANT = Applicant(id_type="RESIDENT_ID", id_number="110105195803121232", name="张三", phone="13800138000")
# A second one, too young for the senior card (REFUSED demo), no phone (SMS not deliverable).
DEMO_APPLICANT_2 = Applicant(id_type="RESIDENT_ID", id_number="310104199005072113", name="李四")

_PHONE = r"1[3-9][0-9]{9}"
CATALOG: tuple[Matter, ...] = (
    Matter(code="MZ-ELDER-CARD", name="老年人优待证办理", name_en="Senior Citizen Preferential Card",
           department="区民政局", promised_days=5, fee=Decimal("0.00"), delivery_modes=("LOCKER", "WINDOW", "MAIL"),
           fields=(FieldSpec("phone", "联系电话", "PHONE", True, label_en="Contact phone", max_length=11,
                             pattern=_PHONE),
                   FieldSpec("address", "居住地址", "TEXT", False, label_en="Home address", max_length=80))),
    Matter(code="GA-HUKOU-CERT", name="户籍证明开具", name_en="Household Registration Certificate",
           department="区公安分局", promised_days=3, fee=Decimal("0.00"), delivery_modes=("LOCKER", "WINDOW"),
           fields=(FieldSpec("purpose", "用途", "CHOICE", True, label_en="Purpose",
                             choices=("入学", "就业", "出国", "其他")),
                   FieldSpec("copies", "份数", "NUMBER", True, label_en="Copies", max_length=1, pattern="[1-5]"))),
    Matter(code="RS-SSC-REISSUE", name="社会保障卡补换", name_en="Social Security Card Replacement",
           department="区人力资源和社会保障局", promised_days=10, fee=Decimal("20.00"),
           delivery_modes=("LOCKER", "WINDOW", "MAIL"),
           fields=(FieldSpec("reason", "补换原因", "CHOICE", True, label_en="Reason", choices=("遗失", "损坏", "信息变更")),
                   FieldSpec("phone", "联系电话", "PHONE", True, label_en="Contact phone", max_length=11,
                             pattern=_PHONE))),
    Matter(code="GJJ-DEPOSIT-CERT", name="住房公积金缴存证明", name_en="Housing Provident Fund Deposit Certificate",
           department="市住房公积金管理中心", promised_days=1, fee=Decimal("0.00"), delivery_modes=("LOCKER", "WINDOW"),
           fields=(FieldSpec("account", "公积金账号", "TEXT", True, label_en="Fund account number", max_length=12,
                             pattern="[0-9]{12}"),
                   FieldSpec("since", "起始日期", "DATE", False, label_en="From date", max_length=10))),
)
ELDER_MATTER = "MZ-ELDER-CARD"
ELDER_AGE = 60


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
        self.sms: list[SentSms] = []
        self.deliveries: list[DeliveryReport] = []
        self.evaluations: list[dict[str, object]] = []
        self.heartbeats: dict[str, dict[str, object]] = {}
        self._seq = itertools.count(1)
        if seed_demo:
            self._seed()

    # --- catalog ---------------------------------------------------------------
    def publish_catalog(self, matters: list[Matter] | None = None) -> str:
        """Replace (or just republish) the catalog; returns the new catalogVersion."""
        with self.lock:
            if matters is not None:
                self.matters = {m.code: m for m in matters}
            self.catalog_version = f"2026.11-{next(self._version)}"
            return self.catalog_version

    def withdraw_matter(self, code: str) -> str:
        """Take a matter off the catalog (kiosks then get UNKNOWN_MATTER); returns the new version."""
        with self.lock:
            self.matters.pop(code, None)
            return self.publish_catalog()

    # --- cases -------------------------------------------------------------------
    def new_case_number(self) -> str:
        return f"ZW{self.now():%Y%m%d}{next(self._seq):06d}"

    def create_case(
        self, applicant: Applicant, matter_code: str, delivery_mode: DeliveryMode = "LOCKER",
        status: CaseStatus = "RECEIVED", *, fields: dict[str, str] | None = None, note: str | None = None,
        kiosk_id: str | None = None,
    ) -> SimCase:
        """File a case directly (as a clerk at a window would); returns it."""
        with self.lock:
            now = self.now()
            case = SimCase(self.new_case_number(), matter_code, self.matters[matter_code].name, applicant,
                           delivery_mode, status, now, now, dict(fields or {}), note, kiosk_id)
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

    def refuse(self, number: str, note: str = "材料不符合要求") -> SimCase:
        return self.set_status(number, "REFUSED", note)

    def request_material(self, number: str, note: str = "请补正材料") -> SimCase:
        return self.set_status(number, "NEED_MORE_MATERIAL", note)

    def withdraw(self, number: str) -> SimCase:
        return self.set_status(number, "WITHDRAWN")

    def count_cases(self, kiosk_id: str | None = None) -> int:
        """How many cases exist (filed by that kiosk, when given)."""
        with self.lock:
            return sum(1 for c in self.cases.values() if kiosk_id is None or c.kiosk_id == kiosk_id)

    def _seed(self) -> None:
        # Demo cases: one finished and waiting for the cabinet, one in review, one long delivered.
        first = self.create_case(DEMO_APPLICANT, "GA-HUKOU-CERT", "LOCKER", fields={"purpose": "就业", "copies": "1"})
        self.approve(first.number)
        self.create_case(DEMO_APPLICANT, "RS-SSC-REISSUE", "LOCKER", "IN_REVIEW", fields={"reason": "遗失"})
        self.create_case(DEMO_APPLICANT, "GJJ-DEPOSIT-CERT", "WINDOW", "DELIVERED")
        self.approve(self.create_case(DEMO_APPLICANT_2, "GA-HUKOU-CERT", "LOCKER", fields={"purpose": "入学"}).number)
