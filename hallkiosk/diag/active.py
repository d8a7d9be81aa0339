"""Active tests a technician runs: open one door (or walk them all) and time it; read one card. Each is audited.

On real hardware each needs ``confirmed=True`` (the CLI asks, the technician
screen shows a confirmation); on the shipped simulators it does not.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from hallkiosk.diag.cardtest import CardProbe, CardTestResult, card_test
from hallkiosk.diag.confirm import NotConfirmed, find_compartment, needs_confirmation
from kiosk.cabinet.labels import ref as door_name  # CABINET:LABEL: two cabinets may share a label
from kiosk.diag_model import Check, Status
from kiosk.errors import LockBoardError

if TYPE_CHECKING:
    from hallkiosk.wiring import App
    from kiosk.cabinet import Cabinet

__all__ = [
    "CardProbe",
    "CardTestResult",
    "DoorTestResult",
    "NotConfirmed",
    "card_test",
    "door_test",
    "needs_confirmation",
    "walk_test",
]

Progress = Callable[[str], None]
DOOR_HINT = (
    "Check the lock, its cable to the board and the door switch; the compartment is now marked faulty."
)


@dataclass
class DoorTestResult:
    """One door test: did it open, how fast, when it closed, and every sensor change seen in between."""

    label: str
    cabinet_id: str
    board: int
    channel: int
    status: Status
    finding: str
    hint: str = ""
    skipped: bool = False
    open_ms: float | None = None  # unlock sent -> door confirmed open
    closed_after_s: float | None = None  # door confirmed open -> door read closed
    transitions: list[dict[str, Any]] = field(default_factory=list)  # {"t_s", "closed", "item_present"}
    flow_id: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_check(self) -> Check:
        return Check(
            id=f"lockboards.door.{self.label}",
            area="lockboards",
            title=f"door test {self.label}",
            status=self.status,
            finding=self.finding,
            hint=self.hint,
            device=f"lockboard.{self.cabinet_id}",
            data=self.to_dict(),
            duration_ms=(self.closed_after_s or 0) * 1000 + (self.open_ms or 0),
        )


def sync_cabinet(app: App) -> Cabinet:
    """A Cabinet for this process with compartments synced from the config (no reconciliation: that is the kiosk's job)."""
    from kiosk.cabinet import Cabinet

    cab = Cabinet(
        app.db, app.buses, app.cfg.cabinets, app.cfg.pickup, app.clock, app.secret, app.cfg.kiosk.id
    )
    cab.sync()
    return cab


def _read(bus: Any, board: int, channel: int) -> tuple[bool | None, bool | None]:
    d = bus.door_state(board, channel)
    return d.closed, d.item_present


def door_test(
    app: App,
    label: str,
    *,
    confirmed: bool = False,
    actor: str = "technician",
    close_timeout_s: float | None = None,
    poll_interval_s: float = 0.1,
    cabinet: Cabinet | None = None,
    on_progress: Progress | None = None,
    cancel: threading.Event | None = None,
    sim_close_after_s: float | None = None,
) -> DoorTestResult:
    """Open one door through the cabinet (a persisted, audited technician-open flow), then watch it until it closes.

    ``sim_close_after_s``: on a simulated bus, the simulator shuts the door after this long (for demos and tests).
    """
    cab_cfg, comp = find_compartment(app, label)
    if needs_confirmation(app, door_name(cab_cfg.id, comp.label)) and not confirmed:
        raise NotConfirmed(f"door test of {comp.label} on real cabinet {cab_cfg.id} not confirmed")
    say = on_progress or (lambda _msg: None)
    bus = app.buses[cab_cfg.id]
    clock = app.clock
    limit = close_timeout_s if close_timeout_s is not None else cab_cfg.close_timeout_s
    res = DoorTestResult(
        label=comp.label,
        cabinet_id=cab_cfg.id,
        board=comp.board,
        channel=comp.channel,
        status="OK",
        finding="",
    )
    try:
        before = _read(bus, comp.board, comp.channel)
    except LockBoardError as err:
        res.status = "FAULT"
        res.finding = f"{comp.label}: board {comp.board} does not answer before the test: {err.message}"
        res.hint = err.hint
        return _audited(app, actor, res)
    res.transitions.append({"t_s": 0.0, "closed": before[0], "item_present": before[1]})
    cabinet = cabinet or sync_cabinet(app)
    say(f"opening {comp.label} (cabinet {cab_cfg.id}, board {comp.board}, channel {comp.channel})")
    t0 = clock.monotonic()
    try:
        flow = cabinet.technician_open(door_name(cab_cfg.id, comp.label), actor=actor)
        res.flow_id = flow.flow_id
    except LockBoardError as err:
        res.open_ms = (clock.monotonic() - t0) * 1000
        res.status = "FAULT"
        res.hint = DOOR_HINT
        res.finding = f"{comp.label} did not open: {err.message}"
        return _audited(app, actor, res)
    opened = clock.monotonic()
    res.open_ms = (opened - t0) * 1000
    res.transitions.append({"t_s": round(opened - t0, 3), "closed": False, "item_present": before[1]})
    say(f"{comp.label} open after {res.open_ms:.0f} ms; waiting up to {limit:g} s for it to close")
    sim = app.sims.boards.get(cab_cfg.id)
    if sim_close_after_s is not None and sim is not None:
        threading.Timer(sim_close_after_s, sim.close_door, (comp.board, comp.channel)).start()
        say(f"SIMULATED: the simulator will close {comp.label} after {sim_close_after_s:g} s")
    last = res.transitions[-1]
    deadline = opened + limit
    while True:
        try:
            closed, item = _read(bus, comp.board, comp.channel)
        except LockBoardError as err:
            res.status = "FAULT"
            res.hint = err.hint
            res.finding = f"{comp.label} opened in {res.open_ms:.0f} ms, then board {comp.board} stopped answering: {err.message}"
            return _audited(app, actor, res)
        now = clock.monotonic()
        if (closed, item) != (last["closed"], last["item_present"]):
            last = {"t_s": round(now - t0, 3), "closed": closed, "item_present": item}
            res.transitions.append(last)
            say(f"  {now - t0:6.2f} s  door {'closed' if closed else 'open'}, item {_item(item)}")
        if closed:
            res.closed_after_s = round(now - opened, 3)
            break
        if now >= deadline or (cancel is not None and cancel.is_set()):
            why = (
                "the test was cancelled"
                if cancel is not None and cancel.is_set()
                else f"not closed within {limit:g} s"
            )
            res.status = "DEGRADED"
            res.hint = "Close the door; if it is shut, its door switch does not report it: check it."
            res.finding = f"{comp.label} opened in {res.open_ms:.0f} ms but {why}"
            return _audited(app, actor, res)
        clock.sleep(poll_interval_s)
    changes = len(res.transitions) - 2
    res.finding = (
        f"{comp.label} opened in {res.open_ms:.0f} ms, closed after {res.closed_after_s:.1f} s; "
        f"item sensor {_item(before[1])} -> {_item(last['item_present'])}; {changes} sensor change(s) while open"
    )
    return _audited(app, actor, res)


def _item(v: bool | None) -> str:
    return {True: "present", False: "empty", None: "n/a"}[v]


def _audited(app: App, actor: str, res: DoorTestResult) -> DoorTestResult:
    app.audit(
        actor,
        "diag.door_test",
        res.label,
        status=res.status,
        finding=res.finding,
        open_ms=res.open_ms,
        closed_after_s=res.closed_after_s,
        transitions=len(res.transitions),
        flow=res.flow_id,
    )
    return res


def walk_test(
    app: App,
    *,
    confirmed: bool = False,
    actor: str = "technician",
    close_timeout_s: float = 60.0,
    include_occupied: bool = False,
    labels: list[str] | None = None,
    on_progress: Progress | None = None,
    on_result: Callable[[DoorTestResult], None] | None = None,
    cancel: threading.Event | None = None,
    cabinet: Cabinet | None = None,
    sim_close_after_s: float | None = None,
) -> list[DoorTestResult]:
    """Test every door in turn (or ``labels``); a door with a flow running is skipped, an occupied one unless asked."""
    from kiosk.cabinet import states as S

    if needs_confirmation(app) and not confirmed:
        raise NotConfirmed("door walk on a real cabinet not confirmed")
    cabinet = cabinet or sync_cabinet(app)
    # By CABINET:LABEL: two cabinets may both have an A01 (kiosk.cabinet.labels).
    states = (
        {door_name(c.cabinet_id, c.label): c.state for c in cabinet.status()}
        if hasattr(cabinet, "status")
        else {}
    )
    wanted = (
        [lbl.upper() for lbl in labels]
        if labels
        else [door_name(cab.id, c.label) for cab in app.cfg.cabinets for c in cab.compartments]
    )
    out: list[DoorTestResult] = []
    app.audit(actor, "diag.walk_started", "", doors=len(wanted), include_occupied=include_occupied)
    for label in wanted:
        if cancel is not None and cancel.is_set():
            break
        cab_cfg, comp = find_compartment(app, label)
        state = states.get(door_name(cab_cfg.id, comp.label))
        if state == S.RESERVED or (state == S.OCCUPIED and not include_occupied):
            why = "a flow is using it" if state == S.RESERVED else "occupied (use --include-occupied)"
            res = DoorTestResult(
                label=comp.label,
                cabinet_id=cab_cfg.id,
                board=comp.board,
                channel=comp.channel,
                status="OK",
                finding=f"{comp.label} skipped: {why}",
                skipped=True,
            )
        else:
            res = door_test(
                app,
                door_name(cab_cfg.id, comp.label),
                confirmed=True,
                actor=actor,
                close_timeout_s=close_timeout_s,
                on_progress=on_progress,
                cancel=cancel,
                cabinet=cabinet,
                sim_close_after_s=sim_close_after_s,
            )
        out.append(res)
        if on_result is not None:
            on_result(res)
    app.audit(
        actor,
        "diag.walk_finished",
        "",
        tested=sum(not r.skipped for r in out),
        faults=sum(r.status == "FAULT" for r in out),
        degraded=sum(r.status == "DEGRADED" for r in out),
    )
    return out
