"""The cabinet core: compartments, parcels and the door flows, persisted so a power cut is safe.

Every flow writes its intent before the hardware acts ("opening A07 for
parcel 12"), sends the unlock, records the confirmed open, and records the
outcome when the door reads closed; each step is audited. ``Cabinet.start()``
syncs compartments from the config and settles flows a crash left unfinished
(see :mod:`kiosk.cabinet.reconcile`).

API (all blocking; a UI calls it from its worker thread)::

    cab = Cabinet(db, buses, cfg.cabinets, cfg.pickup, clock, secret, cfg.kiosk.id, platform=None)
    report = cab.start()                                  # once per process that owns the buses

    # every flow: start_* opens a door and returns a FlowHandle (label to show) ...
    h = cab.start_deposit(case, actor="staff:0042", size="M")        # applicant from GetDeliveryTicket
    h = cab.start_deposit(case, actor=..., applicant=Identity/Applicant)  # no platform: given by staff
    h = cab.start_pickup_by_code(code)                    # WrongPickupCode / CodeLockout / PickupCodeExpired /
                                                          # MalformedPickupCode (not code_digits digits; not counted)
    h = cab.start_pickup_by_identity(identity)            # NothingToPickUp; cab.parcels_for(identity) lists
    h = cab.start_dropoff(identity, case_number=... or matter_code=..., size="M")
    h = cab.start_collect(parcel_id, actor=..., reason="")  # any of cab.collectable(include_ready=True)
    # ... then the UI polls until the door reads closed:
    r = cab.poll(h)             # None while open; a FlowResult once closed (safe to call again)
    r = cab.wait_closed(h)      # the same, blocking; after close_timeout_s a staff task (once) and DoorLeftOpen
    r = cab.wait_closed(h, cancel=event)  # stops early once event is set (or a callable returns True):
                                          # DoorLeftOpen(task_id=None), no task; settle_open_flows finishes it
    r.code                      # deposit only: the pickup code, returned this once, never stored or logged
    r.receipt_number            # drop-off only
    r.outcome                   # deposited / picked_up / item_left / dropped_off / returned / collected /
                                # item_still_inside (collect: the sensor still sees the parcel; nothing changed) /
                                # cancelled_empty (deposit, drop-off: shut with the item sensor reading empty, the
                                # way a person cancels at a cabinet: no code, no receipt, nothing reported)
    cab.settle_open_flows()     # every few seconds (the runtime): finish flows whose door was left open once shut

    # one call each, for the CLI: cab.deposit(...), cab.pickup_by_code(code), cab.dropoff(...), cab.run_collect(actor=...),
    # cab.collect(parcel_id, actor=..., reason=...)
    # staff and technician: cab.status(), cab.technician_open(label, actor=...), cab.disable(label, actor=..., reason=...),
    # cab.enable(label, actor=...), cab.tasks(), cab.resolve_task(id, actor=...), cab.overdue(), cab.clear_lockout(actor=...)

A door that does not open: deposit and drop-off mark the compartment faulty
and move on to the next fitting one (NoFreeCompartment when none is left);
pickup raises PickupDoorFault (citizen_key tells the citizen to see staff)
and raises a staff task; collect and technician open re-raise the board error.
A free compartment whose item sensor reads something inside is never handed
out: allocation takes it out of service with a staff task.
Crash injection for tests: :mod:`kiosk.cabinet.crashpoints`.

How it is built: ``Cabinet`` (service.py) is a facade over composed parts that depend on the narrow
``Context`` protocol (context.py): the door engine (door.py), one policy per flow kind (policies.py), the
flow starts (flows.py) and the staff desk (admin.py). Flow data is typed (flowdata.py).
"""

from __future__ import annotations

from kiosk.cabinet.codes import CodeWait
from kiosk.cabinet.results import (
    AmbiguousCompartment,
    AnotherDoorUnknown,
    CompartmentStatus,
    DoorLeftOpen,
    DoorStateUnknown,
    FlowHandle,
    FlowResult,
    LockoutCleared,
    MalformedPickupCode,
    NothingToPickUp,
    ParcelView,
    PickupCodeExpired,
    PickupDoorFault,
    ReconcileReport,
    TaskView,
    UnknownCompartment,
)
from kiosk.cabinet.service import Cabinet

__all__ = [
    "AmbiguousCompartment",
    "AnotherDoorUnknown",
    "Cabinet",
    "CodeWait",
    "CompartmentStatus",
    "DoorLeftOpen",
    "DoorStateUnknown",
    "FlowHandle",
    "FlowResult",
    "LockoutCleared",
    "MalformedPickupCode",
    "NothingToPickUp",
    "ParcelView",
    "PickupCodeExpired",
    "PickupDoorFault",
    "ReconcileReport",
    "TaskView",
    "UnknownCompartment",
]
