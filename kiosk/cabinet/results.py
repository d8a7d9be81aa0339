"""What the cabinet hands back to a UI or the CLI, and the errors only the cabinet raises."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from kiosk.errors import FlowError, LockBoardFrameError, ValidationError


@dataclass(frozen=True)
class FlowHandle:
    """A flow whose door is open now: show ``label`` and then ``poll``/``wait_closed`` it."""

    flow_id: int
    kind: str
    label: str
    cabinet_id: str
    parcel_id: int | None


@dataclass(frozen=True)
class FlowResult:
    """How a flow ended. ``code`` is set once, for a deposit, to show or print; it is never stored."""

    flow_id: int
    kind: str
    outcome: str
    label: str
    parcel_id: int | None
    code: str | None = field(default=None, repr=False)
    expires_at: dt.datetime | None = None
    receipt_number: str | None = None
    task_id: int | None = None
    item_present: bool | None = None


@dataclass(frozen=True)
class ParcelView:
    """A parcel as staff see it: masked owner only."""

    id: int
    kind: str
    state: str
    label: str | None
    case_number: str | None
    matter_name: str | None
    owner_id_masked: str | None
    owner_name_masked: str | None
    stored_at: dt.datetime | None
    expires_at: dt.datetime | None
    overdue: bool
    receipt_number: str | None = None


@dataclass(frozen=True)
class CompartmentStatus:
    """One compartment: stored state plus what its board says now (None where the board did not answer)."""

    label: str
    cabinet_id: str
    size: str
    board: int
    channel: int
    state: str
    fault_reason: str | None
    door_closed: bool | None
    item_present: bool | None
    parcel: ParcelView | None
    bus_error: str | None = None


@dataclass(frozen=True)
class TaskView:
    """A staff task."""

    id: int
    kind: str
    detail: str
    label: str | None
    parcel_id: int | None
    flow_id: int | None
    created_at: dt.datetime
    resolved_at: dt.datetime | None
    resolved_by: str | None
    number: str | None = None  # its parcel's case or receipt number: what staff look it up or phone about


@dataclass(frozen=True)
class LockoutCleared:
    """What ``clear_lockout`` lifted: the seconds the wait still had to run (None: none was on), the wrong codes that
    no longer grow the next wait, and the wait that stays because the hall's daily budget is spent (None: none)."""

    retry_after_s: int | None
    wrong_codes: int
    still_waits_s: int | None = None


@dataclass
class ReconcileReport:
    """What start-up reconciliation did, one line per unfinished flow."""

    completed: list[int] = field(default_factory=list)
    rolled_back: list[int] = field(default_factory=list)
    staff_tasks: list[int] = field(default_factory=list)
    watched: list[int] = field(default_factory=list)  # door found open: settled by its item sensor once shut
    lines: list[str] = field(default_factory=list)


class PickupDoorFault(FlowError):
    """The compartment of the citizen's parcel would not open; staff have a task for it."""

    citizen_key = "error.pickup_door_fault"  # "The door did not open. Please go to the service desk."
    hint = "Open the compartment by hand or with `kiosk cabinet open LABEL`, hand the parcel over, resolve the task."


class DoorStateUnknown(LockBoardFrameError):
    """Only garbled replies after an unlock: the door may be open. The parcel waits in attention with a task."""

    citizen_key = (
        "error.door"  # "A door failed. Please go to the service desk." (it may have opened: no claim)
    )
    hint = "Look at the door named; check the RS-485 cable (noise, termination); then resolve the task."

    def __init__(self, message: str, *, task_id: int) -> None:
        super().__init__(message)
        self.task_id = task_id


class AnotherDoorUnknown(FlowError):
    """Nothing was opened: another door's state is unknown (garbled replies), and no second door opens then."""

    citizen_key = "error.door"  # "A door failed. Please go to the service desk."
    hint = (
        "Look at the door named and the RS-485 cable; once the bus answers cleanly the cabinet works again."
    )


class PickupCodeExpired(FlowError):
    """The code was right but is past its expiry: the owner can still pick up with their ID card."""

    citizen_key = "error.code_expired"  # "Your code has expired. Use your ID card, or ask staff."
    hint = "Overdue parcel: the owner can pick up with their ID card until staff collect it."


class NothingToPickUp(FlowError):
    """The identity matches no parcel waiting in this cabinet."""

    citizen_key = "error.nothing_to_pick_up"
    hint = "No ready parcel for this person; check `kiosk cabinet status`."


class DoorLeftOpen(FlowError, TimeoutError):
    """The door stayed open past close_timeout_s; the flow stays open and can be polled again.

    ``task_id`` is the staff task raised for it (None when the wait stopped for another reason)."""

    citizen_key = "error.close_door"
    hint = "Close the compartment door; the flow finishes when it reads closed (the staff task then resolves itself)."

    def __init__(self, message: str, *, task_id: int | None = None) -> None:
        super().__init__(message)
        self.task_id = task_id


class MalformedPickupCode(ValidationError):
    """Not a pickup code at all (wrong length, not 0-9): never counted toward the lockout."""

    citizen_key = "error.wrong_code"
    hint = "A pickup code is pickup.code_digits digits 0-9, as in the applicant's text message."


class UnknownCompartment(FlowError, LookupError):
    """No compartment has that label."""

    hint = "Use a label shown by `kiosk cabinet status`."


class AmbiguousCompartment(FlowError, LookupError):
    """A bare label that more than one cabinet has: which door is meant is never guessed.

    Not a subclass of UnknownCompartment (the cabinet's classes compose, never inherit from one another:
    tests/cabinet/test_cabinet_structure.py); catch ``NOT_ONE_COMPARTMENT`` for either."""

    hint = "Use a label shown by `kiosk cabinet status`."

    def __init__(self, label: str, cabinet_ids: list[str]) -> None:
        self.label, self.cabinet_ids = label, cabinet_ids
        super().__init__(
            f"{label} is in cabinets {', '.join(cabinet_ids)}: name one as CABINET:LABEL, "
            f"e.g. {cabinet_ids[0]}:{label}",
            hint=f"Use {' or '.join(f'{c}:{label}' for c in cabinet_ids)}.",
        )


# The lookup by label found no door, or more than one (kiosk.cabinet.labels.find): catch both with this.
NOT_ONE_COMPARTMENT = (UnknownCompartment, AmbiguousCompartment)
