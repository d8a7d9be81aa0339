"""Histories that a kiosk running for months keeps bounded: append, and forget the oldest past a limit.

Every list a long-running part appends to (requests a simulator saw, texts it sent, receipts it printed) has
an owner that names its bound next to it. A plain list stays the type, so callers and tests compare and index
it as before; trimming takes the oldest tenth at once, so an append stays O(1) on average.
"""

from __future__ import annotations

from typing import TypeVar

T = TypeVar("T")


def append_bounded(items: list[T], item: T, bound: int) -> None:
    """Append ``item``; once ``items`` holds more than ``bound`` (plus a tenth), keep only the newest ``bound``."""
    items.append(item)
    if len(items) > bound + max(1, bound // 10):
        del items[: len(items) - bound]
