"""READY=1 once the first frame is on the glass, then WATCHDOG=1 from Kivy's Clock on the UI thread.

The pings come from the main loop itself, not from a helper thread: a UI thread stuck in a call (a driver
that never returns, a deadlock) stops them, and systemd's ``WatchdogSec`` restarts the kiosk.

``HALL_KIOSK_TEST_BLOCK_UI_AFTER_S`` is a test hook: that many seconds after READY=1 a callback blocks the UI
thread for good, as a real hang would (tests/deploy/test_watchdog.py). Nothing sets it in production.
"""

from __future__ import annotations

import logging
import os
import threading
from typing import Any

from kivy.clock import Clock

from hallkiosk.sdnotify import Notifier

log = logging.getLogger(__name__)
TEST_BLOCK_ENV = "HALL_KIOSK_TEST_BLOCK_UI_AFTER_S"


class UiWatchdog:
    def __init__(self, notifier: Notifier | None = None) -> None:
        self.notifier = notifier or Notifier()
        self._event: Any = None

    def ready(self) -> None:
        """Call on the UI thread when the first frame is shown."""
        if not self.notifier.enabled:
            return
        self.notifier.notify("READY=1", "STATUS=touch UI up")
        interval = self.notifier.ping_interval_s
        if interval:
            log.info("systemd watchdog: pinging every %.1f s from the UI loop", interval)
            self._event = Clock.schedule_interval(lambda _dt: self.notifier.notify("WATCHDOG=1"), interval)
        block_after = os.environ.get(TEST_BLOCK_ENV)
        if block_after:
            log.warning(
                "%s set: the UI thread will block after %s s (test hook)", TEST_BLOCK_ENV, block_after
            )
            Clock.schedule_once(lambda _dt: threading.Event().wait(), float(block_after))

    def stopping(self) -> None:
        if self._event is not None:
            self._event.cancel()
        self.notifier.notify("STOPPING=1")
