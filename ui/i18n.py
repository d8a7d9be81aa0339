"""The string catalogue: every text the UI shows, in Chinese and English, from ui/locale/<lang>.json.

Kivy-free. Keys are dotted (``start.title``); error texts use the errors'
``citizen_key``. A key missing from one language is a test failure, and at run
time shows the other language rather than a raw key.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)
LOCALE_DIR = Path(__file__).with_name("locale")
LANGUAGES = ("zh", "en")


class Catalogue:
    def __init__(self, directory: Path = LOCALE_DIR) -> None:
        self.strings: dict[str, dict[str, str]] = {}
        for lang in LANGUAGES:
            with (directory / f"{lang}.json").open(encoding="utf-8") as f:
                self.strings[lang] = json.load(f)
        self._warned: set[str] = set()

    def t(self, key: str, lang: str, **params: Any) -> str:
        table = self.strings.get(lang) or self.strings["zh"]
        text = table.get(key)
        if text is None:
            other = next((self.strings[x][key] for x in LANGUAGES if key in self.strings[x]), None)
            if key not in self._warned:
                self._warned.add(key)
                log.error("string %r missing in %s", key, lang)
            text = other if other is not None else key
        if params:
            try:
                return text.format(**params)
            except (KeyError, IndexError, ValueError):
                log.error("string %r in %s does not take %s", key, lang, sorted(params))
                return text
        return text

    def has(self, key: str) -> bool:
        return all(key in t for t in self.strings.values())

    def missing(self) -> dict[str, set[str]]:
        """Keys each language lacks that another has."""
        every = set().union(*(set(t) for t in self.strings.values()))
        return {lang: every - set(t) for lang, t in self.strings.items() if every - set(t)}
