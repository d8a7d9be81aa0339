"""Defect 8: Chinese line breaking, on every catalogue string in both languages at two widths, laid out by the
real Kivy text provider with the kiosk's font (a KLabel in the running app): no line starts with closing
punctuation or ends with an opening one, and a number never parts from its unit. The rules: ui/linebreak.py."""

from __future__ import annotations

import json
import string
from pathlib import Path

import pytest

from tests.ui.harness import Driver
from ui.linebreak import NBSP, NO_END, NO_START, break_lines
from ui.widgets import KLabel, MessageSlot

LOCALE = Path(__file__).resolve().parents[2] / "ui" / "locale"
SAMPLE = {"n": "30", "minutes": "15", "wait": "30 秒", "label": "A07", "cabinet": "CAB-01", "when": "10:30"}


def _filled(text: str) -> str:
    """The text with each {field} filled: numbers where counts go, so number-unit pairs are tested too."""
    names = [f for _, f, _, _ in string.Formatter().parse(text) if f]
    try:
        return text.format(**{f: SAMPLE.get(f, "12") for f in names})
    except (IndexError, KeyError, ValueError):
        return text


def _lines(label: KLabel) -> list[str]:
    label.texture_update()
    return ["".join(w.text for w in line.words) for line in label._label._cached_lines]


def _violations(lines: list[str]) -> list[str]:
    bad = []
    for i, line in enumerate(lines):
        s = line.strip(" ")
        if not s:
            continue
        if i and s[0] in NO_START:
            bad.append(f"line {i + 1} starts with {s[0]!r}: {line!r}")
        if i + 1 < len(lines) and s[-1] in NO_END:
            bad.append(f"line {i + 1} ends with {s[-1]!r}: {line!r}")
        nxt = lines[i + 1].lstrip(" ") if i + 1 < len(lines) else ""
        if nxt and s[-1].isascii() and s[-1].isdigit() and not nxt[0].isascii():
            bad.append(f"a number parted from its unit: {line!r} / {lines[i + 1]!r}")
    return bad


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_catalogue_string_breaks_by_the_rules_at_two_widths(k: Driver, lang: str) -> None:
    texts = sorted(
        {_filled(t) for t in json.loads((LOCALE / f"{lang}.json").read_text(encoding="utf-8")).values()}
    )
    widths = (
        k.app.root.width - 6 * k.app.pad,
        0.4 * k.app.root.width,
    )  # a full-width line and a narrow column
    bad: list[str] = []
    wrapped = 0
    for cls in (KLabel, MessageSlot):
        for width in widths:
            label = cls(font_size=k.app.fs_body, text_size=(width, None), size=(width, 100))
            for text in texts:
                if "[" in text and "]" in text:
                    continue  # markup strings are not wrapped by KLabel
                label.text = text
                lines = _lines(label)
                wrapped += len(lines) > 1
                bad += [f"{cls.__name__} {width:.0f}px: {v}" for v in _violations(lines)]
                shown = "".join(lines).replace(" ", "").replace(NBSP, "")
                assert shown == text.replace("\n", "").replace(" ", "").replace(NBSP, ""), (
                    "text lost in wrapping"
                )
    assert wrapped > 50, "the widths must make many strings wrap"
    assert not bad, f"{len(bad)} bad breaks:\n" + "\n".join(bad[:40])


def test_the_rules_on_known_cases() -> None:
    def fits(n: int):
        return lambda s: len(s) <= n

    assert break_lines("取件码不正确，请核对短信。", fits(6)).split("\n") == [
        "取件码不正",
        "确，请核对短",
        "信。",
    ]
    assert break_lines("还要等 30 秒才能输入", fits(6)).split("\n")[1].startswith("30")
    assert break_lines("请点（呼叫帮助）按钮", fits(3)).split("\n")[0] == "请点"
