"""Pinyin input for the on-screen keyboard: a pure engine, its index, and a Kivy candidate bar.

``engine`` and ``lexicon`` import no Kivy (the bar lives in ``ui.pinyin.candidates``), so they can be
tested and benchmarked without a window. Names are resolved lazily so that ``python -m ui.pinyin.lexicon``
(the cache prebuild) does not import its own module twice.
"""

from __future__ import annotations

import importlib
from typing import Any

_WHERE = {
    "Candidate": "engine",
    "PinyinEngine": "engine",
    "normalise": "engine",
    "split": "engine",
    "Lexicon": "lexicon",
    "build_lexicon": "lexicon",
    "load_in_background": "lexicon",
    "load_or_build": "lexicon",
    "seed_lexicon": "lexicon",
}
__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(importlib.import_module(f"ui.pinyin.{_WHERE[name]}"), name)
    raise AttributeError(name)
