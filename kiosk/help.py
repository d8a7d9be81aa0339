"""Help that answers: the one service behind every "呼叫帮助 / Get help" button.

A tap raises a **help request**: a staff task of its own kind (``help_request``) in the hall's database,
naming the kiosk, the screen and the topic, never the person (no name, no ID number, no code). Staff see
it at once on the staff screen, in ``kiosk cabinet tasks`` and in the hall console. Then the platform is
asked (RequestAssistance, :func:`kiosk.assistance.request_assistance`, bounded by the client's timeout);
its answer (who comes, how, how long) is shown, or, when it cannot answer, the hall hotline: the local
request stands either way. A second tap on the same kiosk and screen while a request is still open
does not raise another task (an anxious citizen taps several times); it is answered again.

Out of staffed hours the screen says plainly what happens next: nobody is in the hall; the request is
recorded for the morning; for anything urgent call the hall hotline or 12345.

Other parts plug in here: the platform-assistance call (:mod:`kiosk.assistance`) and the hall console
read the same tasks.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import select

from kiosk.assistance import HelpAnswer, request_assistance
from kiosk.audit import append as audit
from kiosk.clock import Clock, StaffedHours, local
from kiosk.platform_models import AssistTopic
from kiosk.ports import Platform
from kiosk.storage.db import Database
from kiosk.storage.models import StaffTask

log = logging.getLogger(__name__)

TASK_HELP_REQUEST = "help_request"
CITY_HOTLINE = "12345"  # the national government service hotline, answered day and night
REPEAT_WINDOW = dt.timedelta(minutes=10)  # taps within this, while the request is open, are one request
_SCREEN = re.compile(r"[a-z0-9_]{1,32}")

# Which platform topic each screen's trouble is about; any screen not named here is OTHER.
TOPIC_OF_SCREEN: dict[str, AssistTopic] = {
    "pickup": "PICKUP",
    "door": "PICKUP",
    "dropoff": "PICKUP",
    "card_away": "PICKUP",
    "matters": "FILING",
    "form": "FILING",
    "review": "FILING",
    "result": "FILING",
    "cases": "FILING",
    "identify": "OTHER",
    "start": "OTHER",
    "rate": "OTHER",
}


Phase = Literal["staffed", "night"]


@dataclass(frozen=True)
class HelpOutcome:
    """What the help screen shows: the local request, the platform's answer, and whether staff are in."""

    task_id: int
    repeated: bool  # an open request from this kiosk and screen was answered again, no new task
    answer: HelpAnswer
    phase: Phase
    hall_hotline: str
    city_hotline: str = CITY_HOTLINE

    @property
    def hotline(self) -> str:
        """The number to show first: the hall's, else the platform's answer's."""
        return self.hall_hotline or self.answer.hotline


class HelpService:
    """Raises help requests (staff tasks of kind ``help_request``) and asks the platform for assistance."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        *,
        kiosk_id: str,
        hall_hotline: str,
        hours: StaffedHours,
        platform: Platform | None,
    ) -> None:
        self.db = db
        self.clock = clock
        self.kiosk_id = kiosk_id
        self.hall_hotline = hall_hotline
        self.hours = hours
        self.platform = platform

    def phase(self) -> Phase:
        return "staffed" if self.hours.staffed(local(self.clock)) else "night"

    def request_help(
        self,
        screen: str,
        *,
        language: str | None = None,
        topic: AssistTopic | None = None,
        case_number: str | None = None,
        matter_code: str | None = None,
    ) -> HelpOutcome:
        """Raise (or repeat) the request, then ask the platform; blocks for at most the platform's timeout."""
        task_id, repeated = self.raise_request(screen, topic)
        answer = request_assistance(
            self.platform,
            topic or TOPIC_OF_SCREEN.get(screen, "OTHER"),
            case_number=case_number,
            matter_code=matter_code,
            language=language,
            fallback_hotline=self.hall_hotline or CITY_HOTLINE,
        )
        with self.db.transaction() as s:
            audit(
                s,
                self.clock.now(),
                "citizen",
                "help.answered",
                f"task {task_id}",
                reached=answer.reached,
                mode=answer.mode,
                assistance=answer.assistance_id,
            )
        return HelpOutcome(
            task_id=task_id,
            repeated=repeated,
            answer=answer,
            phase=self.phase(),
            hall_hotline=self.hall_hotline,
        )

    def raise_request(self, screen: str, topic: AssistTopic | None = None) -> tuple[int, bool]:
        """The staff task for a help request from ``screen``: (task id, whether an open one was reused)."""
        screen = screen if _SCREEN.fullmatch(screen or "") else "other"
        topic = topic or TOPIC_OF_SCREEN.get(screen, "OTHER")
        detail = f"kiosk {self.kiosk_id}, screen {screen}, topic {topic}"
        now = self.clock.now()
        with self.db.transaction() as s:
            open_one = (
                s.execute(
                    select(StaffTask)
                    .where(
                        StaffTask.kind == TASK_HELP_REQUEST,
                        StaffTask.resolved_at.is_(None),
                        StaffTask.detail == detail,
                        StaffTask.created_at >= now - REPEAT_WINDOW,
                    )
                    .order_by(StaffTask.id.desc())
                )
                .scalars()
                .first()
            )
            if open_one is not None:
                audit(
                    s,
                    now,
                    "citizen",
                    "help.repeated",
                    f"task {open_one.id}",
                    kiosk=self.kiosk_id,
                    screen=screen,
                )
                return open_one.id, True
            task = StaffTask(kind=TASK_HELP_REQUEST, detail=detail, created_at=now)
            s.add(task)
            s.flush()
            audit(
                s,
                now,
                "citizen",
                "help.requested",
                f"task {task.id}",
                kiosk=self.kiosk_id,
                screen=screen,
                topic=topic,
            )
            log.info("help requested at %s (screen %s): task %d", self.kiosk_id, screen, task.id)
            return task.id, False
