"""A GA 467 SAM reader simulator on a pseudo-terminal: cards, faults and (optionally) baud timing.

The reader under test opens :attr:`Ga467Sim.path` like any serial port; nothing is mocked.
"""

from __future__ import annotations

import logging
import os
import select
import threading
import time
import tty
from dataclasses import dataclass

from drivers.cardreader import ga467_frames as F
from drivers.cardreader.ga467 import Ga467Reader
from kiosk.bounded import append_bounded
from kiosk.identity import validate_id_number

log = logging.getLogger(__name__)
REQUEST_LOG = 10_000  # command names kept for tests and the technician panel (the reader is polled all day)

# Obviously fictitious but valid: 张三 is the Chinese "John Doe"; the check digit is right.
DEMO_CARD = {
    "name": "张三",
    "id_number": "110105199001011232",
    "address": "演示市示例路1号(模拟数据)",
    "authority": "演示市公安局(模拟)",
}
FAULTS = ("bad_checksum", "sw3", "truncated", "silent", "noise", "remove_mid_read")
_COMMANDS = {(0x11, 0xFF): "sam", (0x20, 0x01): "find", (0x20, 0x02): "select", (0x30, 0x01): "read"}


@dataclass
class _Fault:
    kind: str
    cmd: str
    times: int
    sw3: int = 0


class Ga467Sim:
    """A simulated GA 467 reader on a pty; ``insert_card()`` / ``remove_card()`` are the physical verbs."""

    def __init__(self, *, baud_timing: bool = False, baudrate: int = 115200) -> None:
        self.baud_timing = baud_timing
        self.baudrate = baudrate
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)  # no echo, no line discipline: a UART, not a terminal
        self.path = os.ttyname(self._slave)
        self.requests: list[
            str
        ] = []  # the newest REQUEST_LOG command names, for tests and the technician panel
        self._card: tuple[bytes, bytes] | None = None  # (text block, photo)
        self._faults: list[_Fault] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    # --- lifecycle ------------------------------------------------------------------
    def start(self) -> Ga467Sim:
        """Serve requests on the pty from a background thread."""
        self._thread = threading.Thread(target=self._serve, name="ga467-sim", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the pty."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
            self._thread = None
        for fd in (self._master, self._slave):
            try:
                os.close(fd)
            except OSError:
                pass

    close = stop

    # --- physical verbs ---------------------------------------------------------------
    def insert_card(
        self,
        name: str,
        id_number: str,
        *,
        gender: str | None = None,
        nation: str = "01",
        birth: str | None = None,
        address: str = "演示市示例路1号",
        authority: str = "演示市公安局",
        valid_from: str = "20200101",
        valid_to: str = "长期",
        photo: bytes | None = None,
    ) -> None:
        """Put a resident ID card on the reader (its ID number must have a valid check digit)."""
        n = validate_id_number(id_number)
        fields = {
            "name": name,
            "gender": gender or ("1" if int(n[16]) % 2 else "2"),
            "nation": nation,
            "birth": birth or n[6:14],
            "address": address,
            "id_number": n,
            "authority": authority,
            "valid_from": valid_from,
            "valid_to": valid_to,
        }
        pic = photo if photo is not None else (b"WLT" + bytes(range(256)) * 4)[: F.PHOTO_LEN]
        with self._lock:
            self._card = (F.encode_text(fields), pic.ljust(F.PHOTO_LEN, b"\x00")[: F.PHOTO_LEN])

    def insert_demo_card(self) -> None:
        """The fictitious 张三 card, for demos and the technician panel."""
        self.insert_card(**DEMO_CARD)

    def remove_card(self) -> None:
        """Take the card away."""
        with self._lock:
            self._card = None

    @property
    def has_card(self) -> bool:
        return self._card is not None

    def inject(self, kind: str, *, cmd: str = "read", times: int = 1, sw3: int = 0x41) -> None:
        """Make the next ``times`` replies to ``cmd`` (sam/find/select/read/any) faulty in this way."""
        if kind not in FAULTS:
            raise ValueError(f"unknown fault {kind!r}; one of {', '.join(FAULTS)}")
        with self._lock:
            self._faults.append(_Fault(kind, cmd, times, sw3))

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def wire_time_s(self, nbytes: int) -> float:
        """Time ``nbytes`` take on the wire at 8N1 (10 bits a byte)."""
        return nbytes * 10 / self.baudrate

    # --- serving ---------------------------------------------------------------------
    def _serve(self) -> None:
        buf = bytearray()
        while not self._stopping.is_set():
            try:
                ready, _, _ = select.select([self._master], [], [], 0.05)
                if not ready:
                    continue
                buf += os.read(self._master, 4096)
            except OSError:
                return
            while True:
                try:
                    frame = F.take_frame(buf)
                except F.Ga467FrameError:
                    self._write(F.reply(0x10))  # checksum error in the request
                    continue
                if frame is None:
                    break
                self._answer(frame.body)

    def _take_fault(self, cmd: str) -> _Fault | None:
        with self._lock:
            for f in self._faults:
                if f.cmd in (cmd, "any"):
                    f.times -= 1
                    if f.times <= 0:
                        self._faults.remove(f)
                    return f
        return None

    def _answer(self, body: bytearray) -> None:
        cmd = _COMMANDS.get((body[0], body[1]) if len(body) >= 2 else (0, 0), "unknown")
        append_bounded(self.requests, cmd, REQUEST_LOG)
        card = self._card
        if cmd == "sam":
            out = F.reply(F.SW3_OK)
        elif cmd == "find":
            out = F.reply(F.SW3_CARD_FOUND, bytes(4)) if card else F.reply(F.SW3_NO_CARD)
        elif cmd == "select":
            out = F.reply(F.SW3_OK, bytes(8)) if card else F.reply(F.SW3_SELECT_FAILED)
        elif cmd == "read":
            out = F.read_reply(*card) if card else F.reply(0x41)
        else:
            out = F.reply(0x21)
        fault = self._take_fault(cmd)
        if fault is not None:
            log.debug("GA 467 sim: %s on %s", fault.kind, cmd)
            if fault.kind == "silent":
                return
            if fault.kind == "sw3":
                out = F.reply(fault.sw3)
            elif fault.kind == "bad_checksum":
                out = out[:-1] + bytes([out[-1] ^ 0x5A])
            elif fault.kind == "truncated":
                out = out[: len(out) // 2]
            elif fault.kind == "noise":
                out = b"\x00\xaa\x55\x13\xaa\xaa" + out
            elif fault.kind == "remove_mid_read":
                self._write(out[: len(out) // 2])
                self.remove_card()
                return
        self._write(out)

    def _write(self, data: bytes) -> None:
        if not self.baud_timing:
            self._write_all(data)
            return
        # Each burst appears when a UART at this baud rate would have finished sending it (10 bits a byte).
        start = time.perf_counter()
        for i in range(0, len(data), 32):
            chunk = data[i : i + 32]
            delay = start + self.wire_time_s(i + len(chunk)) - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            self._write_all(chunk)

    def _write_all(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            try:
                view = view[os.write(self._master, view) :]
            except OSError:
                return  # the pty was closed by stop()

    def __repr__(self) -> str:
        return f"Ga467Sim(path={self.path!r}, card={'yes' if self._card else 'no'})"


class SimulatedGa467Reader(Ga467Reader):
    """A real Ga467Reader talking to a simulator it owns (close() stops it); build_reader hands the simulator to
    the composition root, whose registry gives it to the demo and the technician's switches."""

    simulated = True

    def __init__(self, sim: Ga467Sim, name: str = "simulated GA 467", **kw: float) -> None:
        super().__init__(sim.path, name=name, **kw)  # type: ignore[arg-type]
        self.sim = sim

    def close(self) -> None:
        """Stop the reader, then its simulator."""
        super().close()
        self.sim.stop()


def start_simulated_reader(name: str = "simulated GA 467", **kw: float) -> SimulatedGa467Reader:
    """Start a GA 467 simulator on a pty and return a real reader on it; logs that it is simulated."""
    sim = Ga467Sim().start()
    log.warning(
        "SIMULATED card reader active: %s is a GA 467 simulator on %s, not real hardware", name, sim.path
    )
    return SimulatedGa467Reader(sim, name, **kw)
