"""Defect 6: pinyin ranks characters by how common they really are, checked against lists the index was not built from.

The lists (tests/data, each with its provenance): Jun Da's 500 most frequent characters of modern Chinese, and
the 100 most common surnames. A character is looked for among the engine's candidates for its usual reading
(pypinyin's readings, toneless, ü as v), as a citizen types it. No Kivy.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pypinyin import Style, pinyin

from ui.pinyin.engine import PinyinEngine
from ui.pinyin.lexicon import Lexicon, load_or_build

DATA = Path(__file__).resolve().parent.parent / "data"


def listed(name: str) -> list[str]:
    """The characters of a list file in order (comment lines start with #)."""
    text = "".join(
        line for line in (DATA / name).read_text(encoding="utf-8").splitlines() if not line.startswith("#")
    )
    return [ch for ch in text if not ch.isspace()]


def positions(eng: PinyinEngine, chars: list[str]) -> dict[str, int | None]:
    """1-based place of each character among the candidates for its reading (None: not in the first 50).

    A character with several readings is typed by the one the citizen knows: its best place over pypinyin's
    readings counts (pypinyin puts 似 under shi first, as in 似的; most people type si)."""
    out = {}
    for ch in chars:
        best = None
        for key in pinyin(ch, style=Style.NORMAL, heteronym=True)[0]:
            cands = eng.candidates(key, limit=50)
            if ch in cands and (best is None or cands.index(ch) + 1 < best):
                best = cands.index(ch) + 1
        out[ch] = best
    return out


@pytest.fixture(scope="module")
def eng(tmp_path_factory: pytest.TempPathFactory) -> PinyinEngine:
    lex: Lexicon = load_or_build(tmp_path_factory.mktemp("pinyin"))
    return PinyinEngine(lex)


def _report(pos: dict[str, int | None], within: int) -> str:
    late = {ch: p for ch, p in pos.items() if p is None or p > within}
    return f"{len(late)} beyond {within}: " + " ".join(f"{ch}:{p}" for ch, p in late.items())


def test_the_lists_are_what_their_provenance_says() -> None:
    chars, surnames = listed("common_chars_500.txt"), listed("common_surnames_100.txt")
    assert len(chars) == len(set(chars)) == 500 and chars[:5] == list("的一不是了")
    assert len(surnames) == len(set(surnames)) == 100 and surnames[:3] == list("王李张")


def test_500_most_common_characters(eng: PinyinEngine) -> None:
    pos = positions(eng, listed("common_chars_500.txt"))
    in10 = sum(1 for p in pos.values() if p is not None and p <= 10)
    assert in10 >= 475, _report(pos, 10)
    assert all(p is not None and p <= 20 for p in pos.values()), _report(pos, 20)


def test_100_most_common_surnames(eng: PinyinEngine) -> None:
    pos = positions(eng, listed("common_surnames_100.txt"))
    in10 = sum(1 for p in pos.values() if p is not None and p <= 10)
    assert in10 >= 97, _report(pos, 10)
    assert all(p is not None and p <= 20 for p in pos.values()), _report(pos, 20)


def test_lu_puts_the_everyday_characters_on_page_one(eng: PinyinEngine) -> None:
    first = eng.candidates("lu", limit=10)
    assert "路" in first and "绿" in eng.candidates("lv", limit=5) and "芦" in eng.candidates("lu", limit=20)
    assert first.index("路") < first.index("禄") if "禄" in first else True
