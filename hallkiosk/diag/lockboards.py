"""Lock-board checks per cabinet: each board answers, no stray board on the bus, doors and sensors, faulty compartments."""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from hallkiosk.diag.runner import Ctx
from kiosk.config import CabinetConfig
from kiosk.diag_model import Check
from kiosk.errors import KioskBusy, KioskError, LockBoardError, LockBoardFrameError, LockBoardTimeout
from kiosk.lockboard_families import FAMILY
from kiosk.ports import DoorStatus, LockBus
from kiosk.storage.models import Compartment, Flow

# Each family's address range (lockboards.md): a scan looks at the addresses the config does not name.
ADDRESS_RANGE = {name: f.addresses for name, f in FAMILY.items()}
FAMILY_REPLY_TIMEOUT_S = {name: f.reply_timeout_s for name, f in FAMILY.items()}
FAST_SCAN_TIMEOUT_S = 0.15  # a board answers a status request in a few ms even at 9600 baud
BOARD_HINT = "Check the board's power, its RS-485 A/B wiring and its DIP address; then run `kiosk diag --only lockboards`."


@dataclass
class _Compartment:
    label: str
    board: int
    channel: int
    state: str | None = None  # None: the database has no row for it yet
    fault_reason: str | None = None
    in_flow: bool = False


def run(ctx: Ctx) -> list[Check]:
    if not ctx.cfg.cabinets:
        return [ctx.check("lockboards.none", "lockboards", "cabinets").ok("no cabinet configured")]
    try:
        buses = ctx.app.buses
    except KioskBusy as err:
        # The running kiosk owns the bus: probing it from here would garble its frames. Not a fault.
        return [
            ctx.check("lockboards.bus", "lockboards", "lock buses", "lockboards").degraded(
                f"not probed: {err.message}",
                "Run the diagnostics from the technician screen, or stop the kiosk first.",
            )
        ]
    except KioskError as err:
        return [
            ctx.check("lockboards.bus", "lockboards", "lock buses", "lockboards").fault(
                f"cannot open the lock buses: {err.message}", err.hint
            )
        ]
    stored, note = _stored(ctx)
    with ThreadPoolExecutor(max_workers=len(ctx.cfg.cabinets), thread_name_prefix="diag-bus") as pool:
        futures = [pool.submit(cabinet, ctx, cab, buses[cab.id], stored, note) for cab in ctx.cfg.cabinets]
        return [c for f in futures for c in f.result()]


def _stored(ctx: Ctx) -> tuple[dict[str, _Compartment], str]:
    """Compartment states and running flows from the database (empty with a note when it cannot be read)."""
    if ctx.schema_missing():
        return {}, " (compartment states unknown: the database has no schema yet)"
    try:
        with ctx.db.transaction() as s:
            busy = {
                cid for (cid,) in s.execute(select(Flow.compartment_id).where(Flow.finished_at.is_(None)))
            }
            rows = s.execute(select(Compartment)).scalars().all()
            return {
                r.label: _Compartment(
                    label=r.label,
                    board=r.board,
                    channel=r.channel,
                    state=r.state,
                    fault_reason=r.fault_reason,
                    in_flow=r.id in busy,
                )
                for r in rows
            }, ""
    except (KioskError, SQLAlchemyError) as err:
        return {}, f" (compartment states unknown: {getattr(err, 'message', err)})"


def _timing(cab: CabinetConfig, bus: LockBus) -> tuple[float, int]:
    s = getattr(bus, "settings", None)
    timeout = getattr(s, "reply_timeout_s", None) or cab.reply_timeout_s or FAMILY_REPLY_TIMEOUT_S[cab.family]
    return float(timeout), int(getattr(s, "retries", cab.retries))


def cabinet(
    ctx: Ctx, cab: CabinetConfig, bus: LockBus, stored: dict[str, _Compartment], note: str
) -> list[Check]:
    timeout, retries = _timing(cab, bus)
    out: list[Check] = []
    states: dict[int, Mapping[int, DoorStatus]] = {}
    for b in cab.boards:
        check, doors = board(ctx, cab, bus, b, timeout, retries)
        out.append(check)
        if doors is not None:
            states[b] = doors
    out.append(scan(ctx, cab, bus, timeout, retries))
    comps = [
        stored.get(c.label) or _Compartment(label=c.label, board=c.board, channel=c.channel)
        for c in cab.compartments
    ]
    out.append(doors_check(ctx, cab, comps, states, note))
    out.append(faulty_check(ctx, cab, comps, note))
    return out


def board(
    ctx: Ctx, cab: CabinetConfig, bus: LockBus, b: int, timeout: float, retries: int
) -> tuple[Check, Mapping[int, DoorStatus] | None]:
    p = ctx.check(
        f"lockboards.{cab.id}.board.{b}",
        "lockboards",
        f"cabinet {cab.id} board {b}",
        f"lockboard.{cab.id}.{b}",
    )
    try:
        doors = bus.board_state(b)
    except LockBoardTimeout as err:
        p.waited_s = timeout * (retries + 1)
        return p.fault(
            f"board {b} on cabinet {cab.id} does not answer: {err.message}",
            BOARD_HINT,
            board=b,
            tries=retries + 1,
            reply_timeout_s=timeout,
        ), None
    except LockBoardFrameError as err:
        return p.fault(
            f"board {b} on cabinet {cab.id} answers with garbled frames: {err.message}",
            "Check the bus termination and cable shielding, the baud rate setting, and for two boards "
            "sharing one DIP address.",
            board=b,
        ), None
    except LockBoardError as err:
        return p.fault(
            f"cabinet {cab.id}: the bus itself failed: {err.message}",
            "Check the USB-RS485 adapter and the `bus` path in the config; is another process using it?",
            board=b,
        ), None
    n_open = sum(1 for d in doors.values() if not d.closed)
    n_items = sum(1 for d in doors.values() if d.item_present)
    sensors = (
        "no item sensors"
        if all(d.item_present is None for d in doors.values())
        else f"{n_items} item(s) seen"
    )
    return p.ok(
        f"board {b} answers: {len(doors)} channels, {n_open} open, {sensors}",
        board=b,
        channels=len(doors),
        open=n_open,
        items=n_items,
    ), doors


def scan(ctx: Ctx, cab: CabinetConfig, bus: LockBus, timeout: float, retries: int) -> Check:
    p = ctx.check(
        f"lockboards.{cab.id}.scan", "lockboards", f"cabinet {cab.id} bus scan", f"lockboard.{cab.id}"
    )
    others = [a for a in ADDRESS_RANGE[cab.family] if a not in cab.boards]
    mode = ctx.opts.scan_bus
    if mode == "off" or not others:
        return p.ok("not scanned" if others else "every address is configured")
    try:
        if mode == "auto":
            found = bus.scan(others, timeout_s=FAST_SCAN_TIMEOUT_S, retries=0)
            p.waited_s = (len(others) - len(found)) * FAST_SCAN_TIMEOUT_S
        else:
            found = bus.scan(others, timeout_s=timeout, retries=retries)
            p.waited_s = (len(others) - len(found)) * timeout * (retries + 1)
    except LockBoardError as err:
        return p.fault(f"cabinet {cab.id}: scan failed: {err.message}", BOARD_HINT)
    data: dict[str, Any] = {
        "scanned": others[0] if len(others) == 1 else f"{others[0]}-{others[-1]}",
        "unexpected": found,
    }
    if found:
        return p.degraded(
            f"board(s) {', '.join(map(str, found))} answer on cabinet {cab.id}'s bus but are not in the config",
            "Add them to `boards` in the config, or fix a DIP switch set to the wrong address.",
            **data,
        )
    return p.ok(f"no unexpected board among {len(others)} other addresses", **data)


def doors_check(
    ctx: Ctx,
    cab: CabinetConfig,
    comps: list[_Compartment],
    states: dict[int, Mapping[int, DoorStatus]],
    note: str,
) -> Check:
    """Each door's state and item sensor; a door open with no flow running, or an item in a free compartment."""
    p = ctx.check(
        f"lockboards.{cab.id}.doors", "lockboards", f"cabinet {cab.id} doors", f"lockboard.{cab.id}"
    )
    doors, stray_open, stray_item, unknown = [], [], [], []
    for c in comps:
        d = states.get(c.board, {}).get(c.channel)
        doors.append(
            {
                "label": c.label,
                "board": c.board,
                "channel": c.channel,
                "state": c.state,
                "closed": d.closed if d else None,
                "item_present": d.item_present if d else None,
                "in_flow": c.in_flow,
            }
        )
        if d is None:
            unknown.append(c.label)
            continue
        if not d.closed and not c.in_flow:
            stray_open.append(c.label)
        if d.item_present and c.state == "free" and not c.in_flow:
            stray_item.append(c.label)
    problems = []
    if stray_open:
        problems.append(f"open with no flow running: {', '.join(stray_open)}")
    if stray_item:
        problems.append(f"item sensor sees something in free compartment(s) {', '.join(stray_item)}")
    tail = f"; not read (board silent): {', '.join(unknown)}" if unknown else ""
    data = {"doors": doors, "open_without_flow": stray_open, "item_in_free": stray_item, "unread": unknown}
    if problems:
        return p.degraded(
            f"cabinet {cab.id}: " + "; ".join(problems) + tail + note,
            "Close the door (check nothing was left or taken); look for a forced lock or a loose door "
            "switch; an item left in a free compartment goes to the service desk.",
            **data,
        )
    closed = sum(1 for d in doors if d["closed"])
    return p.ok(
        f"cabinet {cab.id}: {closed} of {len(comps)} doors closed, none open without a flow{tail}{note}",
        **data,
    )


def faulty_check(ctx: Ctx, cab: CabinetConfig, comps: list[_Compartment], note: str) -> Check:
    p = ctx.check(
        f"lockboards.{cab.id}.faulty",
        "lockboards",
        f"cabinet {cab.id} faulty compartments",
        f"lockboard.{cab.id}",
    )
    faulty = [c for c in comps if c.state == "faulty"]
    disabled = [c for c in comps if c.state == "disabled"]
    data = {
        "faulty": [{"label": c.label, "reason": c.fault_reason} for c in faulty],
        "disabled": [{"label": c.label, "reason": c.fault_reason} for c in disabled],
    }
    off = (
        f"; disabled by staff: {', '.join(f'{c.label} ({c.fault_reason})' for c in disabled)}"
        if disabled
        else ""
    )
    if faulty:
        why = "; ".join(f"{c.label}: {c.fault_reason or 'no reason recorded'}" for c in faulty)
        return p.degraded(
            f"{len(faulty)} compartment(s) out of service as faulty: {why}{off}",
            "Test the door with `kiosk diag door LABEL`; once repaired, `kiosk cabinet enable LABEL`.",
            **data,
        )
    return p.ok(f"no faulty compartment{off}{note}", **data)
