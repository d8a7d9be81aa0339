"""kiosk.privacy: a table per masker (every input the eight former copies handled), the redactors, and a check
that no masking function or ID-number/phone pattern lives anywhere else (issue 16, item 1)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from kiosk import privacy as P

REPO = Path(__file__).resolve().parents[2]
ID18 = "110105199001011232"
ID18X = "11010519900101123X"
ID15 = "110105900101123"


# --- maskers of one value --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("number", "masked"),
    [
        (ID18, "110105********1232"),
        (ID18X, "110105********123X"),
        (ID15, "110105*****1123"),
        ("1234567890", "**********"),  # ten or fewer: nothing kept
        ("12345", "*****"),
        ("", ""),
    ],
)
def test_mask_id_number(number: str, masked: str) -> None:
    assert P.mask_id_number(number) == masked


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("张三", "张*"),
        ("李小明", "李*明"),
        ("欧阳小峰", "欧**峰"),
        ("王", "*"),
        ("张三\x00\x00  ", "张*"),  # padding a card reader leaves
        ("\u3000李四\u3000", "李*"),
        ("John Smith", "J*** S****"),
        ("Anne-Marie DUPONT", "A***-M**** D*****"),
        ("", ""),
        ("   ", ""),
    ],
)
def test_mask_name(name: str, masked: str) -> None:
    assert P.mask_name(name) == masked


@pytest.mark.parametrize(
    ("phone", "masked"),
    [
        ("13800138000", "138****8000"),
        (
            "138****8000",
            "138****8000",
        ),  # masking again changes nothing (history masks applicant and callback phones)
        ("02012345678", "020****5678"),
        ("12345678", "123*5678"),
        ("1234567", "*******"),
        ("", ""),
    ],
)
def test_mask_phone(phone: str, masked: str) -> None:
    assert P.mask_phone(phone) == masked


@pytest.mark.parametrize(("code", "masked"), [("482913", "******"), ("4829130517", "**********"), ("", "")])
def test_mask_pickup_code(code: str, masked: str) -> None:
    assert P.mask_pickup_code(code) == masked


@pytest.mark.parametrize(
    ("uid", "masked"),
    [
        ("04A1B2C3D4", "******C3D4"),
        ("5A1F0D5E", "****0D5E"),
        ("ABCD", "ABCD"),
        ("AB", "AB"),
    ],
)
def test_mask_uid(uid: str, masked: str) -> None:
    assert P.mask_uid(uid) == masked


@pytest.mark.parametrize(("text", "masked"), [("138 1234-5678", "*** ****-****"), ("A07", "A**"), ("", "")])
def test_mask_digits(text: str, masked: str) -> None:
    assert P.mask_digits(text) == masked


# --- text maskers ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        (f"id={ID18} ok", "id=110105********1232 ok"),
        (f"{ID18X}", "110105********123X"),
        (f"old {ID15}.", "old 110105*****1123."),
        (f"ID{ID18}", f"ID{ID18}"),  # glued to letters: left to the stricter maskers
        ("case ZW20261125000001", "case ZW20261125000001"),
        (f"{ID18}9", f"{ID18}9"),  # inside a longer run: not an ID number
    ],
)
def test_id_numbers_standing_alone(text: str, masked: str) -> None:
    assert P.id_numbers(text) == masked == P.scrub(text)


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        (f"ID{ID18}", "ID110105********1232"),  # the support bundle's former _ID_ANYWHERE
        (f"证件号{ID18X}不符", "证件号110105********123X不符"),  # the form screen's former _ID_LIKE
        (f"证件号{ID15}不符", "证件号110105*****1123不符"),
        (f"idNumber {ID18} invalid", "idNumber 110105********1232 invalid"),
        (f"{ID18}9", f"{ID18}9"),
        ("no number here", "no number here"),
    ],
)
def test_id_numbers_anywhere(text: str, masked: str) -> None:
    assert P.id_numbers_anywhere(text) == masked


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("call 13800138000 now", "call 138****8000 now"),
        ("电话13912345678。", "电话139****5678。"),
        ("12800138000", "12800138000"),  # not a mobile prefix
        ("138001380001", "138001380001"),  # twelve digits: not a mobile number
    ],
)
def test_mobiles(text: str, masked: str) -> None:
    assert P.mobiles(text) == masked == P.mask_mobiles(text)


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("code 482913 echoed", "code ****** echoed"),
        ("ZW20261125000001 stays", "ZW20261125000001 stays"),
        ("2026-12-05 stays", "2026-12-05 stays"),
        ("12345 stays", "12345 stays"),
        ("110105********1232 stays", "110105********1232 stays"),
    ],
)
def test_digit_runs(text: str, masked: str) -> None:
    assert P.digit_runs(text) == masked


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("call 138 1234 5678", "call *** **** ****"),
        ("fax 020-1234.5678", "fax ***-****.****"),
        ("A07 and B12", "A07 and B12"),
    ],
)
def test_spaced_digit_runs(text: str, masked: str) -> None:
    assert P.spaced_digit_runs(text) == masked


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("pickup code: 482913", "pickup code: ******"),
        ("code=4829130517", "code=**********"),
        ('"code": "482913"', '"code": "******"'),
        ("取件码为482913", "取件码为******"),
        ("验证码 123456", "验证码 ******"),
        ("case 482913", "case 482913"),  # a number not called a code
    ],
)
def test_pickup_codes(text: str, masked: str) -> None:
    assert P.pickup_codes(text) == masked


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("postgresql://kiosk:s3cret@db/hall", "postgresql://kiosk:[redacted]@db/hall"),
        ("sqlite:////var/lib/k.db", "sqlite:////var/lib/k.db"),
    ],
)
def test_url_passwords(text: str, masked: str) -> None:
    assert P.url_passwords(text) == masked


def test_name_masker() -> None:
    assert P.name("张三")("张三来电，张三说") == "张*来电，张*说"
    assert P.name("王")("王先生") == "王先生"  # one character would mask every occurrence of it
    assert P.name(None)("text") == "text"


# --- the redactors ---------------------------------------------------------------------------------------------


def test_platform_reason_masks_id_numbers_then_digit_runs() -> None:  # the former outbox_tasks.redact
    assert (
        P.PLATFORM_REASON(f"applicant {ID18} phone 13800138000")
        == "applicant 110105********1232 phone ***********"
    )


@pytest.mark.parametrize(
    ("text", "kept"),
    [  # the former cabinet.flows.audit_text
        ("  broken,\n call Li on 138 1234 5678 ", "broken, call Li on *** **** ****"),
        (f"owner {ID18}", "owner 110105********1232"),
        ("x" * 50, "x" * 39 + "…"),
        ("   ", None),
    ],
)
def test_audit_text(text: str, kept: str | None) -> None:
    assert P.audit_text(text) == kept


def test_ticket_text_masks_ids_mobiles_and_the_name() -> (
    None
):  # the former backend_client.sim.rules.masked_content
    assert P.ticket_text(f"张三 {ID18} 13800138000", "张三") == "张* 110105********1232 138****8000"


def test_support_redactor_removes_secrets_and_masks_everything() -> None:  # the former diag.bundle.Redactor
    red = P.SUPPORT.with_secrets(["hunter22", "ab", "hunter2"])
    text = red(f"pw hunter22 db postgresql://u:pw@h/d ID{ID18} tel 13800138000 取件码 482913")
    assert (
        text
        == "pw [redacted] db postgresql://u:[redacted]@h/d ID110105********1232 tel 138****8000 取件码 ******"
    )
    assert red.value({f"k{ID18}": [f"{ID18}", 7]}) == {"k110105********1232": ["110105********1232", 7]}


def test_log_redactor_leaves_keys_alone() -> None:
    assert P.scrub_value({ID18: [ID18, 3, (ID18,)]}) == {
        ID18: ["110105********1232", 3, ["110105********1232"]]
    }


def test_screen_redactor() -> None:  # the former ui.screens.form._ID_LIKE (without_id_numbers calls it)
    assert (
        P.SCREEN(f"applicant.idNumber {ID18} does not match")
        == "applicant.idNumber 110105********1232 does not match"
    )
    assert P.SCREEN(f"证件号{ID15}不符") == "证件号110105*****1123不符"


# --- one place ---------------------------------------------------------------------------------------------------

# A regular expression that recognises an ID number or a mobile number: 17/15 digits, the 6-8-4 split, or 1[3-9].
_PERSONAL_PATTERN = re.compile(r"\\d\{17\}|\[0-9\]\{17\}|\\d\{15\}|\\d\{6\}\)\(\\d\{8\}|1\[3-9\]")
# A function or class that masks by its name (Identity.masked_id, which calls kiosk.privacy, is named otherwise).
_MASKING_NAME = re.compile(r"^_?(mask|scrub)(_|$)|Redactor$")
_RE_CALLS = {"compile", "match", "fullmatch", "search", "sub", "subn", "findall", "finditer", "split"}


def _sources() -> list[Path]:
    out = []
    for top in ("kiosk", "backend_client", "drivers", "hallkiosk", "ui"):
        out += [p for p in (REPO / top).rglob("*.py") if p != REPO / "kiosk" / "privacy.py"]
    return out


def _copies(tree: ast.AST) -> list[tuple[int, str]]:
    """Masking code in a module: a masking function, a string starred by length, or an ID/phone regex."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and _MASKING_NAME.search(
            node.name
        ):
            found.append((node.lineno, f"defines {node.name}"))
        if (
            isinstance(node, ast.BinOp)
            and isinstance(node.op, ast.Mult)
            and any(isinstance(x, ast.Constant) and x.value == "*" for x in (node.left, node.right))
        ):
            found.append((node.lineno, "stars a value by its length"))
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "sub"
            and any(isinstance(x, ast.Constant) and x.value == "*" for x in node.args)
        ):
            found.append((node.lineno, "stars what a pattern matches"))
        patterns: list[ast.expr] = []
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in _RE_CALLS
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "re"
            and node.args
        ):
            patterns.append(node.args[0])
        if isinstance(node, ast.Assign) and all(
            isinstance(t, ast.Name) and t.id.isupper() for t in node.targets
        ):
            patterns.append(node.value)  # a pattern kept as a constant string (a catalogue's field pattern)
        for p in patterns:
            if isinstance(p, ast.Constant) and isinstance(p.value, str) and _PERSONAL_PATTERN.search(p.value):
                found.append((node.lineno, f"holds the pattern {p.value!r}"))
    return found


def test_no_masking_function_or_personal_pattern_outside_privacy() -> None:
    found = [
        f"{p.relative_to(REPO)}:{line} {what}"
        for p in _sources()
        for line, what in _copies(ast.parse(p.read_text(encoding="utf-8")))
    ]
    assert found == []


@pytest.mark.parametrize(
    "src",
    [
        'import re\n_ID_LIKE = re.compile(r"\\d{17}[\\dXx]|\\d{15}")\n',  # ui/screens/form.py had this
        'import re\nok = re.fullmatch(r"1[3-9][0-9]{9}", value)\n',  # the simulator's PHONE check had this
        'PHONE = r"1[3-9][0-9]{9}"\n',  # the simulated catalogue had this
        'def _mask_phone(p):\n    return p[:3] + "*" * (len(p) - 7) + p[-4:]\n',  # backend_client/history.py had this
        "class Redactor:\n    pass\n",  # hallkiosk/diag/bundle.py had this
        'def f(uid):\n    return "*" * max(len(uid) - 4, 0) + uid[-4:]\n',  # any starring, whatever its name
        'import re\nt = re.sub(r"[0-9]", "*", text)\n',  # kiosk/cabinet/flows.py's audit_text had this
    ],
)
def test_the_check_finds_each_kind_of_copy(src: str) -> None:
    assert _copies(ast.parse(src))
