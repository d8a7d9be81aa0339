"""Heartbeat (skew, device events once, catalog version) and the catalog cache when the platform is down."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from backend_client.sim import PlatformSim
from kiosk.applications import ApplicationService
from kiosk.catalog import CatalogService
from kiosk.clock import FakeClock, SystemClock
from kiosk.config import PlatformConfig
from kiosk.heartbeat import HeartbeatService
from kiosk.platform_models import DeviceHealth
from kiosk.storage.db import Database
from kiosk.storage.models import CatalogCache, DeviceEvent

from .helpers import SENIOR


def _events(db: Database, device: str) -> list[str]:
    with db.transaction() as s:
        return list(
            s.execute(
                select(DeviceEvent.state).where(DeviceEvent.device == device).order_by(DeviceEvent.id)
            ).scalars()
        )


def test_skew_from_platform_clock_offset_is_recorded_once(
    db: Database, sim: PlatformSim, client, pcfg: PlatformConfig
) -> None:
    hb = HeartbeatService(
        db, client, SystemClock(), pcfg, devices=lambda: [DeviceHealth("printer", "DEGRADED", "paper low")]
    )
    assert hb.beat_once().ok and _events(db, "clock") == []  # in step: nothing to say
    sim.clock_offset_s = 150  # the platform is 2.5 min ahead (still inside the 300 s token window)
    r = hb.beat_once()
    assert r.ok and 149 <= r.skew_s <= 151
    hb.beat_once()
    assert _events(db, "clock") == ["DEGRADED"]  # once, not per beat
    sim.clock_offset_s = 0
    hb.beat_once()
    assert _events(db, "clock") == ["DEGRADED", "OK"]
    seen = sim.backoffice.heartbeats["LS-HALL-01"]
    assert seen["devices"] == [("printer", "DEGRADED", "paper low")]


def test_skew_with_a_fake_kiosk_clock(db: Database, sim: PlatformSim, client, pcfg: PlatformConfig) -> None:
    # The client signs with the real clock; the heartbeat compares the server's time with the kiosk's (fake) one.
    clock = FakeClock(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=90))
    r = HeartbeatService(db, client, clock, pcfg).beat_once()
    assert -91.5 <= r.skew_s <= -88.5
    with db.transaction() as s:
        ev = s.execute(select(DeviceEvent).where(DeviceEvent.device == "clock")).scalar_one()
    assert ev.state == "DEGRADED" and "ahead of" in ev.detail


def test_platform_down_is_logged_once_each_way(
    db: Database, sim: PlatformSim, client, pcfg: PlatformConfig
) -> None:
    hb = HeartbeatService(db, client, SystemClock(), pcfg)
    assert hb.beat_once().ok
    sim.stop()
    assert not hb.beat_once().ok and not hb.beat_once().ok
    assert _events(db, "platform") == ["FAULT"]
    sim.start()
    assert hb.beat_once().ok
    assert _events(db, "platform") == ["FAULT", "OK"]


def test_heartbeat_refreshes_the_catalog_on_a_new_version(
    db: Database, sim: PlatformSim, client, pcfg: PlatformConfig, catalog: CatalogService
) -> None:
    v1 = catalog.current().version
    hb = HeartbeatService(db, client, SystemClock(), pcfg, catalog=catalog)
    assert not hb.beat_once().catalog_refreshed  # same version: no refetch
    n = sim.count("GetMatterCatalog")
    v2 = sim.backoffice.withdraw_matter("GJJ-DEPOSIT-CERT")
    r = hb.beat_once()
    assert r.catalog_refreshed and r.catalog_version == v2 != v1
    assert sim.count("GetMatterCatalog") == n + 1
    assert "GJJ-DEPOSIT-CERT" not in {m.code for m in catalog.matters()}
    with db.transaction() as s:
        assert s.execute(select(CatalogCache.version)).scalars().all() == [v2]


def test_catalog_served_from_cache_when_platform_down(
    db: Database, sim: PlatformSim, client, secret: bytes, catalog: CatalogService
) -> None:
    fetched = catalog.current()
    sim.stop()
    fresh = CatalogService(db, client, SystemClock())  # a restarted kiosk: nothing in memory
    assert fresh.current() == fetched
    assert fresh.matter("GA-HUKOU-CERT").fields[0].choices == ("入学", "就业", "出国", "其他")
    assert not fresh.ensure_version("some-new-version")  # cannot fetch: keeps serving the cache
    r = ApplicationService(db, secret, SystemClock(), fresh).submit(
        SENIOR, "GA-HUKOU-CERT", {"purpose": "就业", "copies": "2"}, "LOCKER"
    )
    assert r.state == "queued" and r.case_number is None


def test_no_cache_and_platform_down(db: Database, sim: PlatformSim, client) -> None:
    sim.stop()
    svc = CatalogService(db, client, SystemClock())
    assert svc.current() is None and svc.matters() == ()
