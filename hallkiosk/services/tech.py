"""The technician screen's service, ``rt.tech``: open doors, device checks, door tests (hallkiosk.diag).

Actions are audited under ``technician:<last four of the badge>``. Door tests run on a worker; their progress
comes back on the UI's main thread, and they stop when the screen cancels or the runtime stops.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hallkiosk.services.core import Core

if TYPE_CHECKING:
    from hallkiosk.diag import DoorTestResult
    from kiosk.cabinet import FlowResult
    from kiosk.diag_model import Check


@dataclass(frozen=True)
class OpenAllResult:
    """A technician's open-all: doors opened / not opened, labels still open at the wait's end, sensor mismatches."""

    opened: int
    not_opened: int
    still_open: list[str]
    mismatches: int


class _Cancel(threading.Event):
    """Set by the screen's "stop" button, or by the runtime stopping: a door test must not outlive the kiosk."""

    def __init__(self, *others: threading.Event | None) -> None:
        super().__init__()
        self._others = [e for e in others if e is not None]

    def is_set(self) -> bool:
        return super().is_set() or any(e.is_set() for e in self._others)


class TechService:
    """What the technician screen calls (on a worker: every method may block)."""

    def __init__(self, core: Core) -> None:
        self.core = core

    def open(self, label: str, actor: str) -> FlowResult:
        return self.core.parts.cabinet.technician_open(label, actor=f"technician:{actor[-4:]}")

    def open_all(self, actor: str) -> OpenAllResult:
        """Every door of every board (technician screen, after its confirmation); blocks until they are shut."""
        who, opened, bad, still, mismatches = f"technician:{actor[-4:]}", 0, 0, [], 0
        for cab in self.core.cfg.cabinets:
            for board in cab.boards:
                results = self.core.parts.cabinet.technician_open_all(board, actor=who, cabinet_id=cab.id)
                opened += sum(r.outcome == "opened" for r in results)
                bad += sum(r.outcome != "opened" for r in results)
        for cab in self.core.cfg.cabinets:
            for board in cab.boards:
                left = self.core.parts.cabinet.wait_board_shut(board, cabinet_id=cab.id)
                still += left
                if not left:
                    mismatches += len(self.core.parts.cabinet.check_after_open_all(board, cabinet_id=cab.id))
        return OpenAllResult(opened=opened, not_opened=bad, still_open=still, mismatches=mismatches)

    def exit_to_shell(self, actor: str) -> None:
        """Audited before the kiosk leaves the screen to a technician shell."""
        self.core.app.audit(f"technician:{actor[-4:]}", "technician.exit_to_shell", self.core.cfg.kiosk.id)

    def device_status(self) -> list[Check]:
        """A quick view of each device: the passive checks the heartbeat reports (the diagnostics button runs all)."""
        from hallkiosk.diag import HEARTBEAT_OPTIONS, run_checks

        return list(run_checks(self.core.app, options=HEARTBEAT_OPTIONS).checks)

    def diagnostics(self) -> list[Check]:
        from hallkiosk.diag.runner import Options, run_checks

        return list(run_checks(self.core.app, options=Options(scan_bus="off")).checks)

    # --- technician door tests (hallkiosk.diag), on a worker; progress comes back on the main thread -------------
    def door_test_needs_confirmation(self, label: str | None = None) -> bool:
        """Whether a door test touches a real cabinet (then the screen asks first); never on the simulators."""
        from hallkiosk.diag import needs_confirmation

        return needs_confirmation(self.core.app, label)

    def door_test(
        self,
        label: str,
        actor: str,
        *,
        confirmed: bool = False,
        cancel: threading.Event | None = None,
        on_progress: Callable[[str], None] | None = None,
    ) -> DoorTestResult:
        """Open one door through the cabinet and watch it until it closes: timings and sensor changes (audited)."""
        from hallkiosk.diag import door_test

        return door_test(
            self.core.app,
            label,
            confirmed=confirmed,
            actor=f"technician:{actor[-4:]}",
            cabinet=self.core.parts.cabinet,
            cancel=_Cancel(cancel, self.core.stopping),
            on_progress=self._on_main(on_progress),
        )

    def walk_doors(
        self,
        actor: str,
        *,
        confirmed: bool = False,
        cancel: threading.Event | None = None,
        on_progress: Callable[[str], None] | None = None,
        on_result: Callable[[DoorTestResult], None] | None = None,
    ) -> list[DoorTestResult]:
        """Test every door in turn (occupied and in-use ones are skipped); each result is reported as it comes."""
        from hallkiosk.diag import walk_test

        return walk_test(
            self.core.app,
            confirmed=confirmed,
            actor=f"technician:{actor[-4:]}",
            cabinet=self.core.parts.cabinet,
            cancel=_Cancel(cancel, self.core.stopping),
            on_progress=self._on_main(on_progress),
            on_result=self._on_main(on_result),
        )

    def _on_main(self, fn: Callable[[Any], None] | None) -> Callable[[Any], None] | None:
        """A callback the diagnostics call on the worker, delivered on the UI's main thread instead."""
        if fn is None:
            return None
        return lambda value: self.core.post(lambda: fn(value))
