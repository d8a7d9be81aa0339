"""Run the diagnostics checks: each area on its own thread, so one area's timeouts do not stack on another's."""

from __future__ import annotations

import importlib
import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import kiosk
from kiosk.diag_model import AREAS, Area, Check, Report, Status
from kiosk.privacy import scrub

if TYPE_CHECKING:
    from hallkiosk.wiring import App
    from kiosk.storage.db import Database

log = logging.getLogger(__name__)
MiB = 1024 * 1024

# Each area is a module with ``run(ctx) -> list[Check]``.
AREA_MODULES: dict[str, str] = {
    "card": "hallkiosk.diag.card",
    "lockboards": "hallkiosk.diag.lockboards",
    "platform": "hallkiosk.diag.platform",
    "printer": "hallkiosk.diag.printer",
    "storage": "hallkiosk.diag.storage",
    "system": "hallkiosk.diag.system",
}


@dataclass(frozen=True)
class Options:
    """Knobs for one run; the defaults are what ``kiosk diag`` does."""

    # Look for boards answering at addresses the config does not name: "auto" when the driver can scan
    # with a short timeout, "full" even with the bus's own timeouts (slow), "off" never.
    scan_bus: Literal["auto", "full", "off"] = "auto"
    heartbeat: bool = True  # send a real SOAP Heartbeat (off for the heartbeat's own device probe)
    verify_audit: bool = True  # walk the whole audit chain
    passive: bool = (
        False  # only ask running drivers what they know; never open a port of a reader not running
    )
    disk_fault_bytes: int = 64 * MiB  # below this free space: FAULT
    disk_degraded_bytes: int = 512 * MiB  # below this free space: DEGRADED
    disk_degraded_ratio: float = 0.05  # or below this share free: DEGRADED
    clock_fault_s: float = 300.0  # the platform refuses tokens this far off

    def __post_init__(self) -> None:
        if self.scan_bus not in ("auto", "full", "off"):
            raise ValueError(f"scan_bus must be auto, full or off, not {self.scan_bus!r}")


class Pending:
    """A check being measured; finish it with ok(), degraded() or fault()."""

    def __init__(self, check_id: str, area: Area, title: str, device: str | None) -> None:
        self.id = check_id
        self.area = area
        self.title = title
        self.device = device
        self.waited_s = 0.0
        self.t0 = time.perf_counter()

    def done(self, status: Status, finding: str, hint: str = "", **data: Any) -> Check:
        return Check(
            id=self.id,
            area=self.area,
            title=self.title,
            status=status,
            finding=scrub(finding),
            hint=hint,
            device=self.device,
            data=data,
            duration_ms=(time.perf_counter() - self.t0) * 1000,
            waited_s=self.waited_s,
        )

    def ok(self, finding: str, **data: Any) -> Check:
        return self.done("OK", finding, **data)

    def degraded(self, finding: str, hint: str, **data: Any) -> Check:
        return self.done("DEGRADED", finding, hint, **data)

    def fault(self, finding: str, hint: str, **data: Any) -> Check:
        return self.done("FAULT", finding, hint, **data)


class Ctx:
    """What every check reads: the app, the options, a database handle, and the other areas' results."""

    def __init__(self, app: App, opts: Options, areas: Sequence[Area]) -> None:
        self.app = app
        self.cfg = app.cfg
        self.opts = opts
        self.areas = tuple(areas)
        self._db: Database | None = None
        self._own_db = False
        self._schema_missing: bool | None = None
        self._lock = threading.RLock()
        self.results: dict[str, list[Check]] = {}
        self._done = {a: threading.Event() for a in self.areas}

    def check(self, check_id: str, area: Area, title: str, device: str | None = None) -> Pending:
        return Pending(check_id, area, title, device)

    @property
    def app_db(self) -> Database | None:
        """The running app's database when it is open (the heartbeat's diag), else None: nothing is opened."""
        return self.app.__dict__.get("db")

    @property
    def db(self) -> Database:
        """The app's database when already open, else one opened here without migrating (diag never changes the schema)."""
        with self._lock:
            if self._db is None:
                if self.app_db is not None:
                    self._db = self.app_db
                else:
                    from kiosk.datadir import sqlite_file
                    from kiosk.errors import DatabaseLost
                    from kiosk.storage.db import Database

                    f = sqlite_file(self.cfg.storage_url)
                    if f is not None and not f.exists():  # opening it would create an empty one over the loss
                        raise DatabaseLost(f"the database {f} is missing")
                    self._db = Database(
                        self.cfg.storage_url,
                        busy_timeout_ms=self.cfg.storage.busy_timeout_ms,
                        kiosk_id=self.cfg.kiosk.id,
                    )
                    self._own_db = True
            return self._db

    def schema_missing(self) -> bool:
        """Whether the database has no schema at all (a kiosk never started): table reads would only fail."""
        with self._lock:
            if self._schema_missing is None:
                try:
                    self._schema_missing = self.db.current_revision() is None
                except Exception:  # the storage checks report why; here it only means "do not rely on tables"
                    self._schema_missing = False
            return self._schema_missing

    def finish(self, area: str, checks: list[Check]) -> None:
        self.results[area] = checks
        if area in self._done:
            self._done[area].set()

    def others(self, me: str, timeout_s: float) -> list[Check]:
        """The checks of every other area in this run, waiting up to ``timeout_s`` for them."""
        deadline = time.monotonic() + timeout_s
        out: list[Check] = []
        for area, ev in self._done.items():
            if area == me:
                continue
            ev.wait(max(0.0, deadline - time.monotonic()))
            out.extend(self.results.get(area, []))
        return out

    def close(self) -> None:
        if self._own_db and self._db is not None:
            self._db.dispose()


def parse_only(only: str | Iterable[str] | None) -> tuple[Area, ...]:
    """``None``/empty: every area; else the named ones (comma-separated or a list), in the fixed order."""
    if not only:
        return AREAS
    names = [only] if isinstance(only, str) else list(only)
    wanted = {p.strip() for n in names for p in n.split(",") if p.strip()}
    unknown = wanted - set(AREAS)
    if unknown:
        raise ValueError(
            f"unknown diagnostics area {', '.join(sorted(unknown))}; choose from {', '.join(AREAS)}"
        )
    return tuple(a for a in AREAS if a in wanted)


def _run_area(ctx: Ctx, area: Area) -> list[Check]:
    t0 = time.perf_counter()
    try:
        run: Callable[[Ctx], list[Check]] = importlib.import_module(AREA_MODULES[area]).run
        checks = run(ctx)
    except Exception as err:  # one broken area must not hide the others' findings
        log.exception("diagnostics area %s crashed", area)
        checks = [
            Check(
                id=f"{area}.error",
                area=area,
                title=f"{area} checks",
                status="FAULT",
                finding=scrub(f"the {area} checks could not run: {type(err).__name__}: {err}"),
                hint="This is a kiosk software fault; send a support bundle (`kiosk support-bundle`).",
                duration_ms=(time.perf_counter() - t0) * 1000,
            )
        ]
    ctx.finish(area, checks)
    return checks


def run_checks(app: App, only: str | Iterable[str] | None = None, options: Options | None = None) -> Report:
    """Run the checks of ``only`` (default: every area) against ``app``; never raises for a failing device."""
    areas = parse_only(only)
    ctx = Ctx(app, options or Options(), areas)
    report = Report(
        kiosk_id=app.cfg.kiosk.id,
        software_version=kiosk.__version__,
        started_at=app.clock.now(),
        areas=areas,
        simulated=tuple(app.simulated),
    )
    t0 = time.perf_counter()
    try:
        with ThreadPoolExecutor(max_workers=len(areas), thread_name_prefix="diag") as pool:
            futures = [pool.submit(_run_area, ctx, a) for a in areas]
            for f in futures:
                report.checks.extend(f.result())
    finally:
        ctx.close()
    report.duration_ms = (time.perf_counter() - t0) * 1000
    log.info("diagnostics: %s (%s)", report.status, report.counts())
    return report
