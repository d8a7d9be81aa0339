"""A kiosk process for the crash test: drains the outbox until it is killed.

Usage: python kiosk_proc.py DB_URL PLATFORM_URL SECRET_HEX
"""

from __future__ import annotations

import sys
import time

from backend_client.client import PlatformClient
from kiosk.clock import SystemClock
from kiosk.config import PlatformConfig
from kiosk.outbox_sender import OutboxSender
from kiosk.storage.db import Database

USER, PASSWORD, KIOSK = "kiosk-test", "test-password-not-a-secret", "LS-HALL-01"


def main() -> None:
    db_url, url, secret_hex = sys.argv[1:4]
    cfg = PlatformConfig(
        timeout_s=5, connect_timeout_s=1, outbox_backoff_initial_s=0.05, outbox_backoff_max_s=0.4
    )
    client = PlatformClient(
        url, USER, PASSWORD, KIOSK, timeout_s=cfg.timeout_s, connect_timeout_s=cfg.connect_timeout_s
    )
    sender = OutboxSender(
        Database(db_url), client, bytes.fromhex(secret_hex), SystemClock(), cfg, lease_margin_s=0.5
    )
    print("ready", flush=True)
    while True:
        sender.run_once()
        time.sleep(0.05)


if __name__ == "__main__":
    main()
