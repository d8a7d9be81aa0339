"""The console's browser tests: Debian's chromium driven by Playwright (never `playwright install`)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import _pg_database
from tests.console.hall import PASSWORD, Hall, make_hall
from tests.support.postgres import need_pg

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "console"


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def hall(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hall]:
    tmp = tmp_path_factory.mktemp(f"hall-{request.param}")
    if request.param == "sqlite":
        h = make_hall(tmp, f"sqlite:///{tmp / 'hall.db'}", "sqlite")
        yield h
        h.stop()
        return
    need_pg()
    gen = _pg_database()
    url = next(gen)
    h = make_hall(tmp, url, "postgresql")
    yield h
    h.stop()
    gen.close()


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not shutil.which(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: make test installs Debian's chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                # The help-request chime plays without a click on the page, as after a staff member's first tap.
                "--autoplay-policy=no-user-gesture-required",
            ],
        )
        yield b
        b.close()


@pytest.fixture
def context(browser: object) -> Iterator[object]:
    # A 10-inch tablet in landscape (1280 x 800 CSS pixels).
    ctx = browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN")  # type: ignore[attr-defined]
    ctx.set_default_timeout(10_000)
    yield ctx
    ctx.close()


@pytest.fixture
def page(context: object) -> object:
    return context.new_page()  # type: ignore[attr-defined]


def login(page: object, hall: Hall, staff_id: str, password: str = PASSWORD) -> None:
    page.goto(hall.url + "/login")  # type: ignore[attr-defined]
    page.fill("input[name=staff_id]", staff_id)  # type: ignore[attr-defined]
    page.fill("input[name=password]", password)  # type: ignore[attr-defined]
    page.click("button[type=submit]")  # type: ignore[attr-defined]
    page.wait_for_load_state()  # type: ignore[attr-defined]
