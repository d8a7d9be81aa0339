"""Pure core rules of 1.1: eligibility as the platform computes it, guides, matter search, mail addresses."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from backend_client.sim.catalog import BUNDLES, MATTERS
from kiosk import mail
from kiosk.applications import field_error_key, filing_error
from kiosk.eligibility import NotEligible, check, check_matters, china_date, completed_years, id_type_of
from kiosk.errors import PlatformRejected, ValidationError
from kiosk.guides import bundle_guide, fee_text, guide_of
from kiosk.identity import Identity, check_digit
from kiosk.matter_search import MatterIndex
from kiosk.platform_models import Eligibility

ELDER = next(m for m in MATTERS if m.code == "MZ-ELDER-CARD")
UTC = dt.UTC


def _id(born: dt.date) -> str:
    first = f"430203{born:%Y%m%d}123"
    return first + check_digit(first)


# --- eligibility -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("born", "on", "years"),
    [
        (dt.date(1962, 3, 1), dt.date(2022, 2, 28), 59),
        (dt.date(1962, 3, 1), dt.date(2022, 3, 1), 60),
        (dt.date(1972, 2, 29), dt.date(2022, 2, 28), 49),  # a common year: not yet
        (dt.date(1972, 2, 29), dt.date(2022, 3, 1), 50),  # ... 1 March completes it
        (dt.date(1972, 2, 29), dt.date(2024, 2, 29), 52),  # a leap year: on the day
        (dt.date(1972, 2, 29), dt.date(2024, 2, 28), 51),
    ],
)
def test_completed_years(born: dt.date, on: dt.date, years: int) -> None:
    assert completed_years(born, on) == years


def test_the_date_is_chinas() -> None:
    assert china_date(dt.datetime(2022, 2, 28, 15, 59, tzinfo=UTC)) == dt.date(2022, 2, 28)
    assert china_date(dt.datetime(2022, 2, 28, 16, 0, tzinfo=UTC)) == dt.date(2022, 3, 1)


def test_check_says_why() -> None:
    now = dt.datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
    e = ELDER.eligibility
    young = check(e, "RESIDENT_ID", _id(dt.date(1990, 5, 7)), now, matter_code=ELDER.code)
    assert (young.eligible, young.why, young.age, young.min_age) == (False, "too_young", 36, 60)
    assert young.text_key == "eligibility.too_young" and young.params["min"] == 60
    assert check(e, "SOCIAL_SECURITY_CARD", _id(dt.date(1950, 1, 1)), now).eligible
    assert check(e, "PASSPORT", "E1234567", now).why == "id_type"
    assert check(Eligibility(max_age_years=60), "OTHER", "X1", now).why == "no_birth_date"
    assert (
        check(Eligibility(max_age_years=60), "RESIDENT_ID", _id(dt.date(1958, 3, 12)), now).why == "too_old"
    )
    assert check(
        Eligibility(max_age_years=60), "RESIDENT_ID", _id(dt.date(1966, 11, 25)), now
    ).eligible  # 60: in
    assert check(None, "OTHER", "", now).eligible and check(Eligibility(), "PASSPORT", "E1", now).eligible
    retire = [m for m in MATTERS if m.code in ("RS-RETIRE-CLAIM", "GJJ-RETIRE-WITHDRAW")]
    v = check_matters(retire, "RESIDENT_ID", _id(dt.date(1990, 1, 1)), now)
    assert v.matter_code == "RS-RETIRE-CLAIM" and v.why == "too_young"


def test_card_kinds_map_to_id_types() -> None:
    n = _id(dt.date(1950, 1, 1))
    assert id_type_of(Identity.checked(n, "王五", "resident_id")) == "RESIDENT_ID"
    assert id_type_of(Identity.checked(n, "王五", "social_security")) == "SOCIAL_SECURITY_CARD"


def test_platform_refusals_land_on_the_right_field() -> None:
    assert isinstance(
        filing_error(PlatformRejected("NOT_ELIGIBLE", "未满60周岁", field="applicant")), NotEligible
    )
    assert isinstance(
        filing_error(PlatformRejected("INVALID_FIELD", "x", field="applicant")), NotEligible
    )  # 1.0
    for field, key in (
        ("HK-006.hukouAddress", "error.invalid_field"),
        ("babyName", "error.invalid_field"),
        ("mailAddress.phone", "error.mail_phone"),
        ("mailAddress", "error.mail_address"),
        ("assistedBy.consentRecorded", "error.assist_consent"),
        ("param.code", "error.notice_param"),
    ):
        err = filing_error(PlatformRejected("INVALID_FIELD", "bad", field=field))
        assert isinstance(err, ValidationError) and (err.field, err.citizen_key) == (field, key)
        assert field_error_key(field) == key
    other = PlatformRejected("UNKNOWN_BUNDLE", "gone")
    assert filing_error(other) is other


# --- guides --------------------------------------------------------------------------------------------------------
def test_fee_in_words() -> None:
    assert fee_text(Decimal("0.00"), None).key == "guide.free"  # never "0.00 元"
    assert fee_text(Decimal("20.00"), "遗失补办收取工本费20元").params["note"].startswith("遗失")
    assert fee_text(Decimal("20.00"), None).params == {"amount": "20.00"}
    # A free matter's note "免费" is said in the citizen's language, not shown as Chinese on the English screen.
    assert fee_text(Decimal("0.00"), "免费").key == "guide.free"


def test_guide_of_a_matter_and_a_bundle() -> None:
    g = guide_of(ELDER)
    assert g.fee.key == "guide.free" and g.conditions and g.has_age_limit
    photo = next(m for m in g.materials if "照片" in m.name)
    assert photo.kind.key == "guide.original" and photo.kind.params == {"copies": 2}
    assert guide_of(next(m for m in MATTERS if m.code == "GJJ-DEPOSIT-CERT")).promised.key == "guide.instant"
    newborn = next(b for b in BUNDLES if b.code == "YJS-NEWBORN")
    members = tuple(next(m for m in MATTERS if m.code == c) for c in newborn.member_codes)
    bg = bundle_guide(newborn, members)
    names = [m.name for m in bg.materials]
    assert len(names) == len(set(names)) and "居民身份证" in names  # each material once
    assert bg.promised.params["days"] == 5 and "个人缴费" in bg.fee.params.get("note", "")


# --- search --------------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def index() -> MatterIndex:
    return MatterIndex(MATTERS, BUNDLES)


@pytest.mark.parametrize(
    ("query", "first"),
    [
        ("老年人优待证办理", "MZ-ELDER-CARD"),
        ("老年", "MZ-ELDER-CARD"),
        ("lnr", "MZ-ELDER-CARD"),
        ("ｌｎｒ", "MZ-ELDER-CARD"),
        ("laonian", "MZ-ELDER-CARD"),
        ("户口", "GA-HUKOU-CERT"),
        ("hjzm", "GA-HUKOU-CERT"),
        ("宝宝", "YJS-NEWBORN"),
        ("出生", "WJ-BIRTH-CERT"),
        ("公积金", "GJJ-DEPOSIT-CERT"),
        ("Senior", "MZ-ELDER-CARD"),
        ("退休", "YJS-RETIRE"),
        ("社保", "RS-SSC-REISSUE"),
        ("民政局", "MZ-ELDER-CARD"),
        ("gjj-dep", "GJJ-DEPOSIT-CERT"),
    ],
)
def test_search_finds(index: MatterIndex, query: str, first: str) -> None:
    hits = index.search(query)
    assert hits and hits[0].code == first, [(h.code, h.why) for h in hits]


def test_search_nothing(index: MatterIndex) -> None:
    assert index.search("") == [] and index.search("   ") == [] and index.search("qqqzzz") == []


def test_bundles_come_first_on_a_tie(index: MatterIndex) -> None:
    hits = index.search("新生儿")
    assert hits[0].kind == "bundle" and {"HK-006", "YB-NEWBORN-ENROL"} <= {h.code for h in hits}


# --- mail addresses --------------------------------------------------------------------------------------------------
GOOD = {
    "recipient": "张三",
    "phone": "13800138000",
    "province": "湖南省",
    "city": "株洲市",
    "district": "芦淞区",
    "street": "建设南路街道",
    "detail": "建设南路8号",
    "postcode": "412000",
}


def test_divisions_come_from_a_recorded_package() -> None:
    src = mail.source()
    assert (src["registry"], src["package"], src["version"]) == ("npm", "china-division", "2.7.0")
    assert len(src["tarball_sha256"]) == 64
    assert len(mail.provinces()) == 31 and [c.name for c in mail.cities("上海市")] == ["上海市"]
    assert "浦东新区" in {d.name for d in mail.districts("上海市", "上海市")}
    assert [d.name for d in mail.districts("河南省", "济源市")] == ["济源市"]  # directly under the province
    assert mail.cities("火星") == [] and mail.districts("湖南省", "北京市") == []


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"recipient": "  "}, "mailAddress.recipient"),
        ({"phone": "0731-28881234"}, "mailAddress.phone"),
        ({"province": "火星省"}, "mailAddress.province"),
        ({"city": "北京市"}, "mailAddress.city"),
        ({"district": "朝阳区"}, "mailAddress.district"),
        ({"detail": ""}, "mailAddress.detail"),
        ({"detail": "号" * 121}, "mailAddress.detail"),
        ({"postcode": "41200"}, "mailAddress.postcode"),
        ({"street": "街" * 41}, "mailAddress.street"),
        ({"recipient": "名" * 41}, "mailAddress.recipient"),
    ],
)
def test_address_rules(change: dict[str, str], field: str) -> None:
    with pytest.raises(ValidationError) as exc:
        mail.validate_address({**GOOD, **change})
    assert exc.value.field == field and exc.value.citizen_key.startswith("error.mail_")


def test_address_cleaned_and_prefilled() -> None:
    a = mail.validate_address({**GOOD, "phone": "138 0013 8000", "street": "", "postcode": None})
    assert a.phone == "13800138000" and a.street is None and a.postcode is None
    assert "13800138000" not in repr(a)
    assert mail.validate_address({**GOOD, "district": "某新区"}, check_divisions=False).district == "某新区"
    assert mail.prefilled("张三", "13800138000") == {"recipient": "张三", "phone": "13800138000"}
    assert mail.prefilled("张三", "0731-123") == {"recipient": "张三"}
