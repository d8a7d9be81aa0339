"""``kiosk platform ping``: can this kiosk talk to the provincial platform, and is its clock right?"""

from __future__ import annotations

import argparse
import time

from hallkiosk.cli.common import app_of
from kiosk import __version__
from kiosk.errors import PlatformAuthFailed, PlatformError, PlatformUnavailable

# Distinct from the KioskError exit codes (1, 3-6), so a script can tell what failed.
EXIT_OK, EXIT_UNAVAILABLE, EXIT_AUTH, EXIT_SKEW = 0, 7, 8, 9


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("platform", help="the provincial platform")
    s = p.add_subparsers(dest="platform_cmd", required=True)
    s.add_parser(
        "ping", help="heartbeat, clock skew and credentials check; non-zero exit on any failure"
    ).set_defaults(func=_ping)


def _ping(args: argparse.Namespace) -> int:
    with app_of(args) as app:
        pc = app.cfg.platform
        platform = app.platform
        simulated = bool(getattr(platform, "simulated", False))
        where = getattr(platform, "endpoint", pc.endpoint)
        print(f"endpoint:   {where}{'  (SIMULATED platform)' if simulated else ''}")
        print(f"user:       {pc.username}, kiosk {app.cfg.kiosk.id}")
        before = app.clock.now()
        t0 = time.perf_counter()
        try:
            hb = platform.heartbeat(f"hall-kiosk {__version__}", [])
        except PlatformAuthFailed as err:
            print(f"auth:       FAILED: {err.platform_message}")
            print(f"hint:       {err.hint}")
            return EXIT_AUTH
        except PlatformUnavailable as err:
            print(f"heartbeat:  FAILED: {err.message}")
            print(f"hint:       {err.hint}")
            return EXIT_UNAVAILABLE
        except PlatformError as err:
            print(f"heartbeat:  FAILED: {err.message}")
            return EXIT_UNAVAILABLE
        elapsed = time.perf_counter() - t0
        # Compare against the middle of the round trip so network latency does not count as skew.
        local_mid = before + (app.clock.now() - before) / 2
        skew = (hb.server_time - local_mid).total_seconds()
        print("auth:       ok (UsernameToken digest accepted)")
        print(f"heartbeat:  ok in {elapsed * 1000:.0f} ms, catalog version {hb.catalog_version}")
        verdict = "ok" if abs(skew) <= pc.max_clock_skew_s else "TOO FAR OFF: fix NTP on this kiosk"
        print(f"clock skew: {skew:+.1f} s against the platform (limit {pc.max_clock_skew_s:g} s): {verdict}")
        return EXIT_OK if abs(skew) <= pc.max_clock_skew_s else EXIT_SKEW
