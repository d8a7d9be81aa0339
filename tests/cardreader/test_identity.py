"""kiosk.identity: GB 11643 check digit, birth-date and sex consistency, masks, reprs, wipe."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiosk.identity import (
    Identity,
    check_consistency,
    check_digit,
    gender_of,
    validate_id_number,
)
from kiosk.privacy import mask_id_number, mask_name

DEMO = "110105199001011232"


@pytest.mark.parametrize(
    "first17, check",
    [
        ("11010519491231002", "X"),  # GB 11643-1999's own worked example
        ("44052418800101001", "4"),
        ("11010519900101123", "2"),
        ("11010520000229001", "3"),
    ],
)
def test_check_digit_examples(first17: str, check: str) -> None:
    assert check_digit(first17) == check
    assert validate_id_number(first17 + check.lower()) == first17 + check


@pytest.mark.parametrize(
    "number, why",
    [
        ("110105199001011237", "check character is wrong"),
        ("11010519900101123", "17 digits"),
        ("11010519900101123A", "17 digits"),
        ("110105199002300015", "not a real date"),  # check digit right, 30 February
    ],
)
def test_validate_rejects(number: str, why: str) -> None:
    if why == "not a real date":
        number = number[:17] + check_digit(number[:17])
    with pytest.raises(ValueError, match=why) as err:
        validate_id_number(number)
    assert number not in str(err.value)


def test_consistency_birth_and_sex() -> None:
    assert check_consistency(DEMO, dt.date(1990, 1, 1), "M") == DEMO
    assert gender_of(DEMO) == "M"
    with pytest.raises(ValueError, match="birth date does not match"):
        check_consistency(DEMO, dt.date(1990, 1, 2))
    with pytest.raises(ValueError, match="sex does not match"):
        check_consistency(DEMO, None, "F")


def test_checked_fills_from_number_and_refuses_empty_name() -> None:
    i = Identity.checked(DEMO, " 张三\x00 ", "social_security")
    assert (i.name, i.gender, i.birth_date) == ("张三", "M", dt.date(1990, 1, 1))
    with pytest.raises(ValueError, match="no name"):
        Identity.checked(DEMO, "\x00\x00", "social_security")


@pytest.mark.parametrize(
    "name, masked",
    [
        ("张三", "张*"),
        ("李小明", "李*明"),
        ("欧阳小峰", "欧**峰"),
        ("王", "*"),
        ("张三\x00\x00  ", "张*"),
        ("John Smith", "J*** S****"),
        ("Anne-Marie DUPONT", "A***-M**** D*****"),
        ("", ""),
    ],
)
def test_mask_name(name: str, masked: str) -> None:
    assert mask_name(name) == masked


def test_mask_id_number() -> None:
    assert mask_id_number(DEMO) == "110105********1232"


def test_repr_str_format_never_show_full_number_or_name() -> None:
    i = Identity.checked(DEMO, "李小明", "resident_id", photo=bytearray(b"\x01" * 16))
    for text in (repr(i), str(i), f"{i}", f"{i!r:>5}", repr([i])):
        assert DEMO not in text and "李小明" not in text
        assert "110105********1232" in text


def test_wipe_zeroes_the_photo_and_drops_data() -> None:
    photo = bytearray(b"\x55" * 1024)
    i = Identity.checked(DEMO, "张三", "resident_id", extra={"address": "演示"}, photo=photo)
    i.wipe()
    assert photo == bytearray(1024)
    assert (i.id_number, i.name, i.photo, i.extra, i.wiped) == ("", "", None, {}, True)
    assert repr(i) == "Identity(kind=resident_id, wiped)"


@st.composite
def id_numbers(draw: st.DrawFn) -> str:
    day = draw(st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2099, 12, 31)))
    first17 = draw(st.from_regex(r"[1-9][0-9]{5}", fullmatch=True)) + day.strftime("%Y%m%d")
    first17 += draw(st.from_regex(r"[0-9]{3}", fullmatch=True))
    return first17 + check_digit(first17)


@given(id_numbers())
def test_any_valid_number_round_trips_and_never_shows(number: str) -> None:
    assert validate_id_number(number) == number
    i = Identity.checked(number, "测试", "other")
    assert number not in repr(i)
    assert mask_id_number(number)[:6] == number[:6] and mask_id_number(number)[-4:] == number[-4:]


@given(id_numbers(), st.integers(0, 16), st.sampled_from("0123456789X"))
def test_any_single_change_is_caught(number: str, pos: int, new: str) -> None:
    """MOD 11-2 catches every single-character substitution."""
    if pos == 16 or number[pos] == new or (new == "X" and pos < 17):
        return
    changed = number[:pos] + new + number[pos + 1 :]
    with pytest.raises(ValueError):
        validate_id_number(changed)
