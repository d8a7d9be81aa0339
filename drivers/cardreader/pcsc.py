"""PC/SC card reader (pyscard over pcsc-lite): social security cards and staff badges.

One watcher thread per reader blocks in ``SCardGetStatusChange``; it re-establishes the PC/SC
context when pcscd restarts and re-discovers the reader (by name regex) when it is unplugged.
"""

from __future__ import annotations

import logging
import re
import time

from smartcard import scard as sc

from drivers.cardreader import apdu as A
from drivers.cardreader.watcher import ReaderWatcher
from kiosk.errors import CardReaderError, CardRemoved, CardUnsupported

log = logging.getLogger(__name__)

# Results meaning the context is dead (pcscd stopped or restarted): establish a new one.
_CONTEXT_DEAD = {
    sc.SCARD_E_NO_SERVICE,
    sc.SCARD_E_SERVICE_STOPPED,
    sc.SCARD_E_INVALID_HANDLE,
    sc.SCARD_F_COMM_ERROR,
}
# Results meaning the reader itself went away: list the readers again.
_READER_GONE = {sc.SCARD_E_UNKNOWN_READER, sc.SCARD_E_READER_UNAVAILABLE, sc.SCARD_E_NO_READERS_AVAILABLE}
# Results meaning the card went away (or never answered) while we talked to it.
_CARD_GONE = {
    sc.SCARD_W_REMOVED_CARD,
    sc.SCARD_E_NO_SMARTCARD,
    sc.SCARD_W_RESET_CARD,
    sc.SCARD_E_NOT_TRANSACTED,
    sc.SCARD_W_UNPOWERED_CARD,
}
_REMOVED_MSG = "card removed, please insert again"


def _code(hr: int) -> int:
    """PC/SC results as unsigned 32-bit, whatever sign the binding hands back."""
    return hr & 0xFFFFFFFF


_CONTEXT_DEAD = {_code(c) for c in _CONTEXT_DEAD}
_READER_GONE = {_code(c) for c in _READER_GONE}
_CARD_GONE = {_code(c) for c in _CARD_GONE}
_TIMEOUT = _code(sc.SCARD_E_TIMEOUT)
_CANCELLED = _code(sc.SCARD_E_CANCELLED)


class _LinkError(CardReaderError):
    """A transmit failed below the APDU level (the card may have left)."""


class PcscCardReader(ReaderWatcher):
    """A PC/SC reader found by name regex; reports inserted/identified/badge/removed/error/reader_* events."""

    def __init__(
        self,
        name_pattern: str = "",
        *,
        label: str | None = None,
        poll_ms: int = 500,
        retry_s: float = 1.0,
        removal_check_ms: int = 800,
    ) -> None:
        super().__init__(label or name_pattern or "pcsc")
        self._pattern = re.compile(name_pattern or ".")
        self.reader_name: str | None = None  # the PC/SC name matched, once found
        self._poll_ms = poll_ms
        self._retry_s = retry_s
        self._removal_check_ms = removal_check_ms
        self._ctx: int | None = None

    def __repr__(self) -> str:
        return f"PcscCardReader(name={self.name!r}, reader={self.reader_name!r}, present={self._present})"

    kind = "PC/SC reader"

    def _wake(self) -> None:
        ctx = self._ctx
        if ctx is not None:
            sc.SCardCancel(ctx)  # wakes a blocked SCardGetStatusChange at once

    def _release(self) -> None:
        if self._ctx is not None:
            sc.SCardReleaseContext(self._ctx)
            self._ctx = None

    def _run(self) -> None:
        try:
            while not self._stopping.is_set():
                if self._ctx is None:
                    hr, ctx = sc.SCardEstablishContext(sc.SCARD_SCOPE_USER)
                    if hr != sc.SCARD_S_SUCCESS:
                        self._set_present(False, f"pcscd not reachable ({sc.SCardGetErrorMessage(hr)})")
                        self._stopping.wait(self._retry_s)
                        continue
                    self._ctx = ctx
                reader = self._find_reader()
                if reader is None:
                    self._stopping.wait(self._retry_s)
                    continue
                self.reader_name = reader
                self._set_present(True)
                self._watch(reader)
        finally:
            self._release()
            self._present = False

    def _find_reader(self) -> str | None:
        assert self._ctx is not None
        hr, readers = sc.SCardListReaders(self._ctx, [])
        if hr != sc.SCARD_S_SUCCESS and _code(hr) in _CONTEXT_DEAD:
            self._release()
            self._set_present(False, "pcscd went away")
            return None
        found = sorted(r for r in (readers or []) if self._pattern.search(r))
        if not found:
            self._set_present(False, f"no reader matches {self._pattern.pattern!r}")
            return None
        if len(found) > 1:
            log.debug("several readers match %r; using %s", self._pattern.pattern, found[0])
        return found[0]

    def _watch(self, reader: str) -> None:
        """Follow one reader's state until it goes away, the context dies or we stop."""
        state = sc.SCARD_STATE_UNAWARE
        card_in = False
        counter = -1  # pcsc-lite counts insertions and removals in the upper 16 bits of the state
        while not self._stopping.is_set():
            hr, states = sc.SCardGetStatusChange(self._ctx, self._poll_ms, [(reader, state)])
            code = _code(hr)
            if code == _TIMEOUT:
                continue
            if code == _CANCELLED:
                return
            if code != sc.SCARD_S_SUCCESS:
                if code in _READER_GONE:
                    self._set_present(False, "reader unplugged")
                else:
                    self._release()  # pcscd restarted or stopped: a new context is needed
                    self._set_present(False, f"pcscd went away ({sc.SCardGetErrorMessage(hr)})")
                if card_in:
                    self._emit("removed")
                return
            _, event, _atr = states[0]
            state = event & ~sc.SCARD_STATE_CHANGED
            if event & (sc.SCARD_STATE_UNKNOWN | sc.SCARD_STATE_UNAVAILABLE):
                self._set_present(False, "reader unplugged")
                if card_in:
                    self._emit("removed")
                return
            present = bool(event & sc.SCARD_STATE_PRESENT) and not event & sc.SCARD_STATE_MUTE
            swapped = card_in and present and counter >= 0 and (event >> 16) != counter
            counter = event >> 16
            if swapped:
                # Pulled and another card (or the same) put back between two polls: a new read.
                self._emit("removed")
                card_in = False
            if present and not card_in:
                card_in = True
                self._read_card(reader, state)
            elif not present and card_in:
                card_in = False
                self._emit("removed")

    # --- reading ------------------------------------------------------------------
    def _read_card(self, reader: str, state: int) -> None:
        t0 = time.perf_counter()
        self._emit("inserted")
        hr, hcard, proto = sc.SCardConnect(
            self._ctx, reader, sc.SCARD_SHARE_SHARED, sc.SCARD_PROTOCOL_T0 | sc.SCARD_PROTOCOL_T1
        )
        if hr != sc.SCARD_S_SUCCESS:
            gone = _code(hr) in _CARD_GONE
            err: CardReaderError = (
                CardRemoved(_REMOVED_MSG)
                if gone
                else CardReaderError(
                    f"cannot connect to the card: {sc.SCardGetErrorMessage(hr)}",
                    hint="The card may be inserted the wrong way round, or be damaged.",
                )
            )
            self._emit("error", error=err)
            return
        pci = sc.SCARD_PCI_T1 if proto == sc.SCARD_PROTOCOL_T1 else sc.SCARD_PCI_T0

        def transmit(command: bytes) -> bytearray:
            rv, resp = sc.SCardTransmit(hcard, pci, list(command))
            if rv != sc.SCARD_S_SUCCESS or len(resp) < 2:
                # vpcd (and some readers) return an empty answer, then NOT_TRANSACTED, for a pulled card.
                raise _LinkError(
                    f"transmit failed: {sc.SCardGetErrorMessage(rv) if rv else 'empty response'}"
                )
            return bytearray(resp)

        sc.SCardBeginTransaction(hcard)  # keep other PC/SC clients from interleaving SELECTs
        try:
            self._identify(transmit, reader, state, t0)
        finally:
            sc.SCardEndTransaction(hcard, sc.SCARD_LEAVE_CARD)
            sc.SCardDisconnect(hcard, sc.SCARD_LEAVE_CARD)

    def _identify(self, transmit: A.Transmit, reader: str, state: int, t0: float) -> None:
        """Read as a social security card, else as a badge; emit exactly one outcome event."""
        try:
            try:
                recs = A.read_social_security(transmit)
            except A.NotSocialSecurityCard as not_ssse:
                try:
                    uid = A.parse_uid(A.exchange(transmit, A.GET_UID, "get UID"))
                except CardUnsupported:
                    raise not_ssse from None
                except A.CardProtocolError:
                    raise not_ssse from None
                self._emit("badge", badge_uid=uid, read_ms=(time.perf_counter() - t0) * 1000)
                return
            try:
                identity = A.identity_from_records(recs)
            finally:
                recs.wipe()
            self._emit("identified", identity=identity, read_ms=(time.perf_counter() - t0) * 1000)
        except CardUnsupported as err:
            log.info("card on %s not supported: %s", self.name, err)
            self._emit("error", error=err)
        except CardReaderError as err:
            if self._card_left(reader, state):
                log.info("card pulled out of %s mid-read", self.name)
                self._emit("error", error=CardRemoved(_REMOVED_MSG))
            else:
                log.warning("card read failed on %s: %s", self.name, err)
                self._emit("error", error=err)

    def _card_left(self, reader: str, state: int) -> bool:
        """After a failed exchange: did the card leave? pcscd polls presence, so wait a little."""
        deadline = time.monotonic() + self._removal_check_ms / 1000
        while (left := deadline - time.monotonic()) > 0:
            hr, states = sc.SCardGetStatusChange(self._ctx, max(1, int(left * 1000)), [(reader, state)])
            if hr != sc.SCARD_S_SUCCESS:
                return _code(hr) != _TIMEOUT
            event = states[0][1]
            if not event & sc.SCARD_STATE_PRESENT:
                return True
            state = event & ~sc.SCARD_STATE_CHANGED
        return False
