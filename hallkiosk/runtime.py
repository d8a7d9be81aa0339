"""The runtime: one object the UI calls, composing the App with the cabinet, applications, catalog, outbox and readers.

It inherits nothing. The core services, built on first use, have one owner, ``rt.parts``
(:mod:`hallkiosk.services.parts`); what the screens call is a composed service per concern, each typed against
:class:`hallkiosk.services.core.Core`: ``rt.citizen``, ``rt.filing``, ``rt.feedback``, ``rt.doors``,
``rt.staff``, ``rt.tech`` and ``rt.sims``. The runtime itself keeps the threading, the card readers, the platform
notice, staff sign-in and the life cycle with its background loops.

Kivy-free on purpose: the UI hands in ``post`` (how to run a callable on its
main thread) and everything else happens here. Blocking work (a door opening,
a platform call) runs on a small worker pool; its result, or its error, comes
back through ``post`` so widgets are only ever touched on the main thread and
a slow platform never freezes the screen. Card readers call in from their own
threads and are forwarded the same way.
"""

from __future__ import annotations

import hmac
import logging
import math
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from hallkiosk.services.citizen import CitizenService
from hallkiosk.services.doors import DoorService
from hallkiosk.services.feedback import FeedbackService
from hallkiosk.services.filing import FilingService
from hallkiosk.services.parts import Parts
from hallkiosk.services.sims import SimService
from hallkiosk.services.staff import StaffService
from hallkiosk.services.tech import TechService
from hallkiosk.simulators import simulated_parts
from kiosk import notes
from kiosk.config import Config
from kiosk.errors import KioskError, PlatformUnavailable
from kiosk.ports import CardEvent, Printer

if TYPE_CHECKING:
    from hallkiosk.wiring import App
    from kiosk.voice import Voice

log = logging.getLogger(__name__)

Post = Callable[[Callable[[], None]], None]
T = TypeVar("T")
StaffRole = Literal["staff", "technician"]


def _run_now(fn: Callable[[], None]) -> None:
    fn()


# Wrong staff/technician PINs: this many within the window lock PIN sign-in for the lockout.
PIN_MAX_WRONG = 5
PIN_WINDOW_S = 600.0
PIN_LOCKOUT_S = 300


@dataclass
class PlatformStatus:
    """What the start screen says about the platform: unknown until the first heartbeat or call."""

    reachable: bool | None = None
    detail: str = ""


class Runtime:
    """The kiosk as the UI sees it. Call :meth:`start` once, :meth:`stop` at exit."""

    def __init__(self, cfg: Config, *, post: Post | None = None, workers: int = 4) -> None:
        self.cfg = cfg
        self._app: App | None = None
        self._app_lock = threading.Lock()
        self._ready = threading.Event()  # set once storage, cabinet, readers and senders are up
        self.start_error: BaseException | None = None
        self._post: Post = post or _run_now
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="kiosk-worker")
        self._card_listeners: list[Callable[[CardEvent], None]] = []
        self._status_listeners: list[Callable[[PlatformStatus], None]] = []
        self.platform_status = PlatformStatus()
        self._pin_failures: list[float] = []  # monotonic times of recent wrong PINs
        self._pin_locked_until = 0.0
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._started = False
        self.printer: Printer | None = None
        self.screen_name = (
            ""  # which screen shows (the UI sets it; the console's kiosk row reports it, never who)
        )
        # The core services (built on first use) and the screens' services, composed (hallkiosk/services): each
        # gets the parts it uses, typed by services.core.Core.
        self.parts = Parts(cfg, lambda: self.app)
        self.citizen = CitizenService(self)
        self.filing = FilingService(self)
        self.feedback = FeedbackService(self)
        self.doors = DoorService(self)
        self.staff = StaffService(self)
        self.tech = TechService(self)
        self.sims = SimService(cfg, lambda: self.app, self._ready, lambda: self.printer, self._on_card_event)

    @property
    def app(self) -> App:
        """The composition root, built on first use. Importing it pulls in SQLAlchemy, Alembic and the drivers,
        which is why the UI's first frame does not wait for it (see :meth:`start`)."""
        if self._app is None:
            with self._app_lock:
                if self._app is None:
                    from hallkiosk.wiring import App

                    self._app = App(self.cfg)
        return self._app

    @cached_property
    def voice(self) -> Voice:
        """The kiosk's voice (espeak-ng; silent without a sound card), ready before the core: the start screen speaks."""
        from drivers.speech import build_voice

        return build_voice(self.cfg.voice, self.cfg.data_dir / "cache")

    @property
    def stopping(self) -> threading.Event:
        """Set by :meth:`stop`: long waits (door tests, a door left open) end early."""
        return self._stop

    @property
    def ready(self) -> bool:
        return self._ready.is_set()

    def wait_ready(self, timeout_s: float | None = None) -> bool:
        return self._ready.wait(timeout_s)

    # --- threading ------------------------------------------------------------
    def set_poster(self, post: Post) -> None:
        """The UI installs its main-thread scheduler (Kivy's Clock) here before :meth:`start`."""
        self._post = post

    def post(self, fn: Callable[[], None]) -> None:
        self._post(fn)

    def run(
        self,
        fn: Callable[..., Any],
        *args: Any,
        on_done: Callable[[Any], None] | None = None,
        on_error: Callable[[BaseException], None] | None = None,
        **kwargs: Any,
    ) -> Future[Any]:
        """Run ``fn`` on a worker; deliver its result or error on the main thread."""

        def work() -> Any:
            try:
                self._ready.wait()  # a tap during the first second waits for the core, it is not refused
                if self.start_error is not None:
                    raise self.start_error
                result = fn(*args, **kwargs)
            except BaseException as err:
                if not isinstance(err, KioskError):
                    log.exception("unexpected error in %s", getattr(fn, "__name__", fn))
                if on_error is not None:
                    self._post(lambda e=err: on_error(e))
                raise
            if on_done is not None:
                self._post(lambda: on_done(result))
            return result

        return self._pool.submit(work)

    # --- card readers ---------------------------------------------------------
    def add_card_listener(self, fn: Callable[[CardEvent], None]) -> None:
        self._card_listeners.append(fn)

    def _on_card_event(self, ev: CardEvent) -> None:
        # Called on a reader's thread: never touch listeners' state here, only hand over.
        log.info("card event %s from %s", ev.kind, ev.reader)
        for fn in list(self._card_listeners):
            self._post(lambda fn=fn: fn(ev))

    # --- platform status ------------------------------------------------------
    def add_status_listener(self, fn: Callable[[PlatformStatus], None]) -> None:
        self._status_listeners.append(fn)

    def set_platform_status(self, reachable: bool, detail: str = "") -> None:
        """Record reachability; tell the UI only when it changes (a down platform is logged once)."""
        if self.platform_status.reachable == reachable:
            return
        if reachable:
            log.log(
                logging.INFO if self.platform_status.reachable is None else logging.WARNING,
                "platform reachable"
                if self.platform_status.reachable is None
                else "platform reachable again",
            )
        else:
            log.warning("platform unreachable: %s", detail)
        self.platform_status = PlatformStatus(reachable=reachable, detail=detail)
        st = self.platform_status
        for fn in list(self._status_listeners):
            self._post(lambda fn=fn: fn(st))

    def platform_call(self, fn: Callable[..., T], *args: Any, **kw: Any) -> T:
        """A direct platform call that also keeps the start screen's reachability notice true."""
        try:
            out = fn(*args, **kw)
        except PlatformUnavailable as err:
            self.set_platform_status(False, err.message)
            raise
        self.set_platform_status(True)
        return out

    def beat(self) -> bool:
        """One heartbeat now; the start screen's notice follows its outcome."""
        res = self.parts.heartbeat.beat_once()
        self.set_platform_status(res.ok, "" if res.ok else getattr(res.error, "message", "heartbeat failed"))
        return res.ok

    def readers_present(self) -> bool | None:
        """Whether any card reader answers; None while the kiosk is still starting."""
        if not self._ready.is_set():
            return None
        return any(r.is_present() for r in self.app.card_readers)

    # --- staff access ---------------------------------------------------------
    def is_staff_badge(self, badge_uid: str | None) -> bool:
        """A badge of the config's list, or of an enabled member of the hall's staff directory."""
        if not badge_uid:
            return False
        return (
            badge_uid.upper() in self.cfg.kiosk.staff_badges or self._directory_member(badge_uid) is not None
        )

    def staff_id_of(self, badge_uid: str) -> str:
        """The staff id the audit names for a badge: the directory's, else (config badges) the badge itself."""
        member = self._directory_member(badge_uid)
        return member.staff_id if member is not None else badge_uid

    def _directory_member(self, badge_uid: str) -> Any:
        if not self.ready or self.start_error is not None:
            return None
        from kiosk.staff import StaffDirectory

        try:
            return StaffDirectory(self.app.db, self.app.secret, self.app.clock).by_badge(badge_uid)
        except KioskError as err:
            log.warning("staff directory not readable: %s", err)
            return None

    def staff_pin_required(self) -> bool:
        """Badge + PIN when the staff PIN variable is set, badge alone otherwise."""
        return bool(os.environ.get(self.cfg.kiosk.staff_pin_env))

    def technician_enabled(self) -> bool:
        return bool(os.environ.get(self.cfg.kiosk.technician_pin_env))

    def clear_pin_lockout(self) -> None:
        """Forget wrong PINs and lift a lockout (a restart does the same)."""
        self._pin_failures.clear()
        self._pin_locked_until = 0.0

    def pin_locked_for(self) -> int | None:
        """Seconds until PINs are accepted again after too many wrong ones, or None."""
        left = self._pin_locked_until - time.monotonic()
        return math.ceil(left) if left > 0 else None

    def pin_tries_left(self) -> int:
        """Wrong PINs still allowed before sign-in locks for PIN_LOCKOUT_S."""
        now = time.monotonic()
        return max(0, PIN_MAX_WRONG - sum(1 for t in self._pin_failures if now - t < PIN_WINDOW_S))

    def check_pin(self, role: StaffRole, pin: str) -> bool:
        """Constant-time PIN check against the environment; no PIN configured means no access.

        After PIN_MAX_WRONG wrong PINs within PIN_WINDOW_S every PIN is refused for PIN_LOCKOUT_S (audited), so a
        six-digit PIN cannot be guessed at an unattended kiosk at night.
        """
        if self.pin_locked_for() is not None:
            return False
        env = self.cfg.kiosk.technician_pin_env if role == "technician" else self.cfg.kiosk.staff_pin_env
        expected = os.environ.get(env, "")
        ok = bool(expected) and hmac.compare_digest(expected.encode(), pin.encode())
        self.run(lambda: self.app.audit(role, "pin_ok" if ok else "pin_wrong"))
        if not ok:
            now = time.monotonic()
            self._pin_failures = [t for t in self._pin_failures if now - t < PIN_WINDOW_S] + [now]
            if len(self._pin_failures) >= PIN_MAX_WRONG:
                self._pin_failures.clear()
                self._pin_locked_until = now + PIN_LOCKOUT_S
                log.warning("%d wrong PINs: PIN sign-in refused for %d s", PIN_MAX_WRONG, PIN_LOCKOUT_S)
                self.run(lambda: self.app.audit(role, "pin_lockout", seconds=PIN_LOCKOUT_S))
        return ok

    # --- life cycle -----------------------------------------------------------
    @property
    def simulated(self) -> list[str]:
        """Which parts run on simulators (the SIMULATED HARDWARE band, on the very first frame)."""
        return simulated_parts(self.cfg)

    def start(self) -> None:
        """Start everything on a background thread; calls made meanwhile wait for it (see :meth:`run`)."""
        if self._started:
            return
        self._started = True
        self._spawn("kiosk-start", self._start_blocking)

    def _start_blocking(self) -> None:
        """Open the storage, reconcile unfinished flows, start the readers and background senders."""
        try:
            self._start_parts()
        except BaseException as err:
            self.start_error = err
            log.critical("the kiosk core did not start: %s", err)
        finally:
            self._ready.set()

    def _start_parts(self) -> None:
        if self.simulated:
            log.warning("SIMULATED HARDWARE in use: %s", ", ".join(self.simulated))
        self.app.db  # noqa: B018 - building it applies the migrations before anything else runs
        self._start_background()
        for reader in self.app.card_readers:
            try:
                reader.start(self._on_card_event)
            except KioskError as err:
                log.error("card reader %s did not start: %s", getattr(reader, "name", "?"), err)

    def _start_background(self) -> None:
        """The printer, the cabinet's start-up reconciliation, the outbox sender and the loops that run for as
        long as the kiosk does."""
        from drivers.printer import build_printer

        self.printer = build_printer(self.cfg.printer, self.cfg.data_dir)
        report = self.parts.cabinet.start()
        if report.staff_tasks:
            log.warning("start-up reconciliation raised %d staff task(s)", len(report.staff_tasks))
        self.parts.sender.start()
        self._spawn("heartbeat", self._heartbeat_loop)
        self._spawn("cabinet-doors", self.doors.loop)
        self._spawn("kiosk-status", self._status_loop)  # the hall console's kiosk row (issue 14)
        self._spawn(
            "console-link", lambda: self.parts.console_link.loop(self._stop)
        )  # hallkiosk.console_link
        self._spawn("pickup-reminders", self._reminders_loop)
        self._spawn(  # staff notes past their retention (kiosk.notes)
            "notes-purge",
            lambda: notes.purge_loop(
                self.app.db, self.app.clock, self.cfg.storage.notes_retention_days, self._stop
            ),
        )

    def _heartbeat_loop(self) -> None:
        # Our own loop around beat_once (rather than HeartbeatService.start) so every beat updates the start screen.
        while not self._stop.is_set():
            try:
                self.beat()
            except Exception:  # the loop must outlive a database hiccup
                log.exception("heartbeat failed unexpectedly")
            self._stop.wait(self.cfg.platform.heartbeat_interval_s)

    def _status_loop(self) -> None:
        from hallkiosk.status_report import status_loop

        status_loop(
            self.app,
            self._stop,
            screen=lambda: self.screen_name,
            platform_reachable=lambda: self.platform_status.reachable,
        )

    def _reminders_loop(self) -> None:
        """Queue the PICKUP_REMINDERs that fall due (two days before a code expires), now and then."""
        while not self._stop.wait(self.cfg.pickup.reminders_interval_s):
            try:
                self.parts.pickup_notices.queue_due_reminders()
            except Exception:  # the loop must outlive a database hiccup
                log.exception("queueing pickup reminders failed unexpectedly")

    def _spawn(self, name: str, target: Callable[[], None]) -> None:
        t = threading.Thread(target=target, name=name, daemon=True)
        t.start()
        self._threads.append(t)

    def stop(self) -> None:
        self._stop.set()
        if "voice" in self.__dict__:
            self.voice.close()
        if self._started:
            self._ready.wait(30)  # never tear down under a start still in progress
        app = self._app
        if app is None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            return
        for reader in app.__dict__.get("card_readers", []):
            try:
                reader.stop()
            except Exception:  # stopping must go on for the others
                log.exception("stopping a card reader")
        if self.parts.built("sender"):
            self.parts.sender.stop(timeout_s=5)
        self._pool.shutdown(wait=True, cancel_futures=True)
        for t in self._threads:
            if t is not threading.current_thread():
                t.join(timeout=5)
        app.close()
