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
    h = cab.start_pickup_by_code(code)                    # WrongPickupCode / CodeLockout / PickupCodeExpired
    h = cab.start_pickup_by_identity(identity)            # NothingToPickUp; cab.parcels_for(identity) lists
    h = cab.start_dropoff(identity, case_number=... or matter_code=..., size="M")
    h = cab.start_collect(parcel_id, actor=...)           # for each of cab.collectable()
    # ... then the UI polls until the door reads closed:
    r = cab.poll(h)             # None while open; a FlowResult once closed (safe to call again)
    r = cab.wait_closed(h)      # the same, blocking; DoorLeftOpen after close_timeout_s (flow stays open)
    r.code                      # deposit only: the pickup code, returned this once, never stored or logged
    r.receipt_number            # drop-off only
    r.outcome                   # deposited / picked_up / item_left / dropped_off / returned / collected

    # one call each, for the CLI: cab.deposit(...), cab.pickup_by_code(code), cab.dropoff(...), cab.run_collect(actor=...)
    # staff and technician: cab.status(), cab.technician_open(label, actor=...), cab.disable(label, actor=..., reason=...),
    # cab.enable(label, actor=...), cab.tasks(), cab.resolve_task(id, actor=...), cab.overdue(), cab.clear_lockout(actor=...)

A door that does not open: deposit and drop-off mark the compartment faulty
and move on to the next fitting one (NoFreeCompartment when none is left);
pickup raises PickupDoorFault (citizen_key tells the citizen to see staff)
and raises a staff task; collect and technician open re-raise the board error.
Crash injection for tests: :mod:`kiosk.cabinet.crashpoints`.
"""

from __future__ import annotations

from kiosk.cabinet.results import (
    CompartmentStatus,
    DoorLeftOpen,
    FlowHandle,
    FlowResult,
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
    "Cabinet",
    "CompartmentStatus",
    "DoorLeftOpen",
    "FlowHandle",
    "FlowResult",
    "NothingToPickUp",
    "ParcelView",
    "PickupCodeExpired",
    "PickupDoorFault",
    "ReconcileReport",
    "TaskView",
    "UnknownCompartment",
]
