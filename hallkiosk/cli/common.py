"""Helpers shared by the sub-command modules."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from kiosk.config import Config, load_config


def whole(lo: int, hi: int) -> Callable[[str], int]:
    """An argparse type: a whole number from ``lo`` to ``hi`` (huge or negative counts never reach a query)."""

    def parse(text: str) -> int:
        try:
            n = (
                int(text) if len(text) <= 20 else None
            )  # int() of a 100,000-digit string is slow and pointless
        except ValueError:
            n = None
        if n is None or not lo <= n <= hi:
            raise argparse.ArgumentTypeError(f"expected a whole number from {lo} to {hi}")
        return n

    parse.__name__ = "whole number"
    return parse


def seconds(hi: float) -> Callable[[str], float]:
    """An argparse type: seconds from 0 to ``hi`` (no inf, no NaN)."""

    def parse(text: str) -> float:
        try:
            x = float(text) if len(text) <= 20 else -1.0
        except ValueError:
            x = -1.0
        if not 0 <= x <= hi:  # NaN fails this too
            raise argparse.ArgumentTypeError(f"expected seconds from 0 to {hi:g}")
        return x

    parse.__name__ = "seconds"
    return parse


ROW_ID = whole(1, 2**31 - 1)  # a database row id (PostgreSQL INTEGER)


def config_of(args: argparse.Namespace) -> Config:
    return load_config(getattr(args, "config", None))


@contextmanager
def app_of(args: argparse.Namespace) -> Iterator[App]:  # noqa: F821
    from hallkiosk.wiring import App

    app = App(config_of(args))
    try:
        yield app
    finally:
        app.close()
