"""What a printed receipt says: the lines for an application, a drop-off and a 12345 hotline request.

Pure text rules (no printer, no clock reads): the runtime passes the local time to print and hands the lines to
the printer. Kept here, not in the runtime, so the wording has one owner the tests can read directly.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from kiosk.config import KioskSection

if TYPE_CHECKING:  # the services import SQLAlchemy: the runtime imports this module before the first frame
    from kiosk.applications import Receipt
    from kiosk.service_requests import ServiceReceipt

RULE = "-" * 24


def _header(k: KioskSection) -> list[str]:
    return [k.hall, k.hall_en, RULE]


def submission_lines(k: KioskSection, r: Receipt, created_local: dt.datetime) -> list[str]:
    """An application's receipt; ``created_local``: its creation time in the hall's time zone."""
    lines = [
        *_header(k),
        f"事项 Matter: {r.matter_name}",
        f"申请人 Applicant: {r.applicant_name_masked}",
        f"证件 ID: {r.applicant_id_masked}",
        f"回执 Receipt: {r.receipt_number}",
    ]
    if r.case_number:
        lines.append(f"办件编号 Case: {r.case_number}")
    if r.promised_date:
        lines.append(f"承诺办结 Promised: {r.promised_date}")
    lines += [r.text[0], r.text[1], f"{created_local:%Y-%m-%d %H:%M}"]
    return [x for x in lines if x]


def dropoff_lines(k: KioskSection, label: str, receipt_number: str, now_local: dt.datetime) -> list[str]:
    """A drop-off's receipt: the door and the receipt number."""
    lines = [
        *_header(k),
        "材料已投递 Materials dropped off",
        f"柜门 Compartment: {label}",
        f"回执 Receipt: {receipt_number}",
        f"{now_local:%Y-%m-%d %H:%M}",
    ]
    return [x for x in lines if x]


def ticket_lines(k: KioskSection, r: ServiceReceipt) -> list[str]:
    """A 12345 hotline request's receipt, with the promised reply time when the platform gave one."""
    lines = [*_header(k), "12345 诉求 Hotline request", f"回执 Receipt: {r.receipt_number}"]
    if r.reference:
        lines.append(f"诉求编号 Ticket: {r.reference}")
    days = r.detail.get("promised_reply_days")
    if days:
        lines.append(f"{days} 个工作日内答复 Reply within {days} working days")
    return [x for x in lines if x]
