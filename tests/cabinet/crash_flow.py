"""Run one cabinet flow in a child process, for the kill-at-every-step tests.

Usage: python -m tests.cabinet.crash_flow KIND DB_URL PTY_PATH PARCEL_ID  (code in env CRASH_TEST_CODE,
crash point in env KIOSK_CRASH_AT). Prints "OPEN <label>" once the door is open, then
waits for it to close and prints "DONE <outcome>". The simulator lives in the test process.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import time

from kiosk.storage.db import Database
from tests.cabinet.cabinet_support import FakePlatform, cab_config, make_bus, make_cabinet
from tests.cabinet.crash_scenarios import start


class ShiftedClock:
    """Real time passing from the test's fake 'now', so expiry stays consistent with the parent."""

    def __init__(self, start: dt.datetime) -> None:
        self._start, self._t0 = start, time.monotonic()
        self.tz = dt.UTC

    def monotonic(self) -> float:
        return time.monotonic()

    def now(self) -> dt.datetime:
        return self._start + dt.timedelta(seconds=time.monotonic() - self._t0)

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


def main() -> int:
    kind, db_url, pty, parcel_id = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    cfg = cab_config()
    db = Database(db_url)
    clock = ShiftedClock(dt.datetime.fromisoformat(os.environ["CRASH_TEST_NOW"]))
    cab = make_cabinet(db, make_bus(cfg, pty), cfg, clock, platform=FakePlatform())
    handle = start(cab, kind, parcel_id or None, os.environ.get("CRASH_TEST_CODE") or None)
    print("OPEN", handle.label, flush=True)
    result = cab.wait_closed(handle, timeout_s=20)
    print("DONE", result.outcome, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
