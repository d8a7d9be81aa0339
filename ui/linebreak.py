"""Chinese line breaking (禁则, defect 8): where a line of mixed Chinese text may end.

Kivy breaks lines at spaces and, inside a run without spaces (any Chinese sentence), after whichever character
overflows, so a line could start with "，" or "。", end with "（", or part "30" from "秒". ``break_lines`` chooses
the breaks by the rules below; KLabel hands Kivy text whose every line already fits, so Kivy breaks nothing more.
"""

from __future__ import annotations

import re
from collections.abc import Callable

# Never at the start of a line (closing punctuation, full and half width) / never at the end (opening).
NO_START = frozenset("，。、；：？！）」』】》〉”’…·%‰℃,.;:?!)]}")
NO_END = frozenset("（「『【《〈“‘([{")
NBSP = "\u00a0"
_CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")
# "30 秒", "2 分钟", "1–5 份": a number and the unit after it are one unit for breaking.
_NUMBER_SPACE_UNIT = re.compile(r"(?<=[0-9%])[ ](?=[^\sA-Za-z0-9])")


def has_cjk(text: str) -> bool:
    return _CJK.search(text) is not None


def bind_units(text: str) -> str:
    """The space between a number and its unit becomes a no-break space (Kivy breaks only at plain spaces)."""
    return _NUMBER_SPACE_UNIT.sub(NBSP, text)


def _ascii_alnum(c: str) -> bool:
    return c.isascii() and c.isalnum()


def may_break(text: str, i: int) -> bool:
    """May a line end before ``text[i]``?"""
    a, c = text[i - 1], text[i]
    if c in NO_START or a in NO_END or NBSP in (a, c):
        return False
    if a == " " or c == " ":
        return True
    if _ascii_alnum(a) and _ascii_alnum(c):
        return False  # inside a number or a Latin word
    return not (a.isascii() and a.isdigit())  # "30秒": a number keeps its unit


def break_lines(text: str, fits: Callable[[str], bool]) -> str:
    """``text`` with a newline wherever a line must end so that each line ``fits`` and no rule is broken. A run
    that cannot fit by the rules (one unbroken Latin word wider than the label) is broken where it overflows."""
    out: list[str] = []
    for para in bind_units(text).split("\n"):
        start, n = 0, len(para)
        while start < n:
            if start + 1 >= n or fits(para[start:]):
                out.append(para[start:])
                break
            lo, hi = (
                start + 1,
                n,
            )  # the longest para[start:end] that fits: lo fits (or is one character), hi not
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if fits(para[start:mid]):
                    lo = mid
                else:
                    hi = mid
            end = lo
            while end > start + 1 and not may_break(para, end):
                end -= 1
            if end == start + 1 and not may_break(para, end):
                end = lo
            out.append(para[start:end].rstrip(" "))
            start = end
            while start < n and para[start] == " ":
                start += 1
    return "\n".join(out)
