"""The search box over matters and bundles: Chinese keywords, pinyin, pinyin initials, English, codes.

A citizen types what they know: "老年" or "lnr" or "laonian" for 老年人优待证,
"户口" for 户籍证明, "baby" or "出生" for the newborn bundle. The index is built
once per catalog version (pypinyin, offline) and each query is a linear scan
over precomputed lower-case strings: 2,000 matters and 200 bundles answer well
inside 20 ms (``python -m bench matter_search``).

Ranking, best first: the name itself; the name starting with the query; the
initials starting with it; the name containing it; full pinyin containing it;
initials containing it; a colloquial word the citizen used for an official one
(``SYNONYMS``); the department, English name or code. Bundles win ties (一件事
come first on the matters screen).
"""

from __future__ import annotations

import heapq
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from pypinyin import Style, lazy_pinyin

from kiosk.platform_models import Bundle, Catalog, Matter

Kind = Literal["bundle", "matter"]

# What citizens say -> the words catalogues use. Each colloquial word finds the official one (and vice versa).
SYNONYMS: dict[str, tuple[str, ...]] = {
    "户口": ("户籍", "入户"),
    "老人": ("老年",),
    "老年卡": ("老年人优待证",),
    "敬老": ("老年",),
    "社保": ("社会保障",),
    "医保": ("医疗保障", "医保"),
    "公积金": ("住房公积金",),
    "孩子": ("新生儿", "出生"),
    "宝宝": ("新生儿", "出生"),
    "生孩子": ("出生", "新生儿"),
    "小孩": ("新生儿",),
    "退休": ("退休", "养老"),
    "养老": ("养老", "退休"),
    "失业": ("失业", "就业"),
    "找工作": ("就业",),
    "证明": ("证明",),
    "补办": ("补换", "补办"),
    "换卡": ("补换",),
    "丢了": ("遗失", "补换"),
    "结婚": ("婚姻",),
    "离婚": ("婚姻",),
    "身份证": ("居民身份证",),
    "驾照": ("驾驶证",),
}

_SPACE = re.compile(r"[\s\-_·・]+")
_SCORES = {
    "name": 100,
    "name_prefix": 90,
    "initials_prefix": 85,
    "pinyin_prefix": 80,
    "name_in": 70,
    "pinyin_in": 60,
    "initials_in": 50,
    "synonym": 45,
    "english": 40,
    "department": 30,
    "code": 30,
    "keyword": 25,
}


@dataclass(frozen=True)
class Hit:
    kind: Kind
    code: str
    name: str
    score: int
    why: str  # which rule matched (for tests and diagnostics)


@dataclass(frozen=True)
class _Entry:
    kind: Kind
    code: str
    name: str
    name_l: str
    pinyin: str  # full pinyin, no tones, no spaces: "laonianrenyoudaizheng"
    initials: str  # "lnryd..."
    english: str
    department: str
    keywords: str  # guide conditions, bundle description and member names, joined
    code_l: str
    rank: int  # catalog order, for a stable tie-break


def normalise(text: str) -> str:
    """Lower case, full-width folded (ｌｎｒ -> lnr), spaces and dashes dropped."""
    return _SPACE.sub("", unicodedata.normalize("NFKC", text).lower())


def _pinyin(text: str) -> tuple[str, str]:
    full = "".join(lazy_pinyin(text, errors="ignore"))
    initials = "".join(lazy_pinyin(text, style=Style.FIRST_LETTER, errors="ignore"))
    return normalise(full), normalise(initials)


def _entry(
    kind: Kind, code: str, name: str, name_en: str | None, department: str, keywords: Iterable[str], rank: int
) -> _Entry:
    full, initials = _pinyin(name)
    return _Entry(
        kind=kind,
        code=code,
        name=name,
        name_l=normalise(name),
        pinyin=full,
        initials=initials,
        english=normalise(name_en or ""),
        department=normalise(department),
        keywords=normalise(" ".join(keywords)),
        code_l=normalise(code),
        rank=rank,
    )


class MatterIndex:
    """A search index over one catalog version; build it again when the catalog changes."""

    def __init__(self, matters: Iterable[Matter], bundles: Iterable[Bundle] = ()) -> None:
        entries: list[_Entry] = []
        by_code = {}
        for i, m in enumerate(matters):
            by_code[m.code] = m
            words = list(m.guide.conditions) if m.guide else []
            entries.append(_entry("matter", m.code, m.name, m.name_en, m.department, words, i))
        for i, b in enumerate(bundles):
            words = [b.description or ""] + [by_code[c].name for c in b.member_codes if c in by_code]
            entries.append(_entry("bundle", b.code, b.name, b.name_en, "", words, i))
        self._entries = tuple(entries)

    @classmethod
    def of(cls, catalog: Catalog) -> MatterIndex:
        return cls(catalog.matters, catalog.bundles)

    def __len__(self) -> int:
        return len(self._entries)

    def search(self, query: str, limit: int = 50) -> list[Hit]:
        """Matters and bundles for what the citizen typed, best first (empty query: nothing)."""
        q = normalise(query)
        if not q:
            return []
        ascii_q = q.isascii()
        expansions = tuple(normalise(w) for key, words in SYNONYMS.items() if key in q for w in words)
        found: list[tuple[int, int, int, str, _Entry]] = []
        for e in self._entries:
            why = self._match(e, q, ascii_q, expansions)
            if why is not None:
                found.append((-_SCORES[why], e.kind != "bundle", e.rank, why, e))
        # A one-letter query matches most of the catalog: rank only what is shown, build Hits for it alone.
        top = (
            heapq.nsmallest(limit, found, key=lambda f: f[:3])
            if len(found) > limit
            else sorted(found, key=lambda f: f[:3])
        )
        return [
            Hit(kind=e.kind, code=e.code, name=e.name, score=-neg, why=why) for neg, _b, _r, why, e in top
        ]

    @staticmethod
    def _match(e: _Entry, q: str, ascii_q: bool, expansions: tuple[str, ...]) -> str | None:
        if ascii_q:
            if e.initials.startswith(q):
                return "initials_prefix"
            if e.pinyin.startswith(q):
                return "pinyin_prefix"
            if len(q) >= 2 and q in e.pinyin:
                return "pinyin_in"
            if len(q) >= 2 and q in e.initials:
                return "initials_in"
            if len(q) >= 3 and q in e.english:
                return "english"
            if q in e.code_l:
                return "code"
            return None
        if e.name_l == q:
            return "name"
        if e.name_l.startswith(q):
            return "name_prefix"
        if q in e.name_l:
            return "name_in"
        if any(x in e.name_l for x in expansions):
            return "synonym"
        if q in e.department:
            return "department"
        if len(q) >= 2 and (q in e.keywords or any(x in e.keywords for x in expansions)):
            return "keyword"
        return None
