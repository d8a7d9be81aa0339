"""A person's identity as read from a card: validated, masked, hashed, wipeable.

The full ID number lives only in an :class:`Identity` for the length of one
session. What is stored or logged is :func:`id_hash` (HMAC-SHA-256 under the
kiosk's secret) and the masked forms.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from dataclasses import dataclass, field
from typing import Literal

CardKind = Literal["resident_id", "social_security", "staff_badge", "other"]

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"


def check_digit(first17: str) -> str:
    """ISO 7064 MOD 11-2 check character of the first 17 digits (GB 11643)."""
    if len(first17) != 17 or not first17.isdigit():
        raise ValueError("need exactly 17 digits")
    return _CHECK[sum(int(c) * w for c, w in zip(first17, _WEIGHTS, strict=True)) % 11]


def validate_id_number(number: str) -> str:
    """Return the normalised (upper-case X) 18-character number or raise ValueError saying why."""
    n = number.strip().upper()
    if len(n) != 18 or not n[:17].isdigit() or not (n[17].isdigit() or n[17] == "X"):
        raise ValueError("an ID number has 17 digits and a check character 0-9 or X")
    if check_digit(n[:17]) != n[17]:
        raise ValueError("the ID number's check character is wrong")
    try:
        dt.date(int(n[6:10]), int(n[10:12]), int(n[12:14]))
    except ValueError as err:
        raise ValueError("the ID number's birth date is not a real date") from err
    return n


def birth_date_of(number: str) -> dt.date:
    return dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))


def mask_id_number(number: str) -> str:
    """``110105********1234``: first six and last four kept."""
    if len(number) <= 10:
        return "*" * len(number)
    return number[:6] + "*" * (len(number) - 10) + number[-4:]


def mask_name(name: str) -> str:
    """``张*三`` for 3 characters, ``张*`` for 2, ``欧**峰`` for 4; Latin names keep the first letters of each word."""
    name = name.strip()
    if not name:
        return ""
    if name.isascii():
        return " ".join(w[0] + "*" * (len(w) - 1) for w in name.split())
    if len(name) == 1:
        return "*"
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def id_hash(secret: bytes, id_number: str) -> str:
    """Keyed hash used to match a person to a parcel without storing the number."""
    return hmac.new(secret, id_number.strip().upper().encode("ascii"), hashlib.sha256).hexdigest()


@dataclass(eq=False)
class Identity:
    """One person's identity for one session. ``repr``/``str`` never show the full number or name."""

    id_number: str
    name: str
    card_kind: CardKind
    gender: Literal["M", "F", "U"] = "U"
    birth_date: dt.date | None = None
    card_number: str | None = None
    extra: dict[str, str] = field(default_factory=dict)
    wiped: bool = False

    @property
    def masked_id(self) -> str:
        return mask_id_number(self.id_number)

    @property
    def masked_name(self) -> str:
        return mask_name(self.name)

    def hash(self, secret: bytes) -> str:
        return id_hash(secret, self.id_number)

    def wipe(self) -> None:
        """Drop the personal data. Python strings are immutable, so this drops our references; the
        reader drivers keep the raw bytes in bytearrays they zero themselves."""
        self.id_number = ""
        self.name = ""
        self.card_number = None
        self.birth_date = None
        self.extra.clear()
        self.wiped = True

    def __repr__(self) -> str:
        return f"Identity(kind={self.card_kind}, id={self.masked_id}, name={self.masked_name})"

    __str__ = __repr__
