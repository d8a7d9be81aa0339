"""The one table of allowed flow-state moves, and the one function that applies them.

Every change of ``Flow.state`` goes through :func:`transition` (an AST test enforces it), so what a flow can do
next is read here, not pieced together from five files. ``docs/cabinet-flows.md`` is generated from
:data:`TABLE` by ``python scripts/gen_flow_table.py``; a test fails when it is stale.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from kiosk.cabinet.states import FlowKind, FlowState
from kiosk.storage.models import Flow

K, F = FlowKind, FlowState
_PUT_IN = (K.DEPOSIT, K.DROPOFF)
_TAKE_OUT = (K.PICKUP, K.COLLECT)


def _rows() -> dict[tuple[FlowKind, FlowState, FlowState], str]:
    rows: dict[tuple[FlowKind, FlowState, FlowState], str] = {}
    for kind in FlowKind:
        rows[(kind, F.OPENING, F.DOOR_OPEN)] = "the board confirmed the door open"
        rows[(kind, F.DOOR_OPEN, F.DONE)] = (
            "the door read closed (outcome by the item sensor), or start-up reconciliation settled it"
            if kind != K.TECH_OPEN
            else "ended as soon as the board confirmed the door open: nothing to watch"
        )
    for kind in _PUT_IN:
        rows[(kind, F.OPENING, F.OPENING)] = (
            "the door was confirmed never to have opened (a jam): moved to another "
            "compartment; never while the first door's state is unknown"
        )
        rows[(kind, F.OPENING, F.DONE)] = (
            "no compartment left to try, the door's state is unknown after an unlock "
            "(attention + task), or start-up reconciliation"
        )
    for kind in _TAKE_OUT:
        rows[(kind, F.OPENING, F.DONE)] = (
            "the door did not open or its state is unknown: the parcel waits in "
            "attention with a staff task; or start-up reconciliation"
        )
    rows[(K.TECH_OPEN, F.OPENING, F.DONE)] = "the door did not open, or start-up found it unfinished"
    return rows


TABLE: Mapping[tuple[FlowKind, FlowState, FlowState], str] = _rows()


class IllegalTransition(RuntimeError):
    """A move the table does not allow: a bug, never a citizen's error."""


def allowed(kind: str, src: str, dst: str) -> bool:
    try:
        return (FlowKind(kind), FlowState(src), FlowState(dst)) in TABLE
    except ValueError:  # a kind or state that does not exist
        return False


def transition(flow: Flow, to: FlowState, now: dt.datetime) -> None:
    """Move ``flow`` to ``to``; raises IllegalTransition for a move not in :data:`TABLE`."""
    if not allowed(flow.kind, flow.state, to):
        raise IllegalTransition(
            f"flow {flow.id} ({flow.kind}): {flow.state} -> {to} is not an allowed transition"
        )
    flow.state, flow.updated_at = FlowState(to).value, now


def render_markdown() -> str:
    """The flow table for docs/cabinet-flows.md."""
    out = [
        "# Cabinet flows: allowed state transitions",
        "",
        "Generated from `kiosk/cabinet/transitions.py` by `python scripts/gen_flow_table.py`; do not edit by hand",
        "(a test fails when this file is stale). A flow is recorded in `opening` before any unlock is sent.",
        "",
        "| flow kind | from | to | when |",
        "| --------- | ---- | -- | ---- |",
    ]
    order = {**{k: i for i, k in enumerate(FlowKind)}, **{s: i for i, s in enumerate(FlowState)}}
    for (kind, src, dst), why in sorted(TABLE.items(), key=lambda kv: tuple(order[x] for x in kv[0])):
        out.append(f"| {kind} | {src} | {dst} | {why} |")
    out += [
        "",
        "What each kind does at each step (start, open failed, closed, left open, refused while another door's state",
        "is unknown, start-up reconciliation) is one policy object per kind in `kiosk/cabinet/policies.py` (its module",
        "text holds that table); the door engine (`kiosk/cabinet/door.py`) knows doors only. A take-back of a result",
        "stays a `collect` with a reason (audited with the flow): no kind of its own, so no migration of old rows.",
    ]
    return "\n".join(out) + "\n"
