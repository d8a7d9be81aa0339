"""Virtual cards for vsmartcard's ``vpcd`` reader driver, read through the real pcsc-lite stack.

Wire format (both directions): 2-byte big-endian length, then that many bytes. A 1-byte message
from the reader is a control (00 off, 01 on, 02 reset, 04 send ATR); anything longer is an APDU.
Connecting to vpcd's port is inserting the card; closing the socket is pulling it.
"""

from __future__ import annotations

import datetime as dt
import logging
import socket
import threading
import time
from dataclasses import dataclass, field

from drivers.cardreader import apdu as A
from kiosk.bounded import append_bounded
from kiosk.identity import validate_id_number

log = logging.getLogger(__name__)
APDU_LOG = 10_000  # APDUs kept for tests (a demo runs for months)

VPCD_PORT = 35963  # reader 0 ("Virtual PCD 00 00"); reader 1 is the next port
ATR_T1 = bytes.fromhex("3B80800101")  # plain T=1 contact card
ATR_CONTACTLESS = bytes.fromhex("3B8F8001804F0CA000000306030001000000006A")  # PC/SC part 3: MIFARE 1K

SW_OK = b"\x90\x00"


@dataclass
class CardFaults:
    """Faults a virtual card can be told to make; keys are command prefixes in hex (``"00B209"``)."""

    sw_for: dict[str, bytes] = field(default_factory=dict)  # answer this status word instead
    truncate_for: dict[str, int] = field(default_factory=dict)  # keep only the first n bytes of the reply
    use_61xx: bool = False  # T=0 style: data waits behind 61xx for GET RESPONSE
    get_response_chunk: int = 0  # >0: GET RESPONSE hands out at most this much, then 61xx again
    strict_le: bool = False  # a wrong Le gets 6Cxx (the exact length) instead of the data
    pin_required: bool = False  # EF06 records answer 6982
    remove_after_apdus: int | None = None  # pulled out when APDU number n+1 arrives (no answer)
    answer_delay_s: float = 0.0  # per APDU, to model a slow card

    def lookup(self, table: dict[str, object], apdu: bytes) -> object | None:
        """The entry whose hex prefix the APDU starts with, longest first."""
        h = apdu.hex().upper()
        for k in sorted(table, key=len, reverse=True):
            if h.startswith(k.upper()):
                return table[k]
        return None


class VirtualCard:
    """A card on a vpcd socket; subclasses answer APDUs in :meth:`respond`."""

    atr = ATR_T1

    def __init__(self, faults: CardFaults | None = None) -> None:
        self.faults = faults or CardFaults()
        # The newest APDU_LOG commands seen: never card data, so tests may look at it freely.
        self.apdus: list[bytes] = []
        self._apdus_this_connection = 0  # what the pull-out fault counts
        self.powered_at: float | None = None  # perf_counter() of the first power-on/ATR after insert()
        self.powered = threading.Event()
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    # --- physical verbs ---------------------------------------------------------
    def insert(self, port: int = VPCD_PORT, host: str = "127.0.0.1", timeout_s: float = 5.0) -> None:
        """Put the card in the reader: connect to vpcd (retrying while pcscd starts)."""
        self.remove()
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                sock = socket.create_connection((host, port), timeout=1.0)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        sock.settimeout(None)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.apdus.clear()
        self._apdus_this_connection = 0
        self.powered_at = None
        self.powered.clear()
        self._reset_state()
        with self._lock:
            self._sock = sock
        self._thread = threading.Thread(target=self._serve, args=(sock,), name=f"vcard:{port}", daemon=True)
        self._thread.start()

    def remove(self) -> None:
        """Pull the card out: close the socket."""
        with self._lock:
            sock, self._sock = self._sock, None
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()
        t, self._thread = self._thread, None
        if t is not None and t is not threading.current_thread():
            t.join(timeout=2)

    @property
    def inserted(self) -> bool:
        return self._sock is not None

    # --- protocol ---------------------------------------------------------------
    def _serve(self, sock: socket.socket) -> None:
        try:
            while True:
                head = _recv_exact(sock, 2)
                if head is None:
                    return
                body = _recv_exact(sock, int.from_bytes(head, "big"))
                if body is None:
                    return
                if len(body) == 1:
                    if body[0] in (0x01, 0x02, 0x04) and self.powered_at is None:
                        self.powered_at = time.perf_counter()
                        self.powered.set()
                    if body[0] in (0x01, 0x02):
                        self._reset_state()
                    if body[0] == 0x04:
                        _send(sock, self.atr)
                    continue
                append_bounded(self.apdus, bytes(body), APDU_LOG)
                self._apdus_this_connection += 1
                if len(body) < 4:
                    _send(sock, b"\x67\x00")  # wrong length: not even CLA INS P1 P2
                    continue
                limit = self.faults.remove_after_apdus
                if limit is not None and self._apdus_this_connection > limit:
                    log.debug("virtual card pulled out mid-read after %d APDU(s)", limit)
                    with self._lock:
                        if self._sock is sock:
                            self._sock = None
                    sock.close()
                    return
                if self.faults.answer_delay_s:
                    time.sleep(self.faults.answer_delay_s)
                _send(sock, self._faulty(bytes(body)))
        except OSError:
            return  # remove() closed the socket under us, or vpcd went away

    def _faulty(self, apdu: bytes) -> bytes:
        sw = self.faults.lookup(self.faults.sw_for, apdu)
        resp = bytes(sw) if isinstance(sw, bytes) else self.respond(apdu)
        cut = self.faults.lookup(self.faults.truncate_for, apdu)
        return resp[: int(cut)] if isinstance(cut, int) else resp

    def _reset_state(self) -> None:
        """Power-on / reset: forget selections."""

    def respond(self, apdu: bytes) -> bytes:
        """The response APDU (data + SW1 SW2) to one command."""
        raise NotImplementedError


class VirtualStaffBadge(VirtualCard):
    """A contactless staff badge: no SSSE application, answers GET DATA UID."""

    atr = ATR_CONTACTLESS

    def __init__(self, uid: str, faults: CardFaults | None = None) -> None:
        super().__init__(faults)
        self.uid = bytes.fromhex(uid)

    def respond(self, apdu: bytes) -> bytes:
        if apdu[:4] == A.GET_UID[:4]:
            return self.uid + SW_OK
        if apdu[:2] == b"\x00\xa4":
            return b"\x6a\x82"
        return b"\x6d\x00"

    def __repr__(self) -> str:
        return f"VirtualStaffBadge(uid={self.uid.hex().upper()})"


class VirtualSocialSecurityCard(VirtualCard):
    """A social security card with the SSSE application (EF05 card number, EF06 person)."""

    def __init__(
        self,
        name: str,
        id_number: str,
        birth: dt.date | str | None = None,
        sex: str | None = None,
        card_number: str = "D00000001",
        *,
        nation: int = 0x01,
        name_field_len: int = 30,
        faults: CardFaults | None = None,
    ) -> None:
        super().__init__(faults)
        number = validate_id_number(id_number)
        if birth is None:
            birth = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
        elif isinstance(birth, str):
            birth = dt.datetime.strptime(birth.replace("-", ""), "%Y%m%d").date()
        if sex is None:
            sex = "1" if int(number[16]) % 2 else "2"
        sex = {"M": "1", "F": "2"}.get(sex.upper(), sex)
        name_b = name.encode("gbk").ljust(name_field_len, b" ")[:name_field_len]
        self.ef: dict[int, dict[int, bytes]] = {
            0xEF05: {A.TAG_CARD_NUMBER: card_number.encode("ascii")},
            0xEF06: {
                A.TAG_ID_NUMBER: number.encode("ascii"),
                A.TAG_NAME: name_b,
                A.TAG_SEX: sex.encode("ascii"),
                A.TAG_NATION: bytes([nation]),
                A.TAG_BIRTH: A.encode_bcd_date(birth),
            },
        }
        self._app = False
        self._cur: int | None = None
        self._pending = b""

    def _reset_state(self) -> None:
        self._app = False
        self._cur = None
        self._pending = b""

    def _data(self, data: bytes) -> bytes:
        """Answer data with 9000, or park it behind 61xx in T=0 style."""
        if self.faults.use_61xx and data:
            self._pending = data
            return bytes([0x61, min(len(data), 0xFF) if len(data) < 256 else 0x00])
        return data + SW_OK

    def respond(self, apdu: bytes) -> bytes:
        cla, ins, p1, p2 = apdu[0], apdu[1], apdu[2], apdu[3]
        if cla != 0x00:
            return b"\x6e\x00"
        if ins == 0xC0:
            if not self._pending:
                return b"\x69\x85"
            le = apdu[4] if len(apdu) > 4 and apdu[4] else 256
            chunk = self.faults.get_response_chunk or le
            out, self._pending = self._pending[: min(le, chunk)], self._pending[min(le, chunk) :]
            if self._pending:
                return out + bytes([0x61, min(len(self._pending), 0xFF)])
            return out + SW_OK
        self._pending = b""
        if ins == 0xA4 and p1 == 0x04:
            aid = apdu[5 : 5 + apdu[4]] if len(apdu) > 5 else b""
            if aid != A.SSSE_AID:
                return b"\x6a\x82"
            self._app, self._cur = True, None
            return self._data(bytes.fromhex("6F0A840873782E73682E0000"))  # a small FCI
        if ins == 0xA4 and p1 == 0x02:
            fid = int.from_bytes(apdu[5:7], "big") if len(apdu) >= 7 else -1
            if not self._app or fid not in self.ef:
                return b"\x6a\x82"
            self._cur = fid
            return SW_OK
        if ins == 0xB2 and p2 == 0x00:
            if self._cur is None:
                return b"\x69\x86"  # no current EF
            if self._cur == 0xEF06 and self.faults.pin_required:
                return b"\x69\x82"
            value = self.ef[self._cur].get(p1)
            if value is None:
                return b"\x6a\x83"
            rec = bytes([p1, len(value)]) + value
            le = apdu[4] if len(apdu) > 4 else 0
            if self.faults.strict_le and le != len(rec):
                return bytes([0x6C, len(rec)])
            return self._data(rec[: le or 256])
        return b"\x6d\x00"

    def __repr__(self) -> str:
        return "VirtualSocialSecurityCard(<fictitious holder>)"


def _recv_exact(sock: socket.socket, n: int) -> bytearray | None:
    buf = bytearray()
    while len(buf) < n:
        # vpcd writes length and body separately; quick-ack or every APDU waits for a delayed ACK.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
        chunk = sock.recv(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return buf


def _send(sock: socket.socket, payload: bytes) -> None:
    sock.sendall(len(payload).to_bytes(2, "big") + payload)
