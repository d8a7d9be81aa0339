"""好差评: a citizen rates a case or a matter (GB/T 39735: 5 very satisfied ... 1 very dissatisfied)."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kiosk import service_requests
from kiosk.applications import validate_applicant
from kiosk.audit import append as audit_append
from kiosk.clock import Clock
from kiosk.errors import PlatformFeatureUnavailable, ValidationError
from kiosk.identity import id_hash
from kiosk.outbox import enqueue
from kiosk.platform_models import Applicant, EvaluationSummary
from kiosk.ports import Platform
from kiosk.privacy import mask_id_number
from kiosk.service_requests import ServiceReceipt
from kiosk.storage.db import Database

if TYPE_CHECKING:  # the sender's tasks read LOW_RATING from here
    from kiosk.outbox_sender import OutboxSender

log = logging.getLogger(__name__)

RATINGS: dict[int, tuple[str, str]] = {
    5: ("非常满意", "Very satisfied"),
    4: ("满意", "Satisfied"),
    3: ("基本满意", "Fair"),
    2: ("不满意", "Dissatisfied"),
    1: ("非常不满意", "Very dissatisfied"),
}

# The reasons a citizen may tick for a low rating: code -> (Chinese, English), as the rating screen shows them
# (ui.locale reads them from here). The Chinese text is sent.
REASONS: dict[str, tuple[str, str]] = {
    "too_slow": ("办理时间过长", "It took too long"),
    "unclear_guide": ("办事指南不清楚", "The guidance was unclear"),
    "extra_materials": ("要求提供额外材料", "Extra materials asked"),
    "repeat_visits": ("需要多次跑腿", "Had to come back"),
    "hard_to_use": ("自助设备不好用", "Kiosk hard to use"),
    "device_fault": ("设备或系统故障", "Kiosk or system failed"),
    "staff_attitude": ("工作人员态度差", "Staff were unhelpful"),
    "not_handled": ("事项未办成", "Matter not dealt with"),
    "other": ("其他", "Other"),
}
LOW_RATING = 2  # ratings at or below this need at least one reason
MAX_COMMENT = 500
_CASE_NUMBER = re.compile(r"[0-9A-Z]{12,32}")
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


# Before 1.1 the runtime sent a rating of the kiosk's own service with this made-up matter code, which no
# catalog has: the platform refused it and it was dropped. It now means what it meant: neither case nor matter.
LEGACY_SELF_SERVICE = "KIOSK-SERVICE"


@dataclass(frozen=True)
class EvaluationQueued:
    """The rating is stored and will reach the platform: its outbox row, requestId and the citizen's receipt."""

    outbox_id: int
    request_id: str
    receipt_number: str = ""
    service_request_id: int | None = None
    anonymous: bool = True


def _invalid(field: str, message: str, key: str) -> ValidationError:
    err = ValidationError(message, field=field)
    err.citizen_key = key
    return err


class EvaluationService:
    """好差评: record a rating (anonymous by the citizen's choice, or identified), list the citizen's ratings
    with the departments' replies, and send the citizen's answer to a reply (the closed loop, 1.1)."""

    def __init__(
        self,
        db: Database,
        secret: bytes,
        clock: Clock,
        sender: OutboxSender | None = None,
        platform: Platform | None = None,
    ) -> None:
        self.db = db
        self.secret = secret
        self.clock = clock
        self.sender = sender
        self.platform = platform if platform is not None else getattr(sender, "platform", None)

    @property
    def v11(self) -> bool:
        return bool(getattr(self.platform, "v11", True))

    @property
    def anonymous_only(self) -> bool:
        """Interface 1.0 carries no applicant on a rating: every rating is anonymous (the screen says so)."""
        return not self.v11

    def submit(
        self,
        rating: int,
        *,
        case_number: str | None = None,
        matter_code: str | None = None,
        reasons: Sequence[str] = (),
        comment: str | None = None,
        applicant: Applicant | None = None,
    ) -> EvaluationQueued:
        """Validate and queue a SubmitEvaluation; raises ValidationError(field=...) for the form.

        Neither case nor matter: a rating of the self-service itself. ``applicant`` None: anonymous (the
        citizen's choice on screen; always so on a kiosk pinned to 1.0, which cannot send it). An identified
        rating is listed later by :meth:`mine`, with the department's reply to a 差评."""
        if isinstance(rating, bool) or not isinstance(rating, int) or rating not in RATINGS:
            raise _invalid("rating", "rating: 1 to 5", "error.rating")
        if matter_code == LEGACY_SELF_SERVICE and not case_number:
            matter_code = None
        if case_number and not _CASE_NUMBER.fullmatch(case_number):
            raise _invalid("case_number", "case_number: 12-32 of 0-9A-Z", "error.unknown_case")
        codes = list(dict.fromkeys(reasons))  # the UI may send a tick twice
        unknown = [c for c in codes if c not in REASONS]
        if unknown:
            raise _invalid("reasons", f"reasons: unknown code {unknown[0]!r}", "error.rating_reason")
        if rating <= LOW_RATING and not codes:
            raise _invalid(
                "reasons", f"a rating of {rating} needs at least one reason", "error.rating_reason"
            )
        text = (comment or "").strip() or None
        if text is not None and (len(text) > MAX_COMMENT or _NOT_XML.search(text)):
            raise _invalid("comment", f"comment: at most {MAX_COMMENT} characters", "error.field_too_long")
        person = validate_applicant(applicant) if applicant is not None and self.v11 else None
        evaluation: dict[str, Any] = {
            "rating": rating,
            "case_number": case_number or None,
            "matter_code": matter_code or None,
            "reasons": [REASONS[c][0] for c in codes],
            "comment": text,
            "applicant": None
            if person is None
            else {
                "id_type": person.id_type,
                "id_number": person.id_number,
                "name": person.name,
                "phone": person.phone,
            },
        }
        now = self.clock.now()
        with self.db.transaction() as s:
            row = service_requests.create(
                s,
                now,
                "rating",
                subject_code=case_number or matter_code,
                subject_name=str(rating),
                applicant_id_hash=id_hash(self.secret, person.id_number) if person else None,
                applicant_id_masked=mask_id_number(person.id_number) if person else None,
            )
            # A comment or an applicant is personal data: sealed like any.
            msg = enqueue(
                s,
                now,
                "SubmitEvaluation",
                {"evaluation": evaluation},
                secret=self.secret,
                sensitive=text is not None or person is not None,
                ref_kind=service_requests.REF_KIND,
                ref_id=row.id,
            )
            queued = EvaluationQueued(
                outbox_id=msg.id,
                request_id=msg.request_id,
                receipt_number=row.receipt_number,
                service_request_id=row.id,
                anonymous=person is None,
            )
        if self.sender is not None:
            self.sender.poke()
        return queued

    def mine(self, id_number: str) -> list[EvaluationSummary]:
        """我的评价: the citizen's identified ratings, status and replies, newest first (live; QueryUnavailable
        when the platform cannot answer, PlatformFeatureUnavailable on a kiosk pinned to 1.0)."""
        from kiosk.platform_queries import ask

        return ask(self.platform, "QueryEvaluations", lambda p: p.query_evaluations(id_number))

    def confirm(
        self,
        listed: EvaluationSummary,
        satisfied: bool,
        comment: str | None = None,
        *,
        applicant: Applicant | None = None,
        send_now: bool = True,
    ) -> ServiceReceipt:
        """The citizen's answer to a department's reply, for an evaluation :meth:`mine` just listed as REPLIED
        (the platform's rule: only after identifying and listing). Queued with a receipt; tried at once."""
        if not self.v11:
            raise PlatformFeatureUnavailable("ConfirmEvaluationReply needs interface 1.1")
        if listed.status != "REPLIED":
            raise _invalid(
                "evaluationId",
                f"evaluation {listed.evaluation_id} is {listed.status}: nothing to answer",
                "error.evaluation_not_replied",
            )
        text = (comment or "").strip() or None
        if text is not None and (len(text) > MAX_COMMENT or _NOT_XML.search(text)):
            raise _invalid("comment", f"comment: at most {MAX_COMMENT} characters", "error.field_too_long")
        person = validate_applicant(applicant) if applicant is not None else None
        now = self.clock.now()
        with self.db.transaction() as s:
            row = service_requests.create(
                s,
                now,
                "confirmation",
                subject_code=listed.evaluation_id,
                subject_name="satisfied" if satisfied else "not_satisfied",
                applicant_id_hash=id_hash(self.secret, person.id_number) if person else None,
                applicant_id_masked=mask_id_number(person.id_number) if person else None,
            )
            msg = enqueue(
                s,
                now,
                "ConfirmEvaluationReply",
                {"evaluation_id": listed.evaluation_id, "satisfied": bool(satisfied), "comment": text},
                secret=self.secret,
                sensitive=text is not None,
                ref_kind=service_requests.REF_KIND,
                ref_id=row.id,
            )
            if self.sender is not None and send_now:
                self.sender.hold(msg)
            audit_append(
                s,
                now,
                "citizen",
                "evaluation.reply_answered",
                f"service_request:{row.id}",
                evaluation_id=listed.evaluation_id,
                satisfied=bool(satisfied),
                receipt=row.receipt_number,
            )
            row_id, msg_id = row.id, msg.id
        return service_requests.send(self.db, self.sender, row_id, msg_id, send_now=send_now)
