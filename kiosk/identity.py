"""A person's identity as read from a card: validated, masked, hashed, wipeable.

The full ID number lives only in an :class:`Identity` for the length of one
session. What is stored or logged is :func:`id_hash` (HMAC-SHA-256 under the
kiosk's secret) and the masked forms.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import operator
from dataclasses import dataclass, field
from typing import Literal

from kiosk.platform_models import Applicant, IdType
from kiosk.privacy import mask_id_number, mask_name

CardKind = Literal["resident_id", "social_security", "staff_badge", "other"]

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"


def check_digit(first17: str) -> str:
    """ISO 7064 MOD 11-2 check character of the first 17 digits (GB 11643)."""
    if len(first17) != 17 or not first17.isdigit():
        raise ValueError("need exactly 17 digits")
    return _CHECK[sum(map(operator.mul, map(int, first17), _WEIGHTS)) % 11]


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
    """The birth date encoded in digits 7-14 of an 18-character number."""
    return dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))


def gender_of(number: str) -> Literal["M", "F"]:
    """GB 11643: the 17th digit (sequence code) is odd for men, even for women."""
    return "M" if int(number[16]) % 2 else "F"


def check_consistency(
    number: str, birth_date: dt.date | None = None, gender: Literal["M", "F", "U"] = "U"
) -> str:
    """Validate the number and that a card's separate birth date and sex agree with it; return the number.

    Raises ValueError saying which part disagrees (never quoting the number itself)."""
    n = validate_id_number(number)
    if birth_date is not None and birth_date != birth_date_of(n):
        raise ValueError("the card's birth date does not match the ID number")
    if gender != "U" and gender != gender_of(n):
        raise ValueError("the card's sex does not match the ID number")
    return n


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
    photo: bytearray | None = field(
        default=None, repr=False
    )  # GA 467 WLT photo: memory only, zeroed by wipe()
    wiped: bool = False

    @classmethod
    def checked(
        cls,
        id_number: str,
        name: str,
        card_kind: CardKind,
        *,
        gender: Literal["M", "F", "U"] = "U",
        birth_date: dt.date | None = None,
        card_number: str | None = None,
        extra: dict[str, str] | None = None,
        photo: bytearray | None = None,
    ) -> Identity:
        """Build an identity from card data after the check digit, birth date and sex checks; ValueError if not."""
        n = check_consistency(id_number, birth_date, gender)
        name = name.strip(" \t\r\n\x00\u3000")
        if not name:
            raise ValueError("the card holds no name")
        return cls(
            id_number=n,
            name=name,
            card_kind=card_kind,
            gender=gender_of(n) if gender == "U" else gender,
            birth_date=birth_date_of(n),
            card_number=card_number,
            extra=dict(extra or {}),
            photo=photo,
        )

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
        if self.photo is not None:
            self.photo[:] = bytes(len(self.photo))
            self.photo = None
        self.wiped = True

    def __repr__(self) -> str:
        if self.wiped:
            return f"Identity(kind={self.card_kind}, wiped)"
        return f"Identity(kind={self.card_kind}, id={self.masked_id}, name={self.masked_name})"

    __str__ = __repr__


def applicant_of(identity: Identity, phone: str | None = None) -> Applicant:
    """The wire's <applicant> for the card holder: the card kind as the platform names it, and the phone the
    citizen typed (none when left empty)."""
    kind: IdType = "RESIDENT_ID" if identity.card_kind == "resident_id" else "SOCIAL_SECURITY_CARD"
    return Applicant(id_type=kind, id_number=identity.id_number, name=identity.name, phone=phone or None)
