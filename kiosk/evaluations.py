"""好差评: a citizen rates a case or a matter (GB/T 39735: 5 very satisfied ... 1 very dissatisfied)."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass

from kiosk.clock import Clock
from kiosk.errors import ValidationError
from kiosk.outbox import enqueue
from kiosk.outbox_sender import OutboxSender
from kiosk.storage.db import Database

log = logging.getLogger(__name__)

RATINGS: dict[int, tuple[str, str]] = {
    5: ("非常满意", "Very satisfied"),
    4: ("满意", "Satisfied"),
    3: ("基本满意", "Fair"),
    2: ("不满意", "Dissatisfied"),
    1: ("非常不满意", "Very dissatisfied"),
}

# The reasons a citizen may tick for a low rating: code -> (Chinese, English). The Chinese text is sent.
REASONS: dict[str, tuple[str, str]] = {
    "too_slow": ("办理时间过长", "It took too long"),
    "unclear_guide": ("办事指南不清楚", "The guidance was unclear"),
    "extra_materials": ("要求提供额外材料", "I was asked for extra materials"),
    "repeat_visits": ("需要多次跑腿", "I had to come back several times"),
    "hard_to_use": ("自助设备不好用", "The kiosk was hard to use"),
    "device_fault": ("设备或系统故障", "The kiosk or system failed"),
    "staff_attitude": ("工作人员态度差", "Staff were unhelpful"),
    "not_handled": ("事项未办成", "My matter was not dealt with"),
    "other": ("其他", "Other"),
}
LOW_RATING = 2  # ratings at or below this need at least one reason
MAX_COMMENT = 500
_CASE_NUMBER = re.compile(r"[0-9A-Z]{12,32}")
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


@dataclass(frozen=True)
class EvaluationQueued:
    """The rating is stored and will reach the platform; its outbox row and requestId."""

    outbox_id: int
    request_id: str


def _invalid(field: str, message: str, key: str) -> ValidationError:
    err = ValidationError(message, field=field)
    err.citizen_key = key
    return err


class EvaluationService:
    """What the UI calls after a session to record a rating."""

    def __init__(self, db: Database, secret: bytes, clock: Clock, sender: OutboxSender | None = None) -> None:
        self.db = db
        self.secret = secret
        self.clock = clock
        self.sender = sender

    def submit(self, rating: int, *, case_number: str | None = None, matter_code: str | None = None,
               reasons: Sequence[str] = (), comment: str | None = None) -> EvaluationQueued:
        """Validate and queue a SubmitEvaluation; raises ValidationError(field=...) for the form."""
        if isinstance(rating, bool) or not isinstance(rating, int) or rating not in RATINGS:
            raise _invalid("rating", "rating: 1 to 5", "error.rating")
        if not case_number and not matter_code:
            raise _invalid("case_number", "rate a case or a matter: neither was given", "error.rating_subject")
        if case_number and not _CASE_NUMBER.fullmatch(case_number):
            raise _invalid("case_number", "case_number: 12-32 of 0-9A-Z", "error.unknown_case")
        codes = list(dict.fromkeys(reasons))  # the UI may send a tick twice
        unknown = [c for c in codes if c not in REASONS]
        if unknown:
            raise _invalid("reasons", f"reasons: unknown code {unknown[0]!r}", "error.rating_reason")
        if rating <= LOW_RATING and not codes:
            raise _invalid("reasons", f"a rating of {rating} needs at least one reason", "error.rating_reason")
        text = (comment or "").strip() or None
        if text is not None and (len(text) > MAX_COMMENT or _NOT_XML.search(text)):
            raise _invalid("comment", f"comment: at most {MAX_COMMENT} characters", "error.field_too_long")
        evaluation = {"rating": rating, "case_number": case_number or None, "matter_code": matter_code or None,
                      "reasons": [REASONS[c][0] for c in codes], "comment": text}
        with self.db.transaction() as s:
            # A free-text comment may hold a phone number or a name: seal it like any personal data.
            msg = enqueue(s, self.clock.now(), "SubmitEvaluation", {"evaluation": evaluation},
                          secret=self.secret, sensitive=text is not None)
            queued = EvaluationQueued(msg.id, msg.request_id)
        if self.sender is not None:
            self.sender.poke()
        return queued
