"""PerChange: a read model built once per audited change and shared until the next one (or max_age_s)."""

from __future__ import annotations

import datetime as dt
import threading
import time

from hallkiosk.console.live import PerChange
from kiosk import audit
from kiosk.storage.db import Database


def test_built_once_per_change_and_at_most_max_age(db: Database) -> None:
    shared = PerChange(db, max_age_s=0.5)
    built: list[int] = []

    def build() -> int:
        built.append(len(built) + 1)
        return built[-1]

    assert shared.get("grid", build) == 1
    assert shared.get("grid", build) == 1  # nothing changed: the same value, not built again
    with db.transaction() as s:
        audit.append(s, dt.datetime.now(dt.UTC), "kiosk", "cabinet.disabled", "A01")
    assert shared.get("grid", build) == 2  # an audited change: built afresh
    assert shared.get("other", lambda: "x") == "x" and shared.get("grid", build) == 2  # names kept apart
    time.sleep(0.6)
    assert shared.get("grid", build) == 3  # what depends on time alone moves on by itself
    assert shared.builds == 4


def test_rewarm_builds_what_pages_asked_for_before_they_ask_again(db: Database) -> None:
    shared = PerChange(db)
    built: list[int] = []
    shared.get("grid", lambda: built.append(1) or len(built))
    with db.transaction() as s:
        audit.append(s, dt.datetime.now(dt.UTC), "kiosk", "cabinet.enabled", "A01")
    shared.rewarm()  # what the change feed does on seeing the new seq
    assert len(built) == 2
    shared.get("grid", lambda: built.append(1) or len(built))
    assert len(built) == 2  # the page's re-fetch found it built
    shared.rewarm()  # nothing changed since: nothing built
    assert len(built) == 2


def test_a_page_asking_during_a_build_waits_for_it_instead_of_building_beside_it(db: Database) -> None:
    shared = PerChange(db)
    started, release = threading.Event(), threading.Event()
    built: list[int] = []

    def slow() -> int:
        built.append(1)
        started.set()
        assert release.wait(10)
        return len(built)

    rewarm = threading.Thread(target=shared.get, args=("grid", slow), kwargs={"asked": False})
    rewarm.start()  # the change feed re-warming the grid
    assert started.wait(10)
    got: list[int] = []
    page = threading.Thread(target=lambda: got.append(shared.get("grid", slow)))
    page.start()  # a page's request arriving meanwhile
    time.sleep(0.2)
    assert got == []  # waiting for the build under way, not building a second grid beside it
    release.set()
    rewarm.join(10)
    page.join(10)
    assert got == [1] and len(built) == 1 and shared.builds == 1
    with db.transaction() as s:
        audit.append(s, dt.datetime.now(dt.UTC), "kiosk", "cabinet.disabled", "A01")
    assert shared.get("grid", lambda: 99) == 99  # a later change is still built afresh
