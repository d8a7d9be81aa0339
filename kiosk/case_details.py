"""A case's details (interface 1.1): status, why refused or what is missing, the next step, where the result is.

Each row of 我的办件 opens one. From the platform (live, never cached): the
status, ``reason`` (why REFUSED, or what NEED_MORE_MATERIAL needs), ``nextStep``,
``courier`` and ``waybillNumber`` of a mailed result. From this kiosk's own
database: whether the result lies in a compartment, which cabinet and door,
and so whether "去取件" can start here (the citizen picks up with the same card).
A 1.0 platform sends none of the 1.1 details; the screen then shows what it has.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from kiosk.cabinet import states as S
from kiosk.platform_models import CaseSummary
from kiosk.ports import Platform
from kiosk.storage.db import Database
from kiosk.storage.models import Compartment, Parcel

# Cases a citizen may bring more materials for (the drop-off screen lists only these).
OPEN_STATUSES = ("RECEIVED", "IN_REVIEW", "NEED_MORE_MATERIAL")

Where = Literal["cabinet_here", "cabinet_elsewhere", "mailed", "window", "unknown"]


def open_for_materials(cases: Collection[CaseSummary]) -> list[CaseSummary]:
    """The cases still open for more materials, in the platform's order."""
    return [c for c in cases if c.status in OPEN_STATUSES]


@dataclass(frozen=True)
class CaseDetail:
    case: CaseSummary
    where: Where
    cabinet_id: str | None = None
    compartment: str | None = None
    parcel_id: int | None = None

    @property
    def can_pick_up_here(self) -> bool:
        """ "去取件": the result waits in a cabinet of this kiosk, ready for its owner."""
        return self.where == "cabinet_here"

    @property
    def status_key(self) -> str:
        return f"status.{self.case.status}"

    @property
    def where_key(self) -> str:
        """The screen's line about the result: ``case.where.<where>`` (params: cabinet, compartment, courier,
        waybill)."""
        return f"case.where.{self.where}"

    @property
    def where_params(self) -> dict[str, str]:
        c = self.case
        return {
            "cabinet": self.cabinet_id or "",
            "compartment": self.compartment or "",
            "courier": c.courier or "",
            "waybill": c.waybill_number or "",
        }


def detail_of(session: Session, case: CaseSummary, my_cabinets: Collection[str]) -> CaseDetail:
    """One case with where its result is: this kiosk's cabinet (and door), another cabinet, the post, a counter."""
    row = session.execute(
        select(Parcel, Compartment)
        .join(Compartment, Parcel.compartment_id == Compartment.id)
        .where(Parcel.case_number == case.case_number, Parcel.kind == S.RESULT, Parcel.state == S.READY)
        .order_by(Parcel.id.desc())
        .limit(1)
    ).first()
    if row is not None:
        parcel, comp = row
        where: Where = "cabinet_here" if comp.cabinet_id in my_cabinets else "cabinet_elsewhere"
        return CaseDetail(
            case=case, where=where, cabinet_id=comp.cabinet_id, compartment=comp.label, parcel_id=parcel.id
        )
    if case.courier or case.waybill_number or case.delivery_mode == "MAIL":
        return CaseDetail(case=case, where="mailed")
    if case.delivery_mode == "WINDOW" and case.status in ("APPROVED", "READY_FOR_PICKUP"):
        return CaseDetail(case=case, where="window")
    return CaseDetail(case=case, where="unknown")


class CaseService:
    """我的办件 and one case's details, live from the platform with this kiosk's cabinet alongside."""

    def __init__(self, db: Database, platform: Platform | None, my_cabinets: Collection[str]) -> None:
        self.db = db
        self.platform = platform
        self.my_cabinets = frozenset(my_cabinets)

    def mine(self, id_number: str) -> list[CaseDetail]:
        """The citizen's cases, newest first; QueryUnavailable (with when the platform last answered) when down."""
        from kiosk.platform_queries import ask

        cases = ask(self.platform, "QueryCases", lambda p: p.query_cases(applicant_id_number=id_number))
        with self.db.transaction() as s:
            return [detail_of(s, c, self.my_cabinets) for c in cases]

    def one(self, case_number: str) -> CaseDetail:
        from kiosk.platform_queries import ask

        (case,) = ask(self.platform, "QueryCases", lambda p: p.query_cases(case_number=case_number))
        with self.db.transaction() as s:
            return detail_of(s, case, self.my_cabinets)
