"""Handwriting recognition for Chinese fields: zinnia (Debian's libzinnia0) with the Tegaki Simplified Chinese model."""

from __future__ import annotations

from drivers.handwriting.zinnia import DEFAULT_MODEL, HandwritingError, Recognizer, Stroke

__all__ = ["DEFAULT_MODEL", "HandwritingError", "Recognizer", "Stroke"]
