"""Helpers shared by the sub-command modules."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager

from kiosk.config import Config, load_config


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
