"""SimLockBoard: a shipped lock-board simulator serving on a real pseudo-terminal or a TCP port.

Start it programmatically::

    sim = SimLockBoard("kerong-cu", boards=[0, 1])
    path = sim.serve_pty()          # e.g. "/dev/pts/7": open it like /dev/ttyUSB0
    url = sim.serve_tcp(0)          # e.g. "socket://127.0.0.1:40123"
    sim.jam(0, 3); sim.close_door(0, 1)
    sim.stop()

or from the shell: ``kiosk sim lockboard --family generic-8a --boards 1,2 --tcp 7001``.
"""

from __future__ import annotations

import argparse
import errno
import logging
import os
import select
import selectors
import signal
import socket
import sys
import threading
import time
import tty
from typing import Any

from drivers.lockboard.frames import FAMILIES, KR_CHANNELS, KR_REQUEST_LEN, Family, find_request
from drivers.lockboard.polarity import Polarity
from drivers.lockboard.settings import FAMILY_DEFAULTS, polarity_from_config
from drivers.lockboard.simmodel import BoardBank
from kiosk.config import CabinetConfig

log = logging.getLogger(__name__)

_BITS_PER_BYTE = 10  # 8N1: start bit, 8 data bits, stop bit


class SimLockBoard(BoardBank):
    """Simulated boards of one family, served in a background thread on a pty and/or TCP port."""

    def __init__(
        self,
        family: Family,
        boards: list[int],
        channels_per_board: int = KR_CHANNELS,
        *,
        polarity: Polarity | None = None,
        open_reply_delay_s: float | None = None,
        unlock_reply: bool = False,
        lock_reply_header: int = 0x8A,
        baud: int | None = None,
        honour_baud: bool = False,
    ) -> None:
        super().__init__(
            family,
            boards,
            channels_per_board,
            polarity=polarity,
            open_reply_delay_s=open_reply_delay_s,
            unlock_reply=unlock_reply,
            lock_reply_header=lock_reply_header,
        )
        self.baud = baud or FAMILY_DEFAULTS[family].baud
        self.honour_baud = honour_baud  # sleep for each frame's wire time, as a real 8N1 line takes
        self.urls: list[str] = []
        self._sel = selectors.DefaultSelector()
        self._wake_r, self._wake_w = socket.socketpair()
        self._sel.register(self._wake_r, selectors.EVENT_READ, ("wake", None))
        self._bufs: dict[int, bytearray] = {}
        self._closers: list[Any] = [self._wake_r, self._wake_w]
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    @classmethod
    def from_config(cls, cab: CabinetConfig, **kwargs: Any) -> SimLockBoard:
        """A simulator matching one cabinet's family, boards, channels and site polarity."""
        return cls(
            cab.family, list(cab.boards), cab.channels_per_board, polarity=polarity_from_config(cab), **kwargs
        )

    def wire_time_s(self, nbytes: int) -> float:
        """How long ``nbytes`` take on the line at the simulator's baud rate."""
        return nbytes * _BITS_PER_BYTE / self.baud

    # --- serving -------------------------------------------------------------------
    def serve_pty(self) -> str:
        """Serve on a new pseudo-terminal; returns the slave device path for the driver to open."""
        master, slave = os.openpty()
        tty.setraw(slave)  # no echo, no line discipline: bytes pass as on a serial line
        os.set_blocking(master, False)
        # Holding the slave open keeps the master readable between driver sessions (no EIO).
        self._closers += [master, slave]
        path = os.ttyname(slave)
        self._add(master, ("pty", master), path)
        return path

    def serve_tcp(self, port: int = 0, host: str = "127.0.0.1") -> str:
        """Serve on a TCP port (0: any free one), like an RS-485-to-Ethernet converter; returns the URL."""
        lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        lsock.bind((host, port))
        lsock.listen(4)
        lsock.setblocking(False)
        self._closers.append(lsock)
        url = f"socket://{host}:{lsock.getsockname()[1]}"
        self._add(lsock, ("listen", lsock), url)
        return url

    def stop(self) -> None:
        """Stop serving and release the pty and sockets; idempotent."""
        self._stopping.set()
        try:
            self._wake_w.send(b"x")
        except OSError:
            pass  # already closed by an earlier stop
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)
        for c in self._closers:
            try:
                os.close(c) if isinstance(c, int) else c.close()
            except OSError:
                pass  # closed already
        self._closers.clear()
        self._sel.close()

    def __enter__(self) -> SimLockBoard:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _add(self, fileobj: Any, data: tuple[str, Any], where: str) -> None:
        self._sel.register(fileobj, selectors.EVENT_READ, data)
        self.urls.append(where)
        log.warning(
            "SIMULATED hardware active: %s lock boards %s simulated on %s",
            self.family,
            sorted(self._boards),
            where,
        )
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._run, name=f"sim-lockboard-{self.family}", daemon=True
            )
            self._thread.start()
        else:
            self._wake_w.send(b"x")  # let select() pick up the new source

    def _run(self) -> None:
        while not self._stopping.is_set():
            for key, _ in self._sel.select(timeout=0.5):
                kind, obj = key.data
                try:
                    if kind == "wake":
                        self._wake_r.recv(4096)
                    elif kind == "listen":
                        conn, _addr = obj.accept()
                        conn.setblocking(True)
                        self._closers.append(conn)
                        self._sel.register(conn, selectors.EVENT_READ, ("client", conn))
                    else:
                        self._receive(kind, obj, key.fileobj)
                except OSError as err:
                    if not self._stopping.is_set():
                        log.debug("lock-board simulator: %s source failed: %s", kind, err)

    def _receive(self, kind: str, obj: Any, fileobj: Any) -> None:
        try:
            data = os.read(obj, 4096) if kind == "pty" else obj.recv(4096)
        except BlockingIOError:
            return
        if not data:  # the TCP client went away; wait for the next
            self._sel.unregister(fileobj)
            obj.close()
            self._bufs.pop(id(obj), None)
            return
        buf = self._bufs.setdefault(id(obj), bytearray())
        buf += data
        while not self._stopping.is_set():
            req, used = find_request(bytes(buf), self.family)
            del buf[:used]
            if req is None:
                return
            # With honour_baud: the request's own wire time (its last byte reaches the board), the board's
            # delay, then the reply's wire time, slept in one wait so scheduler jitter is paid once.
            resp = self.respond(req)
            wire_in = self.wire_time_s(KR_REQUEST_LEN) if self.honour_baud else 0.0
            if not resp.data:
                if wire_in and self._stopping.wait(wire_in):
                    return
                continue
            wait = wire_in + resp.delay_s + (self.wire_time_s(len(resp.data)) if self.honour_baud else 0.0)
            if wait > 0 and self._stopping.wait(wait):
                return
            if buf or _readable(fileobj):
                self.collisions += 1  # the host spoke while a board was answering: on RS-485 both garble
            self._send(kind, obj, resp.data)

    def _send(self, kind: str, obj: Any, data: bytes) -> None:
        if kind != "pty":
            obj.sendall(data)
            return
        try:
            os.write(obj, data)
        except OSError as err:
            if err.errno not in (errno.EAGAIN, errno.EIO):
                raise
            # Nobody reads the line: the bytes are lost, as on a real bus.


def _readable(fileobj: Any) -> bool:
    return bool(select.select([fileobj], [], [], 0)[0])


# --- command line -----------------------------------------------------------------
_VERBS = {
    "close": "close_door",
    "open": "open_door_by_hand",
    "put": "put_item",
    "take": "take_item",
    "jam": "jam",
    "unjam": "unjam",
    "silence": "silence",
    "revive": "revive",
    "slow": "slow",
    "corrupt": "corrupt",
    "noise": "add_noise",
    "clear": "clear_faults",
}


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="kiosk sim lockboard", description="Serve simulated lock boards.")
    p.add_argument("--family", choices=FAMILIES, default="kerong-cu")
    p.add_argument(
        "--boards", default="", help="comma-separated addresses (default: 0 for kerong-cu, 1 for generic-8a)"
    )
    p.add_argument("--channels", type=int, default=16, choices=(12, 16, 24, 48))
    where = p.add_mutually_exclusive_group()
    where.add_argument("--pty", action="store_true", help="serve on a pseudo-terminal (the default)")
    where.add_argument("--tcp", type=int, metavar="PORT", help="serve on 127.0.0.1:PORT (0: any free port)")
    p.add_argument("--baud", type=int, help="the line's baud rate (default: the family's)")
    p.add_argument("--honour-baud", action="store_true", help="take each frame's wire time at that baud rate")
    p.add_argument("--hook-closed-level", type=int, choices=(0, 1), default=1)
    p.add_argument("--item-present-level", type=int, choices=(0, 1), default=1)
    p.add_argument("--closed-status", choices=("11", "00"), default="11")
    p.add_argument("--reply-header", choices=("8a", "80"), default="8a")
    p.add_argument(
        "--open-reply-delay", type=float, help="seconds a generic-8a board takes to answer an open"
    )
    p.add_argument(
        "--unlock-reply", action="store_true", help="kerong-cu: answer unlocks with a status frame"
    )
    return p


def _command(sim: SimLockBoard, line: str) -> str:
    """Run one stdin command such as ``jam 0 3`` or ``close 0 1``; returns a short answer."""
    words = line.split()
    if not words:
        return ""
    verb = _VERBS.get(words[0])
    if verb is None:
        return f"unknown command {words[0]!r}; commands: {' '.join(sorted(_VERBS))} BOARD [CHANNEL|ARG]"
    try:
        args: list[Any] = [float(w) if "." in w else int(w) for w in words[1:]]
        getattr(sim, verb)(*args)
    except (TypeError, ValueError) as err:
        return f"error: {err}"
    return "ok"


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def cli_main(argv: list[str]) -> int:
    """``kiosk sim lockboard ...``: print the device path or URL, then serve until Ctrl-C."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    if argv[:1] == ["--"]:  # `kiosk sim lockboard -- --family ...` hands the separator through
        argv = argv[1:]
    a = _parser().parse_args(argv)
    default_board = "0" if a.family == "kerong-cu" else "1"
    try:
        boards = [int(b) for b in (a.boards or default_board).split(",") if b.strip()]
        pol = Polarity(
            a.hook_closed_level, a.item_present_level, a.family == "kerong-cu", int(a.closed_status, 16)
        )
        sim = SimLockBoard(
            a.family,
            boards,
            KR_CHANNELS if a.family == "kerong-cu" else a.channels,
            polarity=pol,
            open_reply_delay_s=a.open_reply_delay,
            unlock_reply=a.unlock_reply,
            lock_reply_header=int(a.reply_header, 16),
            baud=a.baud,
            honour_baud=a.honour_baud,
        )
        where = sim.serve_tcp(a.tcp) if a.tcp is not None else sim.serve_pty()
    except (ValueError, OSError) as err:
        print(f"kiosk sim lockboard: {err}", file=sys.stderr)
        return 2
    print(where, flush=True)
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _interrupt)  # a service manager's stop ends it like Ctrl-C
    print(f"commands on stdin: {' '.join(sorted(_VERBS))} BOARD [CHANNEL|ARG]; Ctrl-C stops", file=sys.stderr)
    try:
        for line in sys.stdin:
            answer = _command(sim, line)
            if answer:
                print(answer, file=sys.stderr, flush=True)
        while True:  # stdin closed (e.g. run in the background): keep serving
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        sim.stop()
    return 0


if __name__ == "__main__":
    sys.exit(cli_main(sys.argv[1:]))
