"""Local form checks: XSD patterns (not Python regexes), field types, the applicant, 好差评 rules."""

from __future__ import annotations

import pytest

from kiosk.applications import validate_applicant, validate_field, validate_fields
from kiosk.errors import ValidationError
from kiosk.evaluations import EvaluationService
from kiosk.platform_models import Applicant, FieldSpec, Matter
from kiosk.xsd_regex import XsdPatternError, compile_xsd, xsd_match


@pytest.mark.parametrize(
    ("pattern", "value", "ok"),
    [
        ("[0-9]{12}", "123456789012", True),
        ("[0-9]{12}", "1234567890123", False),  # anchored implicitly: no partial match
        ("[0-9]{12}", "x123456789012", False),
        ("[0-9]{12}", "123456789012\n", False),  # Python's $ would let a trailing newline through
        ("1[3-9][0-9]{9}", "13800138000", True),
        ("1[3-9][0-9]{9}", "12800138000", False),
        ("a^b$", "a^b$", True),  # ^ and $ are plain characters in XSD
        (r"\i\c*", "_name-1.x", True),  # XML name classes
        (r"\i\c*", "1name", False),
        (r"[a-z-[aeiou]]+", "bcd", True),  # character class subtraction
        (r"[a-z-[aeiou]]+", "bad", False),
        (r"\p{IsBasicLatin}+", "abc", True),
        (r"\p{IsBasicLatin}+", "张三", False),
        (r"\p{Lo}{2,4}", "张三", True),
        ("[A-Z0-9\\-]{4,32}", "LS-HALL-01", True),
        ("(ab)|(cd)", "cd", True),
        ("(ab)|(cd)", "abcd", False),
    ],
)
def test_xsd_patterns(pattern: str, value: str, ok: bool) -> None:
    assert xsd_match(pattern, value) is ok


@pytest.mark.parametrize("bad", ["(?i)abc", "a{", "[a-", r"\k<x>", "(?P<n>a)"])
def test_invalid_xsd_patterns_are_reported(bad: str) -> None:
    with pytest.raises(XsdPatternError):
        compile_xsd(bad)


def _spec(**kw: object) -> FieldSpec:
    base: dict[str, object] = {"key": "f", "label": "字段", "type": "TEXT", "required": True}
    base.update(kw)
    return FieldSpec(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("spec", "value", "key"),
    [
        (_spec(), "", "error.field_required"),
        (_spec(), "   ", "error.field_required"),
        (_spec(max_length=3), "abcd", "error.field_too_long"),
        (_spec(max_length=2), "张三丰", "error.field_too_long"),
        (_spec(pattern="[0-9]{12}"), "12345678901", "error.field_pattern"),
        (_spec(type="NUMBER"), "1e5", "error.field_number"),
        (
            _spec(type="NUMBER"),
            "١٢",
            "error.field_number",
        ),  # Arabic-Indic digits: Python's \d would pass them
        (_spec(type="DATE"), "2026-02-30", "error.field_date"),
        (_spec(type="DATE"), "20260101", "error.field_date"),
        (_spec(type="PHONE"), "12345", "error.field_phone"),
        (_spec(type="CHOICE", choices=("入学", "就业")), "旅游", "error.field_choice"),
        (_spec(), "a\x00b", "error.field_invalid"),
    ],
)
def test_field_rules(spec: FieldSpec, value: str, key: str) -> None:
    with pytest.raises(ValidationError) as err:
        validate_field(spec, value)
    assert err.value.field == "f"
    assert err.value.citizen_key == key


@pytest.mark.parametrize(
    ("spec", "value", "clean"),
    [
        (_spec(required=False), "", None),
        (_spec(), " 12 ", "12"),
        (_spec(type="NUMBER"), "-3.50", "-3.50"),
        (_spec(type="DATE"), "2026-02-28", "2026-02-28"),
        (_spec(type="PHONE", max_length=11, pattern="1[3-9][0-9]{9}"), "13800138000", "13800138000"),
        (_spec(type="CHOICE", choices=("入学", "就业")), "就业", "就业"),
        (_spec(pattern="(?x)"), "anything", "anything"),  # a broken catalog pattern is left to the platform
    ],
)
def test_field_accepts(spec: FieldSpec, value: str, clean: str | None) -> None:
    assert validate_field(spec, value) == clean


def test_form_unknown_field_and_order() -> None:
    from decimal import Decimal

    m = Matter(
        "M",
        "事项",
        "部门",
        1,
        Decimal(0),
        ("LOCKER",),
        (_spec(key="a"), _spec(key="b", required=False, type="NUMBER")),
    )
    assert validate_fields(m, {"a": "x", "b": ""}) == {"a": "x"}
    with pytest.raises(ValidationError) as err:
        validate_fields(m, {"a": "x", "zz": "1"})
    assert err.value.field == "zz"
    with pytest.raises(ValidationError) as err:
        validate_fields(m, {"b": "nope"})
    assert err.value.field == "a"  # the first bad field in catalog order


def test_applicant_checks() -> None:
    ok = validate_applicant(
        Applicant("RESIDENT_ID", " 11010519580312123x ".replace("x", "2"), " 张三 ", "13800138000")
    )
    assert ok.id_number == "110105195803121232" and ok.name == "张三"
    with pytest.raises(ValidationError) as err:
        validate_applicant(Applicant("RESIDENT_ID", "110105195803121231", "张三"))
    assert err.value.field == "applicant.id_number"
    assert "110105195803121231" not in str(err.value)  # the number never appears in an error
    with pytest.raises(ValidationError) as err:
        validate_applicant(Applicant("RESIDENT_ID", "110105195803121232", " "))
    assert err.value.field == "applicant.name"
    with pytest.raises(ValidationError) as err:
        validate_applicant(Applicant("PASSPORT", "E12345678", "Li Si", "123"))
    assert err.value.field == "applicant.phone"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"rating": 0, "matter_code": "M"}, "rating"),
        ({"rating": 6, "matter_code": "M"}, "rating"),
        ({"rating": True, "matter_code": "M"}, "rating"),
        # ({"rating": 4}: neither case nor matter is the self-service itself, a valid rating: tests/services)
        ({"rating": 4, "case_number": "abc"}, "case_number"),
        ({"rating": 2, "matter_code": "M"}, "reasons"),
        ({"rating": 1, "matter_code": "M", "reasons": ["nonsense"]}, "reasons"),
        ({"rating": 5, "matter_code": "M", "comment": "x" * 501}, "comment"),
    ],
)
def test_evaluation_rules(kwargs: dict, field: str) -> None:
    svc = EvaluationService(None, b"k" * 32, None)  # type: ignore[arg-type] - fails before any storage
    rating = kwargs.pop("rating")
    with pytest.raises(ValidationError) as err:
        svc.submit(rating, **kwargs)
    assert err.value.field == field
