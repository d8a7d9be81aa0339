"""systemd's notify protocol (sd_notify(3)) without a dependency: READY=1, WATCHDOG=1, STOPPING=1, STATUS=.

A unit with ``Type=notify`` and ``WatchdogSec=`` hands the kiosk ``NOTIFY_SOCKET`` (a unix datagram socket; a
leading ``@`` is Linux's abstract namespace) and ``WATCHDOG_USEC``. The UI pings from its own main loop (see
:mod:`ui.watchdog`), so a hung UI thread stops the pings and systemd restarts the kiosk. Outside systemd both
variables are absent and every call is a no-op.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Mapping

log = logging.getLogger(__name__)


class Notifier:
    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        env = os.environ if env is None else env
        path = env.get("NOTIFY_SOCKET", "")
        self.address = ("\0" + path[1:]) if path.startswith("@") else path
        self.watchdog_usec = _watchdog_usec(env)
        self._failed = False

    @property
    def enabled(self) -> bool:
        return bool(self.address)

    @property
    def ping_interval_s(self) -> float | None:
        """How often to send WATCHDOG=1: half the watchdog timeout, as sd_watchdog_enabled(3) advises."""
        return self.watchdog_usec / 2e6 if self.watchdog_usec else None

    def notify(self, *fields: str) -> bool:
        """Send ``fields`` (e.g. "READY=1") as one datagram; False when not under systemd or the send failed."""
        if not self.address:
            return False
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as s:
                s.sendto("\n".join(fields).encode(), self.address)
        except OSError as err:
            if not self._failed:  # logged once: a ping every few seconds must not flood the journal
                log.warning("sd_notify to %s failed: %s", self.address.lstrip("\0"), err.strerror)
            self._failed = True
            return False
        self._failed = False
        return True


def _watchdog_usec(env: Mapping[str, str]) -> int | None:
    """WATCHDOG_USEC, unless WATCHDOG_PID names another process (the variables were inherited, not meant for us)."""
    pid = env.get("WATCHDOG_PID")
    if pid and pid != str(os.getpid()):
        return None
    try:
        usec = int(env.get("WATCHDOG_USEC", ""))
    except ValueError:
        return None
    return usec if usec > 0 else None
