"""Colours and sizes. Sizes are in millimetres at the configured screen DPI, so a 15 mm target is 15 mm on the glass.

Colours are chosen for contrast (WCAG AAA, ≥ 7:1) because many users are elderly.
"""

from __future__ import annotations

from dataclasses import dataclass

MM_PER_INCH = 25.4
MIN_TARGET_MM = 15.0  # the smallest touch target the issue allows
GAP_MM = (
    4.0  # the least space between two buttons (defect 7 of issue 12: 1-2 mm made slips press the neighbour)
)

# (r, g, b, a) in 0..1
BG = (1, 1, 1, 1)
TEXT = (0, 0, 0, 1)
MUTED = (0.2, 0.2, 0.2, 1)  # 12.6:1 on white
PRIMARY = (0.04, 0.20, 0.50, 1)  # dark blue, 11:1 with white text
PRIMARY_TEXT = (1, 1, 1, 1)
SECONDARY = (0.88, 0.91, 0.96, 1)  # pale blue with black text, 17:1
DANGER = (0.62, 0.0, 0.08, 1)  # 9.6:1 on white
OK = (0.0, 0.38, 0.13, 1)  # dark green, 7.7:1 on white
HELP = (
    0.0,
    0.38,
    0.13,
    1,
)  # "Get help" in the blue header: green with white text (7.7:1), unlike any other button
BAND = (1.0, 0.84, 0.0, 1)  # yellow band with black text: "SIMULATED HARDWARE"
HEADER = (0.04, 0.20, 0.50, 1)
FOCUS = (1.0, 0.55, 0.0, 1)  # focus ring of the field being typed into
# A disabled button: grey with dark grey text (8.9:1), so its label stays readable (defect 7 of issue 12: white on
# pale blue was 1.4:1) and it still looks unlike any button that can be pressed.
DISABLED = (0.85, 0.85, 0.85, 1)
DISABLED_TEXT = MUTED
DOOR = (0.80, 0.80, 0.82, 1)
DOOR_OPEN = (1.0, 0.55, 0.0, 1)
DOOR_OFF = (0.45, 0.45, 0.45, 1)


@dataclass(frozen=True)
class Sizes:
    """Pixel sizes for one DPI and text scale."""

    dpi: float
    text_scale: float = 1.0
    key_scale: float = 1.0  # elder mode: larger keys and buttons too, not only larger text

    def mm(self, v: float) -> float:
        return v / MM_PER_INCH * self.dpi

    @property
    def target(self) -> float:
        """Height of an ordinary button: comfortably above the 15 mm minimum."""
        return self.mm(18) * self.key_scale

    @property
    def big_target(self) -> float:
        return self.mm(26) * self.key_scale

    @property
    def key(self) -> float:
        """A key of the numeric pad or keyboard: never below the minimum."""
        return self.mm(MIN_TARGET_MM + 1) * self.key_scale

    @property
    def pad(self) -> float:
        return self.mm(3)

    @property
    def gap(self) -> float:
        """Between buttons side by side or stacked: 4 mm, so a finger that misses one does not press its neighbour."""
        return self.mm(GAP_MM)

    # Type: body text is 7.5 mm (about 21 pt; 28 px at 96 dpi) by default, larger with the older-readers toggle.
    @property
    def fs_title(self) -> float:
        return self.mm(10.5) * self.text_scale

    @property
    def fs_body(self) -> float:
        return self.mm(7.5) * self.text_scale

    @property
    def fs_small(self) -> float:
        return self.mm(5.5) * self.text_scale

    @property
    def fs_huge(self) -> float:
        return self.mm(16) * self.text_scale
