"""Text from outside (config, command line, a person typing) made safe to show on a terminal and to store.

Terminal escape sequences can rewrite a technician's screen, bidi controls can make
``A01`` read as another label or reverse a command, zero-width characters make two
identical-looking values differ. They are shown and stored escaped (``\\x1b``,
``\\u202e``), visibly, instead of being obeyed or silently dropped; everything else,
Chinese included, is left as it is.
"""

from __future__ import annotations

import unicodedata

# Categories: Cc control (C0, DEL, C1), Cf format (bidi controls, zero-width, BOM), Cs/Co/Cn, line/para separators.
_UNSAFE = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


def _escape(ch: str) -> str:
    n = ord(ch)
    return f"\\x{n:02x}" if n < 0x100 else f"\\u{n:04x}" if n < 0x10000 else f"\\U{n:08x}"


def printable(text: str) -> str:
    """``text`` with every control, format (bidi, zero-width) and unassigned character escaped; a backslash stays."""
    if text.isascii() and text.isprintable():
        return text
    return "".join(_escape(ch) if unicodedata.category(ch) in _UNSAFE else ch for ch in text)
