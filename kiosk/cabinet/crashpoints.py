"""Crash injection for tests: ``hit(name)`` SIGKILLs the process when KIOSK_CRASH_AT names that point.

A no-op otherwise. The kill-at-every-step tests run each flow in a
subprocess once per point in :data:`POINTS` and then check that start-up
reconciliation leaves a correct cabinet.
"""

from __future__ import annotations

import os
import signal

ENV = "KIOSK_CRASH_AT"

# Per flow: the opening record is committed (unlock not sent), the unlock is
# confirmed (not yet recorded), the open door is recorded, the door reads
# closed (outcome not yet committed), the outcome is committed.
_STEPS = ("opening", "after_unlock", "door_open", "closed", "done")
POINTS: tuple[str, ...] = (
    *(f"{kind}.{step}" for kind in ("deposit", "pickup", "dropoff", "collect") for step in _STEPS),
    "tech_open.opening",
    "tech_open.after_unlock",
)


def hit(name: str) -> None:
    """Die here, at once and without clean-up, if the environment asks for this point."""
    if name not in POINTS:
        raise ValueError(f"unknown crash point {name!r}")
    if os.environ.get(ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)
