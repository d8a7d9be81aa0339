"""Receipt texts (kiosk/receipts.py) and the drop-off's open-case rule (kiosk/case_details.py): pure rules."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from kiosk.applications import Receipt
from kiosk.case_details import open_for_materials
from kiosk.config import KioskSection, load_config
from kiosk.platform_models import CaseSummary
from kiosk.receipts import RULE, dropoff_lines, submission_lines, ticket_lines
from kiosk.service_requests import ServiceReceipt
from tests.support.config import write_config

T = dt.datetime(2026, 3, 4, 9, 30)


@pytest.fixture
def k(tmp_path: Path) -> KioskSection:
    return load_config(write_config(tmp_path, kiosk={"hall": "测试大厅", "hall_en": "Test Hall"})).kiosk


def _receipt(**kw: object) -> Receipt:
    base: dict[str, object] = {
        "submission_id": 1,
        "receipt_number": "R-1",
        "matter_code": "M1",
        "matter_name": "事项",
        "applicant_id_masked": "1101********1234",
        "delivery_mode": "window",
        "state": "filed",
        "created_at": T,
        "applicant_name_masked": "张*",
    }
    return Receipt(**{**base, **kw})  # type: ignore[arg-type]


def test_submission_lines_with_and_without_a_case_number(k: KioskSection) -> None:
    filed = submission_lines(k, _receipt(case_number="C-9", promised_date="2026-03-10"), T)
    assert filed[:3] == ["测试大厅", "Test Hall", RULE]
    assert "办件编号 Case: C-9" in filed
    assert "承诺办结 Promised: 2026-03-10" in filed
    assert filed[-1] == "2026-03-04 09:30"
    queued = submission_lines(k, _receipt(state="queued"), T)
    assert not any(x.startswith("办件编号") or x.startswith("承诺办结") for x in queued)
    assert _receipt(state="queued").text[0] in queued


def test_dropoff_lines_name_the_door_and_receipt(k: KioskSection) -> None:
    assert dropoff_lines(k, "A01", "D-7", T) == [
        "测试大厅",
        "Test Hall",
        RULE,
        "材料已投递 Materials dropped off",
        "柜门 Compartment: A01",
        "回执 Receipt: D-7",
        "2026-03-04 09:30",
    ]


@pytest.mark.parametrize(
    ("reference", "detail", "extra"),
    [
        (None, {}, []),
        ("T-5", {}, ["诉求编号 Ticket: T-5"]),
        (
            "T-5",
            {"promised_reply_days": 5},
            ["诉求编号 Ticket: T-5", "5 个工作日内答复 Reply within 5 working days"],
        ),
    ],
)
def test_ticket_lines(
    k: KioskSection, reference: str | None, detail: dict[str, object], extra: list[str]
) -> None:
    r = ServiceReceipt(
        id=1,
        receipt_number="S-1",
        kind="ticket",
        state="queued",
        created_at=T,
        reference=reference,
        detail=detail,
    )
    assert ticket_lines(k, r) == [
        "测试大厅",
        "Test Hall",
        RULE,
        "12345 诉求 Hotline request",
        "回执 Receipt: S-1",
        *extra,
    ]


def test_an_empty_english_hall_name_is_left_out(tmp_path: Path) -> None:
    k = load_config(write_config(tmp_path, kiosk={"hall": "测试大厅", "hall_en": ""})).kiosk
    assert dropoff_lines(k, "A01", "D-7", T)[:2] == ["测试大厅", RULE]


@pytest.mark.parametrize(
    ("status", "open_"),
    [
        ("RECEIVED", True),
        ("IN_REVIEW", True),
        ("NEED_MORE_MATERIAL", True),
        ("APPROVED", False),
        ("REFUSED", False),
        ("READY_FOR_PICKUP", False),
        ("DELIVERED", False),
        ("WITHDRAWN", False),
    ],
)
def test_open_for_materials(status: str, open_: bool) -> None:
    case = CaseSummary("C-1", "M1", "事项", status, T)  # type: ignore[arg-type]
    assert open_for_materials([case]) == ([case] if open_ else [])
