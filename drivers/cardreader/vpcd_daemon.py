"""A private pcscd with the vsmartcard-vpcd driver, for tests, benchmarks and demos without hardware.

pcsc-lite 1.9.x's daemon always binds /run/pcscd/pcscd.comm (it ignores PCSCLITE_CSOCK_NAME), so
it runs in its own mount namespace (``unshare --mount``) with a private directory bind-mounted on
/run/pcscd; clients find its socket through ``PCSCLITE_CSOCK_NAME`` (honoured by libpcsclite and
read once per process, before the first PC/SC call). Its vpcd listens on free ports of its own,
so a system pcscd, stale or not, is never touched. Needs root for the mount namespace.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

VPCD_LIB = Path("/usr/lib/pcsc/drivers/serial/libifdvpcd.so")
READER0 = "Virtual PCD 00 00"
READER1 = "Virtual PCD 00 01"


def free_port_pair() -> int:
    """A base port p with p and p+1 both free (vpcd listens on one port per slot)."""
    for _ in range(50):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            p = s.getsockname()[1]
        if p >= 65535:
            continue
        try:
            with socket.socket() as a, socket.socket() as b:
                a.bind(("0.0.0.0", p))
                b.bind(("0.0.0.0", p + 1))
            return p
        except OSError:
            continue
    raise RuntimeError("no free port pair for vpcd")


@dataclass
class PrivatePcscd:
    """A pcscd of our own: start(), stop(), restart(); ``port`` is vpcd's reader-0 port."""

    root: Path
    port: int
    proc: subprocess.Popen[bytes] | None = None
    log: Path = field(init=False)

    def __post_init__(self) -> None:
        self.conf = self.root / "reader.conf.d"
        self.run = self.root / "run"
        self.log = self.root / "pcscd.log"
        self.conf.mkdir(parents=True, exist_ok=True)
        self.run.mkdir(parents=True, exist_ok=True)
        (self.conf / "vpcd").write_text(
            f'FRIENDLYNAME "Virtual PCD"\nDEVICENAME   /dev/null:0x{self.port:04X}\n'
            f"LIBPATH      {VPCD_LIB}\nCHANNELID    0x{self.port:04X}\n"
        )

    @property
    def socket_path(self) -> Path:
        return self.run / "pcscd.comm"

    def command(self) -> list[str]:
        script = (
            "mount --make-rprivate / && mkdir -p /run/pcscd && "
            f"mount --bind '{self.run}' /run/pcscd && exec pcscd --foreground --config '{self.conf}'"
        )
        return ["unshare", "--mount", "sh", "-c", script]

    def start(self, timeout_s: float = 10.0, *, probe: bool = True) -> None:
        """Start and wait until it serves; ``probe=False`` waits for its socket only, for a process whose
        own PC/SC client already talks to another daemon (libpcsclite picks its socket once per process)."""
        for stale in ("pcscd.comm", "pcscd.pid"):
            (self.run / stale).unlink(missing_ok=True)
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                self.command(), stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            if self.socket_path.exists() and (self._listening() if probe else _settle(0.3)):
                return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(
            f"private pcscd did not come up; its log:\n{self.log.read_text(errors='replace')[-2000:]}"
        )

    def _listening(self) -> bool:
        """pcscd answers and lists the vpcd readers (asked through the same client library as the driver)."""
        from smartcard import scard as sc

        hr, ctx = sc.SCardEstablishContext(sc.SCARD_SCOPE_USER)
        if hr != sc.SCARD_S_SUCCESS:
            return False
        try:
            hr, readers = sc.SCardListReaders(ctx, [])
            return hr == sc.SCARD_S_SUCCESS and READER0 in (readers or [])
        finally:
            sc.SCardReleaseContext(ctx)

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()


def _settle(seconds: float) -> bool:
    time.sleep(seconds)  # the vpcd readers appear just after the socket
    return True


def wait_card_state(reader: str, present: bool, timeout_s: float = 3.0) -> None:
    """Wait until pcscd sees the reader with or without a card (it polls vpcd every 400 ms)."""
    from smartcard import scard as sc

    hr, ctx = sc.SCardEstablishContext(sc.SCARD_SCOPE_USER)
    if hr != sc.SCARD_S_SUCCESS:
        return
    try:
        deadline = time.monotonic() + timeout_s
        state = sc.SCARD_STATE_UNAWARE
        while time.monotonic() < deadline:
            hr, states = sc.SCardGetStatusChange(ctx, 200, [(reader, state)])
            if hr == sc.SCARD_S_SUCCESS:
                state = states[0][1] & ~sc.SCARD_STATE_CHANGED
                if bool(state & sc.SCARD_STATE_PRESENT) == present:
                    return
    finally:
        sc.SCardReleaseContext(ctx)
    raise AssertionError(f"{reader}: card {'never arrived' if present else 'never left'}")


def unavailable() -> str | None:
    """Why a private pcscd cannot run here, or None."""
    if shutil.which("pcscd") is None:
        return "pcscd is not installed (Debian package pcscd)"
    if not VPCD_LIB.exists():
        return f"{VPCD_LIB} is missing (Debian package vsmartcard-vpcd)"
    if shutil.which("unshare") is None:
        return "unshare is not installed (util-linux)"
    if os.geteuid() != 0:
        return "the private pcscd needs root (a mount namespace for /run/pcscd)"
    return None


def start_private(root: Path) -> PrivatePcscd:
    """Start a private pcscd under ``root`` and point this process's PC/SC client at it."""
    why = unavailable()
    if why is not None:
        raise RuntimeError(why)
    daemon = PrivatePcscd(root, free_port_pair())
    os.environ["PCSCLITE_CSOCK_NAME"] = str(daemon.socket_path)
    daemon.start()
    return daemon
