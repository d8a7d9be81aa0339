"""Personal data masked in one place: named maskers, the text patterns they look for, one composable redactor.

Maskers of a single value (the card holder's ID number, name, a phone, a pickup code, a badge UID) keep what a
person needs to recognise their own data and nothing more. Text maskers find those shapes in free text (a log
line, a platform's message, a note staff typed) and mask them; a :class:`Redactor` chains text maskers and known
secrets. The log filter, the audit chain, staff tasks, the platform exchange history, the support bundle and the
screens all use these; a test keeps every ID-number or phone pattern and every masking function in this module.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from typing import Any

from kiosk.printable import printable

# --- the shapes (one fact each) ---------------------------------------------------------------------------------

# A resident ID number: 6 digits of region, 8 of birth date (6 in the old 15-digit form), 3 of sequence, a check
# character (a digit or X). The groups are what a masked form keeps: region, hidden middle, last four.
_ID_BODY = r"(\d{6})(\d{8}|\d{5})(\d{3}[0-9Xx])"
# Standing alone: not glued to letters or digits (a case number such as ZW20261125000001 is left alone).
ID_NUMBER_ALONE = re.compile(rf"(?<![0-9A-Za-z]){_ID_BODY}(?![0-9A-Za-z])")
# Anywhere not inside a longer digit run, even glued to letters ("ID110105199001011232"): for text a person or a
# platform wrote, where a case number would not follow.
ID_NUMBER_ANYWHERE = re.compile(rf"(?<![0-9]){_ID_BODY}(?![0-9])")
# A mainland mobile number (11 digits, 1[3-9] first): the platform's rule, for validation as a whole string.
MOBILE_PATTERN = r"1[3-9][0-9]{9}"
MOBILE = re.compile(MOBILE_PATTERN)
# Mainland mobile, or a landline with its area code; an optional +86 (a form's PHONE field).
PHONE = re.compile(rf"(\+?86[- ]?)?({MOBILE_PATTERN}|0[0-9]{{2,3}}-?[0-9]{{7,8}})")
_MOBILE_IN_TEXT = re.compile(r"(?<![0-9])(1[3-9][0-9])([0-9]{4})([0-9]{4})(?![0-9])")
# A standalone run of 6+ digits may be a phone number or a pickup code; case numbers (letters first), dates and
# masked numbers (next to "*") do not match.
_LONG_DIGITS = re.compile(r"(?<![0-9A-Za-z*])[0-9]{6,}(?![0-9A-Za-z*])")
# The same, typed with spaces, dashes or dots between the digits ("138 1234 5678").
_SPACED_DIGITS = re.compile(r"(?<![0-9A-Za-z*])[0-9](?:[ \-.]?[0-9]){5,}(?![0-9A-Za-z*])")
# A password inside a URL (postgresql://user:PASSWORD@host/db).
URL_PASSWORD = re.compile(r"(?P<pre>[a-z][a-z0-9+.\-]*://[^:/@\s]+:)(?P<pw>[^@\s]+)(?P<post>@)", re.I)
# A pickup code (6-10 digits) named as one: "pickup code: 482913", "code=482913", '"code": "482913"', "取件码为482913".
# A code is only a number, so it can only be told from other numbers by what the text calls it.
_PICKUP_CODE = re.compile(
    r"(?P<pre>(?:\bcode\b|取件码|提取码|取件密码|验证码)[^0-9\n]{0,16}?)(?<!\d)(?P<code>\d{6,10})(?!\d)", re.I
)
_NAME_SPACE = " \t\r\n\x00\u3000"


# --- maskers of one value ---------------------------------------------------------------------------------------


def mask_id_number(number: str) -> str:
    """``110105********1234``: first six and last four kept."""
    if len(number) <= 10:
        return "*" * len(number)
    return number[:6] + "*" * (len(number) - 10) + number[-4:]


def mask_name(name: str) -> str:
    """``张*三`` for 3 characters, ``张*`` for 2, ``欧**峰`` for 4; Latin names keep the first letters of each word."""
    name = name.strip(_NAME_SPACE)
    if not name:
        return ""
    if name.isascii():
        # "John SMITH" -> "J*** S****": each word keeps its initial, a hyphenated part is its own word.
        return " ".join("-".join(p[:1] + "*" * (len(p) - 1) for p in w.split("-")) for w in name.split())
    if len(name) == 1:
        return "*"
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def mask_phone(phone: str) -> str:
    """``138****5678``: the first three and last four kept; seven characters or fewer are all starred."""
    return phone[:3] + "*" * max(len(phone) - 7, 0) + phone[-4:] if len(phone) > 7 else "*" * len(phone)


def mask_pickup_code(code: str) -> str:
    """A pickup code opens a door: nothing of it is kept, only its length."""
    return "*" * len(code)


def mask_uid(uid: str) -> str:
    """A staff badge UID opens staff screens: only its last four characters are kept."""
    return "*" * max(len(uid) - 4, 0) + uid[-4:]


def mask_digits(text: str) -> str:
    """Every digit starred, the rest (spaces, dashes) kept: a digit run whose meaning is unknown."""
    return re.sub(r"[0-9]", "*", text)


# --- text maskers: find a shape in free text and mask it --------------------------------------------------------

TextMasker = Callable[[str], str]


def _masked_id(m: re.Match[str]) -> str:
    return m.group(1) + "*" * len(m.group(2)) + m.group(3)[-4:]


def id_numbers(text: str) -> str:
    """Every ID number standing alone, masked."""
    return ID_NUMBER_ALONE.sub(_masked_id, text)


def id_numbers_anywhere(text: str) -> str:
    """Every ID number not inside a longer digit run, even glued to letters, masked."""
    return ID_NUMBER_ANYWHERE.sub(_masked_id, text)


def mobiles(text: str) -> str:
    """Every mobile number standing alone as ``138****0000``."""
    return _MOBILE_IN_TEXT.sub(lambda m: m.group(1) + "****" + m.group(3), text)


def digit_runs(text: str) -> str:
    """Every standalone run of six or more digits starred."""
    return _LONG_DIGITS.sub(lambda m: mask_digits(m.group()), text)


def spaced_digit_runs(text: str) -> str:
    """Every run of six or more digits, spaces, dashes or dots between them allowed, starred."""
    return _SPACED_DIGITS.sub(lambda m: mask_digits(m.group()), text)


def pickup_codes(text: str) -> str:
    """Every number the text calls a pickup code (or 取件码, 验证码 ...) starred."""
    return _PICKUP_CODE.sub(lambda m: m.group("pre") + mask_pickup_code(m.group("code")), text)


def url_passwords(text: str) -> str:
    """The password part of every ``scheme://user:password@host`` dropped."""
    return URL_PASSWORD.sub(r"\g<pre>[redacted]\g<post>", text)


def name(person_name: str | None) -> TextMasker:
    """A text masker for one known name (two characters or more): each occurrence in its masked form."""
    n = (person_name or "").strip()
    if len(n) < 2:
        return lambda text: text
    masked = mask_name(n)
    return lambda text: text.replace(n, masked)


# --- the redactor -----------------------------------------------------------------------------------------------


class Redactor:
    """Known secrets removed, then each text masker applied in order; callable on text, ``value`` on JSON-like data."""

    def __init__(self, *maskers: TextMasker, secrets: Iterable[str] = (), keys: bool = False) -> None:
        self.maskers = maskers
        # Longest first, so a secret that contains another is replaced whole.
        self.secrets = sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True)
        self.keys = (
            keys  # whether dict keys are redacted too (a support bundle's are; the audit's are field names)
        )

    def __call__(self, text: str) -> str:
        for s in self.secrets:
            text = text.replace(s, "[redacted]")
        for mask in self.maskers:
            text = mask(text)
        return text

    def value(self, v: Any) -> Any:
        """Every string inside a JSON-like value redacted, leaving its structure and numbers intact."""
        if isinstance(v, str):
            return self(v)
        if isinstance(v, dict):
            return {(self(str(k)) if self.keys else k): self.value(x) for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return [self.value(x) for x in v]
        return v

    def with_secrets(self, secrets: Iterable[str]) -> Redactor:
        return Redactor(*self.maskers, secrets=secrets, keys=self.keys)


# The redactors the kiosk uses, by where the text goes.
LOG = Redactor(id_numbers)  # logs, the audit chain, the exchange history: the last line of defence
PLATFORM_REASON = Redactor(id_numbers, digit_runs)  # a platform's message kept in a staff task
TYPED = Redactor(id_numbers, digit_runs, spaced_digit_runs)  # free text a person typed, for the audit chain
SCREEN = Redactor(id_numbers_anywhere)  # a platform's message shown on a screen
SUPPORT = Redactor(
    url_passwords, id_numbers, id_numbers_anywhere, mobiles, pickup_codes, keys=True
)  # + secrets

AUDIT_TEXT_MAX = 40


def scrub(text: str) -> str:
    """Every ID-number-shaped run standing alone, masked (logs, audit, history)."""
    return LOG(text)


def scrub_value(value: object) -> object:
    return LOG.value(value)


def ticket_text(text: str, applicant_name: str | None) -> str:
    """12345 ticket text as the platform returns it: ID numbers, mobile numbers and the applicant's name masked."""
    return Redactor(id_numbers, mobiles, name(applicant_name))(text)


def mask_mobiles(text: str) -> str:
    """Every mobile number in free text as ``138****0000``."""
    return mobiles(text)


def audit_text(text: str) -> str | None:
    """Free text a person typed, fit for the append-only audit chain (where nothing can be scrubbed later): ID
    numbers masked, phone-like digit runs starred, whitespace collapsed, at most AUDIT_TEXT_MAX characters."""
    # Control, bidi and zero-width characters stored escaped (kiosk.printable), visibly, never obeyed.
    t = TYPED(printable(" ".join(text.split())))
    return (t if len(t) <= AUDIT_TEXT_MAX else t[: AUDIT_TEXT_MAX - 1] + "…") or None


class ScrubbingFilter(logging.Filter):
    """Masks ID numbers in every log record, whatever a caller passed in."""

    def filter(self, record: logging.LogRecord) -> bool:
        msg = record.getMessage()
        clean = scrub(msg)
        if clean != msg:
            record.msg = clean
            record.args = None
        return True
