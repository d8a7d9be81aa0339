"""Whether the kernel considers the system clock synchronised: adjtimex(2) read-only, through ctypes.

The kernel's own flag, so it answers the same with systemd-timesyncd, chrony, ntpd or none of them (and
without systemd): adjtimex returns TIME_ERROR, or sets STA_UNSYNC, while no time daemon has disciplined the
clock. A kiosk whose clock drifts issues pickup codes that expire at the wrong hour and is refused by a
platform that checks timestamps, so ``diag`` shows this beside the skew against the platform."""

from __future__ import annotations

import ctypes
import ctypes.util
from dataclasses import dataclass

TIME_ERROR = 5
STA_UNSYNC = 0x0040


class _Timex(ctypes.Structure):
    # struct timex of <sys/timex.h> (Linux, glibc); ctypes adds the same alignment padding as the C compiler.
    _fields_ = [
        ("modes", ctypes.c_uint),
        ("offset", ctypes.c_long),
        ("freq", ctypes.c_long),
        ("maxerror", ctypes.c_long),
        ("esterror", ctypes.c_long),
        ("status", ctypes.c_int),
        ("constant", ctypes.c_long),
        ("precision", ctypes.c_long),
        ("tolerance", ctypes.c_long),
        ("time_sec", ctypes.c_long),
        ("time_usec", ctypes.c_long),
        ("tick", ctypes.c_long),
        ("ppsfreq", ctypes.c_long),
        ("jitter", ctypes.c_long),
        ("shift", ctypes.c_int),
        ("stabil", ctypes.c_long),
        ("jitcnt", ctypes.c_long),
        ("calcnt", ctypes.c_long),
        ("errcnt", ctypes.c_long),
        ("stbcnt", ctypes.c_long),
        ("tai", ctypes.c_int),
        ("_reserved", ctypes.c_int * 11),
    ]


@dataclass(frozen=True)
class ClockSync:
    synchronised: bool
    state: int  # adjtimex's return value (TIME_OK 0 ... TIME_ERROR 5)
    status: int  # the STA_* bits
    maxerror_us: int  # the kernel's estimate of the worst error, microseconds


def read_clock_sync() -> ClockSync | None:
    """The kernel's view, or None where adjtimex is not available (not Linux)."""
    name = ctypes.util.find_library("c")
    if not name:
        return None
    libc = ctypes.CDLL(name, use_errno=True)
    if not hasattr(libc, "adjtimex"):
        return None
    tx = _Timex()  # modes = 0: read only, needs no privilege
    state = libc.adjtimex(ctypes.byref(tx))
    if state < 0:
        return None
    return ClockSync(
        synchronised=state != TIME_ERROR and not tx.status & STA_UNSYNC,
        state=state,
        status=tx.status,
        maxerror_us=tx.maxerror,
    )
