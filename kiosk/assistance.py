"""帮办代办 (interface 1.1): a staff member files with or for a citizen, and the "Get help" call to the platform.

Filing with help: a staff member signed in with their badge (and PIN) starts
帮办; the citizen identifies with their own card (the case stays theirs); staff
fill the form with them; the citizen confirms consent on screen. The filing
carries ``assistedBy`` (staff id, ``ON_SITE`` or ``PROXY``, consent), and the
kiosk audits it. A staff id comes from the configuration's ``[[staff]]`` list,
one per badge (:func:`staff_member`); a hall staff directory can replace it
later, the identity stays one.

Getting help: :func:`request_assistance` is the port the help service (the
citizen-experience work's "Get help" button) calls. It asks the platform
synchronously, bounded by the client's own timeout, and always returns
something to show: the platform's answer (mode, message, hotline, expected
wait), or, when the platform cannot be reached or the kiosk speaks 1.0, the
configured hotline; the local help request the help service raised stands
either way.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from kiosk.config import Config
from kiosk.errors import PlatformError, ValidationError
from kiosk.platform_models import Assistant, AssistMode, AssistTopic
from kiosk.ports import Platform

log = logging.getLogger(__name__)

STAFF_ID = re.compile(r"[A-Za-z0-9\-]{2,32}")
FILING_MODES: tuple[AssistMode, ...] = ("ON_SITE", "PROXY")  # what a staff member at the kiosk does
DEFAULT_HOTLINE = "12345"


@dataclass(frozen=True)
class StaffMember:
    """One staff identity: the staff id (sent and audited) and the badge it signs in with."""

    staff_id: str
    badge_uid: str

    @property
    def actor(self) -> str:
        """How the audit names them."""
        return f"staff:{self.staff_id}"


def staff_member(cfg: Config, badge_uid: str | None) -> StaffMember | None:
    """The staff member a badge belongs to ([[staff]] in the config); None: no staff id for this badge."""
    staff_id = cfg.staff_id_of(badge_uid)
    return None if staff_id is None else StaffMember(staff_id=staff_id, badge_uid=(badge_uid or "").upper())


def _invalid(field: str, message: str, key: str) -> ValidationError:
    err = ValidationError(message, field=field)
    err.citizen_key = key
    return err


def assisted_filing(staff: StaffMember | str, mode: str, consent_recorded: bool) -> Assistant:
    """The ``assistedBy`` of a filing, checked as the platform checks it: 代办 (PROXY) needs the citizen's consent.

    ValidationError names the platform's own paths (``assistedBy.consentRecorded``, ``assistedBy.staffId``,
    ``assistedBy.mode``) so a local refusal and the platform's INVALID_FIELD land on the same place."""
    staff_id = staff.staff_id if isinstance(staff, StaffMember) else staff
    if not STAFF_ID.fullmatch(staff_id or ""):
        raise _invalid("assistedBy.staffId", "staff id: 2-32 of A-Z a-z 0-9 -", "error.assist_staff")
    if mode not in FILING_MODES:
        raise _invalid(
            "assistedBy.mode", f"mode {mode!r}: ON_SITE or PROXY at the kiosk", "error.assist_staff"
        )
    if mode == "PROXY" and not consent_recorded:
        raise _invalid(
            "assistedBy.consentRecorded",
            "代办 needs the citizen's consent, confirmed on screen",
            "error.assist_consent",
        )
    return Assistant(staff_id=staff_id, mode=mode, consent_recorded=bool(consent_recorded))  # type: ignore[arg-type]


# --- "Get help": RequestAssistance --------------------------------------------------------------------------------
@dataclass(frozen=True)
class HelpAnswer:
    """What the help screen shows. ``reached`` False: the platform could not answer; show ``hotline``."""

    reached: bool
    hotline: str
    mode: AssistMode | None = None
    message: str | None = None
    expected_wait_minutes: int | None = None
    assistance_id: str | None = None
    why_not: str | None = None  # for the log: what failed

    @property
    def text_key(self) -> str:
        """The catalogue key of the screen's headline: ``help.mode.<MODE>`` or ``help.unreachable``."""
        return f"help.mode.{self.mode}" if self.reached and self.mode else "help.unreachable"


def _language(lang: str | None) -> str | None:
    """The kiosk's UI language as an xs:language tag (zh -> zh-CN)."""
    if not lang:
        return None
    return {"zh": "zh-CN", "en": "en"}.get(lang, lang)


def request_assistance(
    platform: Platform | None,
    topic: AssistTopic,
    *,
    case_number: str | None = None,
    matter_code: str | None = None,
    language: str | None = None,
    fallback_hotline: str = DEFAULT_HOTLINE,
) -> HelpAnswer:
    """Ask the platform for help now (bounded by the client's timeout); never raises for the platform's sake."""
    if platform is None or not getattr(platform, "v11", True):
        return HelpAnswer(
            reached=False, hotline=fallback_hotline, why_not="interface 1.0: no RequestAssistance"
        )
    try:
        got = platform.request_assistance(
            topic, case_number=case_number, matter_code=matter_code, language=_language(language)
        )
    except PlatformError as err:
        log.warning(
            "RequestAssistance (%s) failed: %s; showing the hotline %s", topic, err.message, fallback_hotline
        )
        return HelpAnswer(reached=False, hotline=fallback_hotline, why_not=err.message)
    return HelpAnswer(
        reached=True,
        hotline=got.hotline or fallback_hotline,
        mode=got.mode,
        message=got.message,
        expected_wait_minutes=got.expected_wait_minutes,
        assistance_id=got.assistance_id,
    )
