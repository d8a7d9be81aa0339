"""The staff screens' service, ``rt.staff``: tasks, deposits, collections, held parcels, doors on and off.

Every action is audited under ``staff:<last four of the badge>`` by the cabinet core; this service only names
the actor and pokes the outbox sender when an action queued a report.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hallkiosk.services.core import Core

if TYPE_CHECKING:
    from kiosk.cabinet import FlowHandle


class StaffService:
    """What the staff screens call (on a worker: every method may block)."""

    def __init__(self, core: Core) -> None:
        self.core = core

    def tasks(self) -> list[Any]:
        return self.core.parts.cabinet.tasks()

    def resolve_task(self, task_id: int, actor: str) -> None:
        self.core.parts.cabinet.resolve_task(task_id, actor=f"staff:{actor[-4:]}")

    def code_wait(self) -> Any:
        """The hall's pickup-code wait (kiosk.cabinet.CodeWait), for the staff screen."""
        return self.core.parts.cabinet.code_wait()

    def lift_code_wait(self, actor: str) -> Any:
        """Staff lift the hall's pickup-code wait (audited as cabinet.code_lockout_cleared)."""
        return self.core.parts.cabinet.clear_lockout(actor=f"staff:{actor[-4:]}")

    def deposit(self, case_number: str, actor: str, size: str = "M") -> FlowHandle:
        return self.core.parts.cabinet.start_deposit(case_number, actor=f"staff:{actor[-4:]}", size=size)

    def collectable(
        self, include_ready: bool = False
    ) -> list[Any]:  # include_ready: results not yet overdue too
        return self.core.parts.cabinet.collectable(include_ready=include_ready)

    def collect(
        self, parcel_id: int, actor: str, reason: str = ""
    ) -> FlowHandle:  # reason: audited (a take-back)
        return self.core.parts.cabinet.start_collect(parcel_id, actor=f"staff:{actor[-4:]}", reason=reason)

    def handover(self, parcel_id: int, actor: str) -> Any:  # a held parcel handed to its owner at the desk
        view = self.core.parts.cabinet.handover(parcel_id, actor=f"staff:{actor[-4:]}")
        self.core.parts.sender.poke()  # its PICKED_UP report was queued
        return view

    def putback(self, parcel_id: int, actor: str) -> Any:  # a held parcel found in place: ready again
        return self.core.parts.cabinet.putback(parcel_id, actor=f"staff:{actor[-4:]}")

    def compartments(self) -> list[Any]:
        return self.core.parts.cabinet.status()

    def set_compartment_enabled(self, label: str, enable: bool, actor: str) -> None:
        who = f"staff:{actor[-4:]}"
        if enable:
            self.core.parts.cabinet.enable(label, actor=who)
        else:
            self.core.parts.cabinet.disable(label, actor=who, reason="disabled at the kiosk by staff")
