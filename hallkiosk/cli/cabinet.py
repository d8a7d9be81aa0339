"""``kiosk cabinet status|open|disable|enable|tasks|resolve|handover|putback|overdue|clear-lockout`` and
``kiosk deposit|pickup|dropoff|collect``.

A command that moves a door starts the cabinet core as its own process would: sync the compartments from the
config and reconcile unfinished flows. The ones that only read or touch the database (status, tasks, overdue,
disable, enable, resolve, handover, putback, clear-lockout) are passive: they never sync or reconcile. While the
kiosk runs it owns the lock bus (hallkiosk.instance): commands that move a door are refused then, and the passive
ones work on the database alone and say the doors were not read. With a simulated bus ("sim") the
simulator plays the person at the cabinet: once a door opens it puts or takes
the item and shuts the door after SIM_CLOSE_AFTER_S, and says so.
"""

from __future__ import annotations

import argparse
import getpass
import sys
import threading
from collections.abc import Callable
from typing import NoReturn

from hallkiosk.cli.common import ROW_ID, app_of
from hallkiosk.cli.outbox import send_before_exit
from kiosk.cabinet import Cabinet, FlowHandle, FlowResult
from kiosk.clock import local
from kiosk.errors import KioskBusy, KioskError, LockBoardError, ValidationError
from kiosk.identity import Identity, validate_id_number

SIM_CLOSE_AFTER_S = 1.0


# A label is unique per cabinet only (kiosk.cabinet.labels): a bare one two cabinets share is refused.
LABEL_HELP = "a compartment: its LABEL, or CABINET:LABEL when two cabinets have that label"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("cabinet", help="cabinet status and staff/technician operations")
    s = p.add_subparsers(dest="cabinet_cmd", required=True)
    s.add_parser("status", help="every compartment: state, door, item sensor, parcel").set_defaults(
        func=_status
    )
    o = s.add_parser("open", help="technician: open one door, or with --all every door of a board (audited)")
    o.add_argument("label", nargs="?", help=LABEL_HELP)
    o.add_argument(
        "--all",
        dest="all_board",
        type=int,
        metavar="BOARD",
        help="open every door of BOARD; refused while any flow is open; asks to confirm",
    )
    o.add_argument("--cabinet", help="the cabinet of BOARD (default: the first configured)")
    o.add_argument("--yes", action="store_true", help="confirm --all without asking")
    o.set_defaults(func=_open)
    d = s.add_parser("disable", help="take a compartment out of service")
    d.add_argument("label", help=LABEL_HELP)
    d.add_argument("--reason", default="")
    d.set_defaults(func=_disable)
    e = s.add_parser("enable", help="put a compartment back in service (after a repair)")
    e.add_argument("label", help=LABEL_HELP)
    e.set_defaults(func=_enable)
    t = s.add_parser("tasks", help="open staff tasks")
    t.add_argument("--all", action="store_true", help="resolved ones too")
    t.set_defaults(func=_tasks)
    r = s.add_parser("resolve", help="mark a staff task done")
    r.add_argument("task_id", type=ROW_ID)
    r.add_argument("--note", default="")
    r.set_defaults(func=_resolve)
    h = s.add_parser(
        "handover", help="staff: a parcel held for attention was handed to its owner at the desk"
    )
    h.add_argument("parcel_id", type=ROW_ID)
    h.add_argument("--note", default="")
    h.set_defaults(func=_handover)
    b = s.add_parser("putback", help="staff: a parcel held for attention is where it belongs: ready again")
    b.add_argument("parcel_id", type=ROW_ID)
    b.add_argument("--note", default="")
    b.set_defaults(func=_putback)
    s.add_parser("overdue", help="results past their expiry still in a compartment").set_defaults(
        func=_overdue
    )
    s.add_parser(
        "clear-lockout", help="staff: lift the hall-wide pickup-code wait after wrong codes (audited)"
    ).set_defaults(func=_clear_lockout)

    q = sub.add_parser("deposit", help="staff: put a finished case's result in a compartment")
    q.add_argument("case_number")
    q.add_argument("--size", choices=("S", "M", "L"), default="M")
    q.add_argument("--id-number", help="the applicant's ID number (instead of asking the platform)")
    q.add_argument("--name", default="", help="the applicant's name (with --id-number)")
    q.set_defaults(func=_deposit)
    q = sub.add_parser("pickup", help="citizen: open a compartment with a pickup code")
    q.add_argument("code")
    q.set_defaults(func=_pickup)
    q = sub.add_parser("dropoff", help="citizen: leave materials in a compartment")
    q.add_argument("--id-number", required=True)
    q.add_argument("--name", default="")
    q.add_argument("--case", dest="case_number")
    q.add_argument("--matter", dest="matter_code")
    q.add_argument("--size", choices=("S", "M", "L"), default="M")
    q.set_defaults(func=_dropoff)
    q = sub.add_parser(
        "collect", help="staff: take out drop-offs, overdue results and held parcels, or one named parcel"
    )
    q.add_argument(
        "parcel_id",
        type=ROW_ID,
        nargs="?",
        help="take out just this parcel, even a result still waiting for its owner (its code stops working)",
    )
    q.add_argument("--reason", default="", help="why (audited), e.g. 'wrong case deposited'")
    q.set_defaults(func=_collect)


def _actor(role: str) -> str:
    return f"{role}:{getpass.getuser()}"


class _BusOfRunningKiosk:
    """Stands for a lock bus the running kiosk owns: every request says so instead of touching the port."""

    def __init__(self, busy: KioskBusy) -> None:
        self._busy = busy

    def _refuse(self, *_a: object, **_k: object) -> NoReturn:
        raise LockBoardError(f"not read: {self._busy.message}", hint=self._busy.hint)

    open = door_state = board_state = scan = _refuse

    def close(self) -> None:
        pass


def _cabinet(app, *, platform: bool = False, read_only: bool = False, sync: bool = False) -> Cabinet:
    """The cabinet core for one command. ``read_only``: passive (no reconciliation; ``sync`` brings the
    compartments in line with the config first, for the commands that write a compartment's row)."""
    cfg = app.cfg
    try:
        buses = app.buses
    except KioskBusy as busy:
        if not read_only:
            raise
        # Database only: no reconciliation, which would judge the running kiosk's open doors unreadable.
        print(f"note: {busy.message}; door and item sensors not read", file=sys.stderr)
        return Cabinet(
            app.db,
            {c.id: _BusOfRunningKiosk(busy) for c in cfg.cabinets},
            cfg.cabinets,
            cfg.pickup,
            app.clock,
            app.secret,
            cfg.kiosk.id,
        )
    cab = Cabinet(
        app.db,
        buses,
        cfg.cabinets,
        cfg.pickup,
        app.clock,
        app.secret,
        cfg.kiosk.id,
        platform=app.platform if platform else None,
    )
    if read_only:
        if sync:  # config only (labels, boards): flows, parcels and doors are left as they are
            cab.sync()
        # Reading never changes state: no sync, no reconciliation (which would turn a door another command left
        # open into a stuck parcel). The doors are read as they are; the kiosk's own start settles flows.
        return cab
    report = cab.start()
    for line in report.lines:
        print(f"start-up: {line}")
    return cab


def _sim_person(app, kind: str) -> Callable[[FlowHandle], None]:
    """On a simulated bus, act for the person at the cabinet; on real hardware, ask them to."""

    def on_open(h: FlowHandle) -> None:
        sim = app.sims.boards.get(h.cabinet_id)
        comp = next(
            c
            for cab in app.cfg.cabinets
            if cab.id == h.cabinet_id
            for c in cab.compartments
            if c.label == h.label
        )
        verb = "put the item in" if kind in ("deposit", "dropoff") else "take the item out"
        if sim is None:
            print(f"Door {h.label} is open: {verb} and close it.", flush=True)
            return
        print(
            f"Door {h.label} is open. SIMULATED: the simulator will {verb} and close it in {SIM_CLOSE_AFTER_S:g} s.",
            flush=True,
        )

        def person() -> None:
            (sim.put_item if kind in ("deposit", "dropoff") else sim.take_item)(comp.board, comp.channel)
            sim.close_door(comp.board, comp.channel)

        threading.Timer(SIM_CLOSE_AFTER_S, person).start()

    return on_open


def _person(id_number: str, name: str) -> Identity:
    try:
        return Identity(id_number=validate_id_number(id_number), name=name, card_kind="other")
    except ValueError as err:
        raise ValidationError(f"--id-number: {err}", field="id_number") from None


def _status(args: argparse.Namespace) -> int:
    with app_of(args) as app:
        rows = _cabinet(app, read_only=True).status()
    door = {True: "closed", False: "OPEN", None: "?"}
    item = {True: "item", False: "empty", None: "-"}
    # Several cabinets: each row names its cabinet, since two of them may both have an A01.
    cab_w = (
        max((len(c.cabinet_id) for c in rows), default=0) + 1 if len({c.cabinet_id for c in rows}) > 1 else 0
    )
    print(
        f"{'CABINET' if cab_w else '':{cab_w}}{'LABEL':6} {'SIZE':4} {'STATE':9} {'DOOR':6} {'ITEM':5} PARCEL"
    )
    for c in rows:
        p = c.parcel
        what = (
            f"#{p.id} {p.kind} {p.state}{' OVERDUE' if p.overdue else ''} {p.owner_id_masked or ''}"
            if p
            else ""
        )
        extra = f" ({c.fault_reason})" if c.fault_reason else ""
        extra += f" [bus: {c.bus_error}]" if c.bus_error else ""
        print(
            f"{c.cabinet_id if cab_w else '':{cab_w}}{c.label:6} {c.size:4} {c.state:9} "
            f"{door[c.door_closed]:6} {item[c.item_present]:5} {what}{extra}"
        )
    return 0


def _open(args: argparse.Namespace) -> int:
    if args.all_board is not None:
        return _open_all(args)
    if not args.label:
        raise ValidationError("give a compartment LABEL, or --all BOARD", field="label")
    with app_of(args) as app:
        r = _cabinet(app).technician_open(args.label, actor=_actor("technician"))
        print(f"door {r.label} opened (audited)")
    return 0


def _open_all(args: argparse.Namespace) -> int:
    board = args.all_board
    if not args.yes:
        if not sys.stdin.isatty():
            raise ValidationError("--all opens every door of the board: confirm with --yes", field="yes")
        if input(f"Open EVERY door of board {board}? Type YES to confirm: ").strip() != "YES":
            print("nothing opened")
            return 1
    with app_of(args) as app:
        cab = _cabinet(app)
        results = cab.technician_open_all(board, actor=_actor("technician"), cabinet_id=args.cabinet)
        for r in results:
            print(f"{r.label}: {r.outcome}")
        cab_id = args.cabinet or app.cfg.cabinets[0].id
        sim = app.sims.boards.get(cab_id)  # filled when _cabinet(app) opened the buses
        if sim is not None:  # the simulator plays the technician: shuts every door after a moment
            print(f"SIMULATED: the simulator will shut the doors in {SIM_CLOSE_AFTER_S:g} s.", flush=True)
            comps = [
                c for cc in app.cfg.cabinets if cc.id == cab_id for c in cc.compartments if c.board == board
            ]
            threading.Timer(
                SIM_CLOSE_AFTER_S, lambda: [sim.close_door(c.board, c.channel) for c in comps]
            ).start()
        else:
            print(
                "Shut every door when done; the item sensors are then compared with the records.", flush=True
            )
        still = cab.wait_board_shut(board, cabinet_id=args.cabinet)
        if still:
            print(
                f"still open: {', '.join(still)}; sensors not compared (run it again once they are shut)",
                file=sys.stderr,
            )
            return 1
        findings = cab.check_after_open_all(board, cabinet_id=args.cabinet)
    print(
        "every door shut; item sensors agree with the records"
        if not findings
        else "\n".join(f"staff task: {f}" for f in findings)
    )
    return 0


def _disable(args: argparse.Namespace) -> int:
    with app_of(args) as app:
        _cabinet(app, read_only=True, sync=True).disable(
            args.label, actor=_actor("staff"), reason=args.reason
        )
        print(f"{args.label.upper()} disabled")
    return 0


def _enable(args: argparse.Namespace) -> int:
    with app_of(args) as app:
        state = _cabinet(app, read_only=True, sync=True).enable(args.label, actor=_actor("staff"))
        print(f"{args.label.upper()} enabled: {state}")
    return 0


def _tasks(args: argparse.Namespace) -> int:
    with app_of(args) as app:
        tasks = _cabinet(app, read_only=True).tasks(open_only=not args.all)
    if not tasks:
        print("no open staff tasks" if not args.all else "no staff tasks")
    for t in tasks:
        done = f" [resolved by {t.resolved_by}]" if t.resolved_at else ""
        print(f"#{t.id} {t.created_at:%Y-%m-%d %H:%M} {t.kind} {t.label or ''}: {t.detail}{done}")
    return 0


def _resolve(args: argparse.Namespace) -> int:
    with app_of(args) as app:
        _cabinet(app, read_only=True).resolve_task(args.task_id, actor=_actor("staff"), note=args.note)
        print(f"task {args.task_id} resolved")
    return 0


def _handover(args: argparse.Namespace) -> int:
    with app_of(args) as app:  # database only: works while the kiosk runs
        v = _cabinet(app, read_only=True).handover(args.parcel_id, actor=_actor("staff"), note=args.note)
        print(f"parcel {v.id} handed over at the desk: {v.state} (reported to the platform)")
        send_before_exit(app)
    return 0


def _putback(args: argparse.Namespace) -> int:
    with app_of(args) as app:
        v = _cabinet(app, read_only=True).putback(args.parcel_id, actor=_actor("staff"), note=args.note)
    print(f"parcel {v.id} put back in {v.label}: {v.state} (its code and card work again)")
    return 0


def _overdue(args: argparse.Namespace) -> int:
    with app_of(args) as app:
        rows = _cabinet(app, read_only=True).overdue()
    if not rows:
        print("nothing overdue")
    for p in rows:
        expired = local(app.clock, p.expires_at)
        print(
            f"#{p.id} {p.label} case {p.case_number} {p.owner_name_masked or ''} expired {expired:%Y-%m-%d %H:%M}"
        )
    return 0


def _print(r: FlowResult) -> None:
    line = f"{r.outcome}: {r.label}"
    if r.parcel_id:
        line += f", parcel {r.parcel_id}"
    if r.task_id:
        line += f", staff task {r.task_id}"
    print(line)


def _deposit(args: argparse.Namespace) -> int:
    with app_of(args) as app:
        applicant = _person(args.id_number, args.name) if args.id_number else None
        cab = _cabinet(app, platform=applicant is None)
        h = cab.start_deposit(args.case_number, actor=_actor("staff"), size=args.size, applicant=applicant)
        _sim_person(app, "deposit")(h)
        r = cab.wait_closed(h)
        _print(r)
        send_before_exit(app)  # the DEPOSITED report and the pickup SMS
    if r.code is None:  # shut empty (cancelled) or handed to staff: nothing to hand over
        return 0 if r.outcome == "cancelled_empty" else 1
    # Shown this once for staff to hand over or print; the applicant also gets it by SMS. Never logged.
    print(f"pickup code: {r.code}  (expires {local(app.clock, r.expires_at):%Y-%m-%d %H:%M})")
    return 0


def _pickup(args: argparse.Namespace) -> int:
    with app_of(args) as app:
        cab = _cabinet(app)
        h = cab.start_pickup_by_code(args.code, actor="citizen")
        _sim_person(app, "pickup")(h)
        r = cab.wait_closed(h)
        _print(r)
        send_before_exit(app)
    return 0 if r.outcome == "picked_up" else 1


def _dropoff(args: argparse.Namespace) -> int:
    with app_of(args) as app:
        cab = _cabinet(app)
        h = cab.start_dropoff(
            _person(args.id_number, args.name),
            case_number=args.case_number,
            matter_code=args.matter_code,
            size=args.size,
        )
        _sim_person(app, "dropoff")(h)
        r = cab.wait_closed(h)
    _print(r)
    print(f"drop-off receipt: {r.receipt_number}")
    return 0


def _collect(args: argparse.Namespace) -> int:
    if args.parcel_id is not None:
        with app_of(args) as app:
            r = _cabinet(app).collect(
                args.parcel_id, actor=_actor("staff"), reason=args.reason, on_open=_sim_person(app, "collect")
            )
            _print(r)
            send_before_exit(app)
        if r.outcome == "item_still_inside":
            print(
                "the item sensor still reads the parcel inside: nothing was changed; take it out and run this again"
            )
        return 0 if r.outcome in ("returned", "collected") else 1
    with app_of(args) as app:
        results = _cabinet(app).run_collect(actor=_actor("staff"), on_open=_sim_person(app, "collect"))
        send_before_exit(app)
    if not results:
        print("nothing to collect")
    failed = 0
    for r in results:
        if isinstance(r, KioskError):
            failed += 1
            print(f"error: {r.message}")
        else:
            failed += r.outcome not in ("returned", "collected")
            _print(r)
    return 1 if failed else 0


def _clear_lockout(args: argparse.Namespace) -> int:
    with app_of(args) as app:
        c = _cabinet(app, read_only=True).clear_lockout(actor=_actor("staff"))
    was = f"a wait with {c.retry_after_s} s still to run" if c.retry_after_s else "no wait was on"
    print(
        f"pickup code wait lifted: {was}; {c.wrong_codes} recent wrong code(s) no longer grow the next (audited)"
    )
    if c.still_waits_s:
        print(
            f"codes still wait {c.still_waits_s} s: the hall's daily budget of wrong codes "
            "(pickup.wrong_codes_per_day) is spent; ID cards work"
        )
        return 1
    return 0
