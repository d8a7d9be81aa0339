"""The names of every state a compartment, parcel or flow can be in."""

from __future__ import annotations

from enum import StrEnum

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
class FlowKind(StrEnum):
    """What a flow is for; each kind has its own policy for opened, open failed, closed, left open, reconcile."""

    DEPOSIT = "deposit"  # staff put a result in
    PICKUP = "pickup"  # its owner takes it out (code or ID card)
    DROPOFF = "dropoff"  # a citizen leaves materials
    COLLECT = "collect"  # staff take a parcel out (a take-back stays a collect, with its reason audited)
    TECH_OPEN = "tech_open"  # a technician opens a door


class FlowState(StrEnum):
    """Where a flow stands; the allowed moves are :data:`kiosk.cabinet.transitions.TABLE`."""

    OPENING = "opening"  # recorded before the unlock is sent
    DOOR_OPEN = "door_open"  # the board confirmed the door open
    DONE = "done"  # finished; Flow.outcome says how


DEPOSIT = FlowKind.DEPOSIT
PICKUP = FlowKind.PICKUP
DROPOFF_FLOW = FlowKind.DROPOFF
COLLECT = FlowKind.COLLECT
TECH_OPEN = FlowKind.TECH_OPEN
FLOW_KINDS = tuple(FlowKind)

OPENING = FlowState.OPENING
DOOR_OPEN = FlowState.DOOR_OPEN
DONE_FLOW = FlowState.DONE


# --- staff tasks -------------------------------------------------------------------
class TaskKind(StrEnum):
    """The cabinet's staff tasks (the outbox and help desk have their own kinds)."""

    DOOR_FAULT = "door_fault"  # a door did not open: out of service
    PICKUP_DOOR = "pickup_door_fault"  # a door did not open for its owner: the parcel waits in attention
    ITEM_LEFT = "item_left"
    RECONCILE = "reconcile"  # start-up could not tell what an interrupted flow did
    SENSOR_MISMATCH = "sensor_mismatch"  # after a restore: a compartment's sensors disagree with the records
    DOOR_LEFT_OPEN = (
        "door_left_open"  # resolved by the kiosk itself once the door closes and the flow finishes
    )
    BOARD_NOT_ANSWERING = "board_not_answering"  # one per silent board or dead bus, never per door
    BUS_GARBLED = (
        "bus_garbled"  # line noise or bad checksums: the bus's problem, one per board, no door blamed
    )
    ITEM_SENSORS = "item_sensors"  # a board's item sensors look wrong
    REPORTED_PROBLEM = "reported_problem"  # someone at the kiosk said something is wrong


TASK_DOOR_FAULT = TaskKind.DOOR_FAULT
TASK_PICKUP_DOOR = TaskKind.PICKUP_DOOR
TASK_ITEM_LEFT = TaskKind.ITEM_LEFT
TASK_RECONCILE = TaskKind.RECONCILE
TASK_SENSOR_MISMATCH = TaskKind.SENSOR_MISMATCH
TASK_DOOR_LEFT_OPEN = TaskKind.DOOR_LEFT_OPEN
