"""XML Schema regular expressions (the catalog's FieldSpec.pattern), matched with Python's ``re``.

XSD patterns differ from Python's: they are anchored to the whole value
implicitly, ``^`` and ``$`` are ordinary characters, there are the ``\\i`` /
``\\c`` name classes, ``\\p{Is...}`` blocks and class subtraction
(``[a-z-[aeiou]]``). elementpath (the XPath engine under xmlschema) translates
them; with every XPath extension switched off it gives the XSD 1.0 dialect.
"""

from __future__ import annotations

import functools
import re

from elementpath.regex import RegexError, translate_pattern


class XsdPatternError(ValueError):
    """The pattern itself is not a valid XSD regular expression."""


@functools.lru_cache(maxsize=512)
def compile_xsd(pattern: str) -> re.Pattern[str]:
    """The pattern translated and compiled; raises XsdPatternError when it is not valid XSD."""
    try:
        translated = translate_pattern(
            pattern, xsd_version="1.0", back_references=False, lazy_quantifiers=False, anchors=False
        )
        return re.compile(translated)
    except (RegexError, re.error) as err:
        raise XsdPatternError(f"not a valid XSD pattern: {err}") from err


def xsd_match(pattern: str, value: str) -> bool:
    """Whether the whole ``value`` matches the XSD ``pattern``."""
    return compile_xsd(pattern).match(value) is not None
