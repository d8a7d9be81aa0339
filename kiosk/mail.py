"""政务快递: the mail address a result is posted to (interface 1.1), validated as the platform validates it.

The province / city / district come from pickers over ``kiosk/data/divisions.json``
(generated from a registry package by ``scripts/gen_divisions.py``; its name
and version are in the file and in :data:`SOURCE`), so they are always a real
division; street and detail are typed (handwriting or pinyin); recipient and
phone are prefilled from what the kiosk knows (the card's name, the form's
phone) and may be changed. The platform's rules (kiosk-platform.md, "政务快递"):
recipient, province, city, district 1-40 characters and not blank; phone a
mobile ``1[3-9][0-9]{9}``; street optional (1-40); detail at most 120, not
blank; postcode optional, 6 digits. A bad part raises ValidationError naming it
``mailAddress.<part>``, the very path the platform's INVALID_FIELD would name,
so a fault from either lands on the same field.

Nothing here is stored: the address goes into the sealed outbox payload and is
scrubbed once sent (kiosk-platform.md, "Personal data").
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kiosk.errors import ValidationError
from kiosk.platform_models import MailAddress
from kiosk.privacy import MOBILE

DIVISIONS_PATH = Path(__file__).with_name("data") / "divisions.json"
PART_MAX = 40
DETAIL_MAX = 120
_POSTCODE = re.compile(r"[0-9]{6}")
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
PARTS = ("recipient", "phone", "province", "city", "district", "street", "detail", "postcode")
# The citizen's sentence for each part (spelt out: the catalogue test finds keys as whole literals).
PART_KEYS = {
    "address": "error.mail_address",
    "recipient": "error.mail_recipient",
    "phone": "error.mail_phone",
    "province": "error.mail_province",
    "city": "error.mail_city",
    "district": "error.mail_district",
    "street": "error.mail_street",
    "detail": "error.mail_detail",
    "postcode": "error.mail_postcode",
}


@dataclass(frozen=True)
class Division:
    code: str
    name: str


@functools.cache
def _data() -> dict[str, Any]:
    return json.loads(DIVISIONS_PATH.read_text(encoding="utf-8"))


def source() -> dict[str, str]:
    """Where the division data came from: registry, package, version, tarball checksum."""
    return dict(_data()["source"])


def provinces() -> list[Division]:
    return [Division(code=p[0], name=p[1]) for p in _data()["provinces"]]


def _province(name: str) -> list:
    for p in _data()["provinces"]:
        if p[1] == name:
            return p
    raise LookupError(name)


def cities(province: str) -> list[Division]:
    """The cities of a province (a municipality has one, named after it); [] for an unknown province."""
    try:
        return [Division(code=c[0], name=c[1]) for c in _province(province)[2]]
    except LookupError:
        return []


def districts(province: str, city: str) -> list[Division]:
    """The districts of a city; [] when the pair is unknown."""
    try:
        for c in _province(province)[2]:
            if c[1] == city:
                return [Division(code=d[0], name=d[1]) for d in c[2]]
    except LookupError:
        pass
    return []


def _invalid(part: str, message: str, key: str) -> ValidationError:
    err = ValidationError(f"mailAddress.{part}: {message}", field=f"mailAddress.{part}")
    err.citizen_key = key
    return err


def _text(part: str, raw: str | None, *, required: bool, limit: int = PART_MAX) -> str | None:
    value = (raw or "").strip()
    if not value:
        if required:
            raise _invalid(part, "required", PART_KEYS[part])
        return None
    if len(value) > limit or _NOT_XML.search(value):
        raise _invalid(part, f"1 to {limit} characters", "error.mail_too_long")
    return value


def validate_address(address: MailAddress | dict[str, Any], *, check_divisions: bool = True) -> MailAddress:
    """The address cleaned (spaces trimmed) or ValidationError(field="mailAddress.<part>") for the first bad part.

    ``check_divisions``: the province / city / district must be one of the bundled data set's (what the pickers
    offer). The platform itself checks only their length; turn this off for an address typed by staff."""
    a = address if isinstance(address, dict) else address.__dict__
    recipient = _text("recipient", a.get("recipient"), required=True)
    phone = (a.get("phone") or "").strip().replace(" ", "").replace("-", "")
    if not phone:
        raise _invalid("phone", "required", "error.mail_phone")
    if not MOBILE.fullmatch(phone):
        raise _invalid("phone", "a mobile number 1[3-9] and 9 digits", "error.mail_phone")
    province = _text("province", a.get("province"), required=True)
    city = _text("city", a.get("city"), required=True)
    district = _text("district", a.get("district"), required=True)
    assert province and city and district and recipient
    if check_divisions:
        if not cities(province):
            raise _invalid("province", "not a province of the division data", "error.mail_province")
        if not districts(province, city):
            raise _invalid("city", f"not a city of {province}", "error.mail_city")
        if district not in {d.name for d in districts(province, city)}:
            raise _invalid("district", f"not a district of {city}", "error.mail_district")
    street = _text("street", a.get("street"), required=False)
    detail = _text("detail", a.get("detail"), required=True, limit=DETAIL_MAX)
    assert detail
    postcode = (a.get("postcode") or "").strip() or None
    if postcode is not None and not _POSTCODE.fullmatch(postcode):
        raise _invalid("postcode", "6 digits", "error.mail_postcode")
    return MailAddress(
        recipient=recipient,
        phone=phone,
        province=province,
        city=city,
        district=district,
        detail=detail,
        street=street,
        postcode=postcode,
    )


def prefilled(name: str | None, phone: str | None) -> dict[str, str]:
    """What the form starts with: the card holder's name and the phone the citizen gave (both may be changed)."""
    out = {"recipient": (name or "").strip()}
    if phone and MOBILE.fullmatch(phone.strip()):
        out["phone"] = phone.strip()
    return out


def address_json(m: MailAddress) -> dict[str, Any]:
    return {p: getattr(m, p) for p in PARTS}


def address_from_json(d: dict[str, Any] | None) -> MailAddress | None:
    return None if not d else MailAddress(**{p: d.get(p) for p in PARTS})  # type: ignore[arg-type]
