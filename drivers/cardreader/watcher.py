"""What every card reader driver shares: a watcher thread, event delivery, and "reader lost / back" once each."""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable

from kiosk.errors import CardReaderError
from kiosk.ports import CardEvent, CardEventKind

log = logging.getLogger(__name__)
RESTART_PAUSE_S = 1.0


class ReaderWatcher:
    """Base of the readers: subclasses implement ``_run`` (the watcher loop) and may extend ``_wake``/``_shutdown``."""

    kind = "card reader"

    def __init__(self, name: str) -> None:
        self.name = name
        self._present = False
        self._lost_reported = False
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._on_event: Callable[[CardEvent], None] = lambda e: None

    # --- CardReader port ----------------------------------------------------------
    def start(self, on_event: Callable[[CardEvent], None]) -> None:
        """Start the watcher thread; events go to ``on_event`` from that thread."""
        if self._thread is not None:
            raise RuntimeError("reader already started")
        self._on_event = on_event
        self._stopping.clear()
        self._thread = threading.Thread(target=self._guarded, name=f"{self.kind}:{self.name}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the watcher and release the device."""
        self._stopping.set()
        self._wake()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        self._shutdown()

    def close(self) -> None:
        """Same as stop(): every reader has a close()."""
        self.stop()

    def is_present(self) -> bool:
        """Whether the reader itself answers now (not whether a card is in it)."""
        return self._present

    @property
    def running(self) -> bool:
        """Whether the watcher thread owns the device now."""
        return self._thread is not None and self._thread.is_alive()

    def _guarded(self) -> None:
        """Run the watcher; a bug that escapes it restarts it after a pause instead of leaving a dead reader."""
        while not self._stopping.is_set():
            try:
                self._run()
                return
            except Exception:
                with contextlib.suppress(
                    Exception
                ):  # even logging can fail (a closed stream); the reader goes on
                    log.exception("%s %s: watcher failed; restarting it", self.kind, self.name)
                self._present = False
                self._stopping.wait(RESTART_PAUSE_S)

    # --- for subclasses -------------------------------------------------------------
    def _run(self) -> None:
        raise NotImplementedError

    def _wake(self) -> None:
        """Interrupt a watcher blocked in a device call (stop() calls it)."""

    def _shutdown(self) -> None:
        """Release the device after the watcher has ended."""

    def _emit(self, kind: CardEventKind, **kw: object) -> None:
        try:
            self._on_event(CardEvent(kind=kind, reader=self.name, **kw))  # type: ignore[arg-type]
        except Exception:
            log.exception("card event handler failed on %s", kind)  # never kill the watcher

    def _set_present(self, present: bool, why: str = "") -> None:
        """Track the reader's presence; "reader_lost" and "reader_back" are each reported once per change."""
        if present and not self._present:
            self._present = True
            if self._lost_reported:
                log.info("%s %s is back", self.kind, self.name)
                self._emit("reader_back")
            self._lost_reported = False
        elif not present:
            self._present = False
            if not self._lost_reported:
                log.warning("%s %s unavailable: %s", self.kind, self.name, why)
                self._emit(
                    "reader_lost", error=CardReaderError(f"{self.kind} {self.name} unavailable: {why}")
                )
                self._lost_reported = True
