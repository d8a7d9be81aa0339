"""A headless kiosk process for the console's fleet test: the real runtime (simulated lock board, card
reader, printer and platform) with its real status hook, until it is killed.

Usage: python -m tests.console.kiosk_proc CONFIG_PATH
"""

from __future__ import annotations

import sys
import time

from hallkiosk.runtime import Runtime
from kiosk.config import load_config


def main() -> None:
    rt = Runtime(load_config(sys.argv[1]))
    rt.screen_name = "start"  # what the touch UI would set on its first screen
    rt.start()
    if not rt.wait_ready(60) or rt.start_error is not None:
        print(f"failed: {rt.start_error}", flush=True)
        sys.exit(1)
    print("ready", flush=True)
    while True:
        time.sleep(1)


if __name__ == "__main__":
    main()
