"""12345 consultations and complaints (interface 1.1): file a ticket through the outbox, list "我的诉求".

Kinds: 咨询 CONSULT, 投诉 COMPLAINT, 建议 SUGGESTION, 表扬 PRAISE, 举报 REPORT. The
content (1-500 characters, not blank) is written by handwriting, pinyin or a
common topic (:data:`TOPICS`); the phone (a mobile) is where the reply and the
12345 centre's callback go; a ticket may name a case or a matter (from a case's
details). Identified tickets carry the applicant and are listed by QueryTickets;
an anonymous one is followed by its number only. The citizen leaves with a
receipt number at once; the ticket number follows when the platform answers.

Personal data: the text and the phone ride sealed in the outbox payload and
are scrubbed once sent; the kiosk keeps neither. The list comes from the
platform each time (masked by it), never from a cache.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kiosk import service_requests
from kiosk.applications import _invalid, validate_applicant
from kiosk.audit import append as audit_append
from kiosk.clock import Clock
from kiosk.errors import PlatformFeatureUnavailable
from kiosk.identity import id_hash
from kiosk.outbox import enqueue
from kiosk.outbox_sender import OutboxSender
from kiosk.platform_models import TICKET_KINDS, Applicant, Ticket, TicketKind
from kiosk.ports import Platform
from kiosk.privacy import MOBILE, mask_id_number
from kiosk.service_requests import ServiceReceipt
from kiosk.storage.db import Database

MAX_CONTENT = 500
_CASE_NUMBER = re.compile(r"[0-9A-Z]{12,32}")
_TICKET_NUMBER = re.compile(r"[0-9A-Z]{8,32}")
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")

# Common topics a citizen can tap instead of writing: code -> (Chinese text sent, English label).
TOPICS: dict[str, tuple[str, str]] = {
    "progress": ("咨询办件进度", "Ask about a case's progress"),
    "materials": ("咨询需要准备哪些材料", "Ask which materials are needed"),
    "waiting": ("办事等待时间过长", "The wait was too long"),
    "repeat": ("多次往返仍未办成", "Came back several times, still not done"),
    "attitude": ("工作人员服务态度问题", "Staff attitude"),
    "kiosk": ("自助设备使用问题", "A problem with the kiosk"),
    "suggest": ("对办事流程的建议", "A suggestion about the procedure"),
    "thanks": ("表扬工作人员", "Praise for the staff"),
}


@dataclass(frozen=True)
class TicketDraft:
    """What the citizen filled in, checked (:func:`validate_ticket`)."""

    kind: TicketKind
    phone: str
    content: str
    case_number: str | None = None
    matter_code: str | None = None

    def __repr__(self) -> str:
        return f"TicketDraft(kind={self.kind!r}, case_number={self.case_number!r}, <redacted>)"


def compose(topics: list[str], text: str | None) -> str:
    """The ticket text from the tapped topics and what the citizen wrote (either may be empty)."""
    parts = [TOPICS[t][0] for t in dict.fromkeys(topics) if t in TOPICS]
    written = (text or "").strip()
    return "；".join(parts + ([written] if written else []))


def validate_ticket(
    kind: str,
    phone: str | None,
    content: str | None,
    *,
    case_number: str | None = None,
    matter_code: str | None = None,
) -> TicketDraft:
    """The platform's rules, locally; ValidationError names the request element (``kind``, ``phone``, ``content``)."""
    if kind not in TICKET_KINDS:
        raise _invalid("kind", f"kind: one of {', '.join(TICKET_KINDS)}", "error.ticket_kind")
    number = (phone or "").strip().replace(" ", "").replace("-", "")
    if not MOBILE.fullmatch(number):
        raise _invalid("phone", "phone: a mobile number for the reply and the callback", "error.ticket_phone")
    text = (content or "").strip()
    if not text:
        raise _invalid("content", "content: required", "error.ticket_content")
    if len(text) > MAX_CONTENT or _NOT_XML.search(text):
        raise _invalid("content", f"content: at most {MAX_CONTENT} characters", "error.ticket_too_long")
    if case_number and not _CASE_NUMBER.fullmatch(case_number):
        raise _invalid("caseNumber", "caseNumber: 12-32 of 0-9A-Z", "error.unknown_case")
    return TicketDraft(
        kind=kind,
        phone=number,
        content=text,
        case_number=case_number or None,
        matter_code=matter_code or None,
    )  # type: ignore[arg-type]


class TicketService:
    """File a 12345 ticket (outbox, receipt) and list a citizen's tickets (live from the platform)."""

    def __init__(
        self,
        db: Database,
        secret: bytes,
        clock: Clock,
        sender: OutboxSender | None = None,
        platform: Platform | None = None,
        *,
        actor: str = "kiosk",
    ) -> None:
        self.db = db
        self.secret = secret
        self.clock = clock
        self.sender = sender
        self.platform = platform if platform is not None else getattr(sender, "platform", None)
        self.actor = actor

    @property
    def v11(self) -> bool:
        return bool(getattr(self.platform, "v11", True))

    def submit(
        self, draft: TicketDraft, applicant: Applicant | None = None, *, send_now: bool = True
    ) -> ServiceReceipt:
        """Queue SubmitHotlineTicket with a receipt and try it at once; ``applicant`` None: anonymous."""
        if not self.v11:
            raise PlatformFeatureUnavailable("SubmitHotlineTicket needs interface 1.1")
        person = validate_applicant(applicant) if applicant is not None else None
        now = self.clock.now()
        with self.db.transaction() as s:
            row = service_requests.create(
                s,
                now,
                "ticket",
                subject_code=draft.kind,
                subject_name=draft.case_number or draft.matter_code,
                applicant_id_hash=id_hash(self.secret, person.id_number) if person else None,
                applicant_id_masked=mask_id_number(person.id_number) if person else None,
            )
            payload = {
                "ticket": {
                    "kind": draft.kind,
                    "phone": draft.phone,
                    "content": draft.content,
                    "case_number": draft.case_number,
                    "matter_code": draft.matter_code,
                    "applicant": None
                    if person is None
                    else {
                        "id_type": person.id_type,
                        "id_number": person.id_number,
                        "name": person.name,
                        "phone": person.phone,
                    },
                }
            }
            msg = enqueue(
                s,
                now,
                "SubmitHotlineTicket",
                payload,
                secret=self.secret,
                sensitive=True,
                ref_kind=service_requests.REF_KIND,
                ref_id=row.id,
            )
            if self.sender is not None and send_now:
                self.sender.hold(msg)
            audit_append(
                s,
                now,
                self.actor,
                "ticket.queued",
                f"service_request:{row.id}",
                kind=draft.kind,
                receipt=row.receipt_number,
                outbox_id=msg.id,
                anonymous=person is None,
                case_number=draft.case_number,
                matter_code=draft.matter_code,
            )
            row_id, msg_id = row.id, msg.id
        del payload
        return service_requests.send(self.db, self.sender, row_id, msg_id, send_now=send_now)

    def mine(self, id_number: str) -> list[Ticket]:
        """我的诉求: a citizen's tickets with status and reply, newest first (raises when the platform cannot
        answer: see :mod:`kiosk.platform_queries`)."""
        from kiosk.platform_queries import ask

        return ask(self.platform, "QueryTickets", lambda p: p.query_tickets(applicant_id_number=id_number))

    def one(self, ticket_number: str) -> Ticket:
        """One ticket by its number (an anonymous one is followed this way); UNKNOWN_TICKET for none."""
        from kiosk.platform_queries import ask

        number = ticket_number.strip().upper()
        if not _TICKET_NUMBER.fullmatch(number):
            raise _invalid("ticketNumber", "ticket number: 8-32 of 0-9A-Z", "error.unknown_ticket")
        return ask(self.platform, "QueryTickets", lambda p: p.query_tickets(ticket_number=number))[0]
