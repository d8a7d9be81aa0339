"""Last line of defence for personal data in logs and audit details."""

from __future__ import annotations

import logging
import re

# An 18-character resident ID number (or a 15-digit old one) standing alone.
_ID_RE = re.compile(r"(?<![0-9A-Za-z])(\d{6})(\d{8}|\d{5})(\d{3}[0-9Xx])(?![0-9A-Za-z])")


def scrub(text: str) -> str:
    """Replace every ID-number-shaped run with its masked form."""
    return _ID_RE.sub(lambda m: m.group(1) + "*" * len(m.group(2)) + m.group(3)[-4:], text)


# A mainland mobile number standing alone (11 digits, 1[3-9] first).
_MOBILE_RE = re.compile(r"(?<![0-9])(1[3-9][0-9])([0-9]{4})([0-9]{4})(?![0-9])")


def mask_mobiles(text: str) -> str:
    """Every mobile number in free text as ``138****0000`` (12345 ticket text as the platform returns it)."""
    return _MOBILE_RE.sub(lambda m: m.group(1) + "****" + m.group(3), text)


def scrub_value(value: object) -> object:
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, dict):
        return {k: scrub_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [scrub_value(v) for v in value]
    return value


class ScrubbingFilter(logging.Filter):
    """Masks ID numbers in every log record, whatever a caller passed in."""

    def filter(self, record: logging.LogRecord) -> bool:
        msg = record.getMessage()
        clean = scrub(msg)
        if clean != msg:
            record.msg, record.args = clean, None
        return True
