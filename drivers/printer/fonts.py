"""Finding a font that has Chinese glyphs: configured by path, or looked up in the usual Debian places.

Never assumed: when none is found the caller gets a ConfigError that says what to install.
"""

from __future__ import annotations

from pathlib import Path

from kiosk.errors import ConfigError

# Debian/Ubuntu package paths, most preferred first.
CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",  # fonts-wqy-microhei
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",  # fonts-noto-cjk
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",  # fonts-wqy-zenhei
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",  # fonts-droid-fallback
)


def find_cjk_font(configured: str = "", candidates: tuple[str, ...] = CANDIDATES) -> Path:
    """The font file to use; raises ConfigError naming the key and the package to install."""
    if configured:
        p = Path(configured).expanduser()
        if not p.is_file():
            raise ConfigError(
                f"ui.font: {p} does not exist or is not a file",
                hint="Set ui.font to a TTF/TTC/OTF file with Chinese glyphs, or install fonts-wqy-microhei.",
            )
        return p
    for c in candidates:
        if Path(c).is_file():
            return Path(c)
    raise ConfigError(
        "ui.font: no Chinese (CJK) font found; looked in " + ", ".join(candidates),
        hint="apt-get install fonts-wqy-microhei, or set ui.font to a font file with Chinese glyphs.",
    )
