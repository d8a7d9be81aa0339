"""A simulated ESC/POS printer on a pseudo-terminal (or TCP port 9100's stand-in), for the tests: a test double.

It answers each DLE EOT n (10 04 n) with the status byte the test set for n
(or not at all when ``silent``), and keeps every other byte as printed data, so
the real ``EscposPrinter`` (python-escpos's Serial over the pty) is tested
byte by byte as it would talk to a real printer on a serial cable.
"""

from __future__ import annotations

import os
import select
import socket
import threading
import tty

DLE_EOT = b"\x10\x04"


class PtyPrinter:
    """A fake printer serving one pty; ``path`` is what ``printer.target`` names."""

    def __init__(self) -> None:
        self.master, self._slave = os.openpty()
        tty.setraw(self._slave)  # no echo, no line discipline: bytes pass as on a serial line
        self.path = os.ttyname(self._slave)
        self.replies: dict[int, int] = {1: 0x12, 2: 0x12, 3: 0x12, 4: 0x12}
        self.silent = False
        self.printed = bytearray()  # everything that was not a status request
        self.queries: list[int] = []  # the n of each DLE EOT n, in order
        self._buf = bytearray()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="pty-printer", daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            ready, _, _ = select.select([self.master], [], [], 0.05)
            if not ready:
                continue
            try:
                chunk = os.read(self.master, 4096)
            except OSError:
                return
            with self._lock:
                self._buf += chunk
                self._parse()

    def _parse(self) -> None:
        while True:
            i = self._buf.find(DLE_EOT)
            if i < 0:
                keep = 1 if self._buf.endswith(DLE_EOT[:1]) else 0  # a request may be split across reads
                self.printed += self._buf[: len(self._buf) - keep]
                del self._buf[: len(self._buf) - keep]
                return
            if len(self._buf) < i + 3:
                self.printed += self._buf[:i]
                del self._buf[:i]
                return
            self.printed += self._buf[:i]
            n = self._buf[i + 2]
            del self._buf[: i + 3]
            self.queries.append(n)
            if not self.silent and n in self.replies:
                self._reply(bytes([self.replies[n]]))

    def _reply(self, data: bytes) -> None:
        os.write(self.master, data)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        for fd in (self.master, self._slave):
            try:
                os.close(fd)
            except OSError:
                pass


class TcpPrinter(PtyPrinter):
    """The same fake printer behind a TCP port, as a network printer's raw port 9100; ``target`` is "host:port"."""

    def __init__(self) -> None:
        self._lsock = socket.create_server(("127.0.0.1", 0))
        self.target = f"127.0.0.1:{self._lsock.getsockname()[1]}"
        self._conn: socket.socket | None = None
        super().__init__()  # also opens a pty, unused: the parsing and bookkeeping are shared

    def _serve(self) -> None:
        while not self._stop.is_set():
            socks = [self._lsock] + ([self._conn] if self._conn else [])
            ready, _, _ = select.select(socks, [], [], 0.05)
            for s in ready:
                if s is self._lsock:
                    self._conn, _ = self._lsock.accept()  # one client at a time, as a printer's raw port
                    continue
                if s is not self._conn:
                    continue  # a client replaced since select() (its EOF needs no answer)
                chunk = s.recv(4096)
                if not chunk:
                    s.close()
                    self._conn = None
                    continue
                with self._lock:
                    self._buf += chunk
                    self._parse()

    def _reply(self, data: bytes) -> None:
        if self._conn is not None:
            self._conn.sendall(data)

    def stop(self) -> None:
        super().stop()
        self._lsock.close()
        if self._conn is not None:
            self._conn.close()
