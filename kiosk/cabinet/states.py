"""The names of every state a compartment, parcel or flow can be in."""

from __future__ import annotations

# --- compartments ------------------------------------------------------------
FREE = "free"
RESERVED = "reserved"  # a deposit or drop-off is putting something in
OCCUPIED = "occupied"
FAULTY = "faulty"
DISABLED = "disabled"
OUT_OF_SERVICE = frozenset({FAULTY, DISABLED})
SIZES = ("S", "M", "L")

# --- parcels -------------------------------------------------------------------
RESULT = "result"  # a finished case's result, for its applicant to pick up
DROPOFF = "dropoff"  # materials a citizen left, for staff to collect

DEPOSITING = "depositing"  # result: the door is open for staff to put it in
READY = "ready"  # result: in its compartment, code sent (overdue once past expires_at)
PICKING = "picking"  # result: the door is open for its owner
PICKED_UP = "picked_up"
RETURNED = "returned"  # result: taken back to the centre by staff
DROPPING = "dropping"  # drop-off: the door is open for the citizen
DROPPED_OFF = "dropped_off"  # drop-off: in its compartment, waiting for staff
COLLECTING = "collecting"  # either kind: the door is open for staff to take it out
COLLECTED = "collected"
ATTENTION = "attention"  # a person must look: a staff task says why
CANCELLED = "cancelled"  # never went in

LIVE = frozenset({DEPOSITING, READY, PICKING, DROPPING, DROPPED_OFF, COLLECTING, ATTENTION})
DONE = frozenset({PICKED_UP, RETURNED, COLLECTED, CANCELLED})

# --- flows -----------------------------------------------------------------------
DEPOSIT = "deposit"
PICKUP = "pickup"
DROPOFF_FLOW = "dropoff"
COLLECT = "collect"
TECH_OPEN = "tech_open"
FLOW_KINDS = (DEPOSIT, PICKUP, DROPOFF_FLOW, COLLECT, TECH_OPEN)

OPENING = "opening"  # recorded before the unlock is sent
DOOR_OPEN = "door_open"  # the board confirmed the door open
DONE_FLOW = "done"

# --- staff tasks -------------------------------------------------------------------
TASK_DOOR_FAULT = "door_fault"
TASK_PICKUP_DOOR = "pickup_door_fault"
TASK_ITEM_LEFT = "item_left"
TASK_RECONCILE = "reconcile"
TASK_SENSOR_MISMATCH = "sensor_mismatch"  # after a restore: a compartment's sensors disagree with the records
TASK_DOOR_LEFT_OPEN = "door_left_open"  # resolved by the kiosk itself once the door closes and the flow finishes
