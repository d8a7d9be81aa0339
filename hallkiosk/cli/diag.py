"""``kiosk diag [--json] [--only AREA]``, ``kiosk diag door|walk|card``, ``kiosk support-bundle OUT.tar.gz``.

Exit codes: 0 every check OK, 1 any DEGRADED, 2 any FAULT (3 when an active test was not confirmed).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from hallkiosk.cli.common import app_of, seconds, whole
from kiosk.cabinet.labels import ref as door_name  # CABINET:LABEL: two cabinets may share a label
from kiosk.diag_model import AREAS, EXIT_CODES, Report, worst

_MARK = {"OK": "OK      ", "DEGRADED": "DEGRADED", "FAULT": "FAULT   "}


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "diag",
        help="technician diagnostics (exit 0 OK, 1 DEGRADED, 2 FAULT)",
        description="Run every check, or one area's; active door and card tests as sub-commands.",
    )
    p.add_argument("--json", action="store_true", help="the report as JSON (schema: docs/diag-json.md)")
    p.add_argument(
        "--only", action="append", metavar="AREA", help=f"only these areas ({'|'.join(AREAS)}); repeatable"
    )
    p.add_argument(
        "--scan",
        choices=("auto", "full", "off"),
        default="auto",
        help="look for unexpected boards on each bus (full: even when slow)",
    )
    p.set_defaults(func=_diag)
    s = p.add_subparsers(dest="diag_cmd", metavar="TEST")

    d = s.add_parser("door", help="open one door, wait for it to close, report timings and sensor changes")
    d.add_argument("label")
    _active_args(d, timeout=None)
    d.set_defaults(func=_door)

    w = s.add_parser("walk", help="test every door in turn")
    w.add_argument("--include-occupied", action="store_true", help="also open compartments holding a parcel")
    _active_args(w, timeout=60.0)
    w.set_defaults(func=_walk)

    c = s.add_parser("card", help="read one card and show timings (data masked)")
    c.add_argument("--reader", metavar="NAME", help="only this reader (default: any configured)")
    c.add_argument(
        "--timeout", type=seconds(3600), default=30.0, help="seconds to wait for a card (default 30)"
    )
    c.add_argument("--yes", action="store_true", help="do not ask for confirmation on real hardware")
    c.add_argument("--json", action="store_true")
    c.add_argument(
        "--sim-insert",
        type=seconds(3600),
        metavar="S",
        default=None,
        help="simulated GA 467 only: put the demo card on after S seconds",
    )
    c.set_defaults(func=_card)

    b = sub.add_parser(
        "support-bundle", help="write a redacted tar.gz for support (config, diag, logs, audit)"
    )
    b.add_argument("out", metavar="OUT.tar.gz")
    b.add_argument("--log-lines", type=whole(0, 1_000_000), default=2000)
    b.add_argument("--audit-records", type=whole(0, 1_000_000), default=500)
    b.set_defaults(func=_bundle)


def _active_args(p: argparse.ArgumentParser, *, timeout: float | None) -> None:
    default = f" (default {timeout:g})" if timeout else " (default: the cabinet's close_timeout_s)"
    p.add_argument(
        "--timeout",
        type=seconds(3600),
        default=timeout,
        help=f"seconds to wait for each door to close{default}",
    )
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation on a real cabinet")
    p.add_argument("--json", action="store_true")
    p.add_argument(
        "--sim-close",
        type=seconds(3600),
        metavar="S",
        default=None,
        help="simulated bus only: the simulator closes each door after S seconds",
    )


def render(report: Report) -> str:
    """The report as the technician reads it: one line per check, the hint under each problem."""
    lines = [
        f"kiosk {report.kiosk_id} — Hall Kiosk {report.software_version} — diagnostics "
        f"({report.duration_ms / 1000:.2f} s)"
    ]
    if report.simulated:
        lines.append(f"SIMULATED HARDWARE: {', '.join(report.simulated)}")
    for area, checks in report.by_area().items():
        lines.append(f"\n{area.upper()}")
        for c in checks:
            lines.append(f"  {_MARK[c.status]}  {c.title}: {c.finding}")
            if c.status != "OK" and c.hint:
                lines.append(f"            hint: {c.hint}")
    n = report.counts()
    lines.append(f"\nresult: {report.status} ({n['OK']} OK, {n['DEGRADED']} degraded, {n['FAULT']} fault)")
    return "\n".join(lines)


def _diag(args: argparse.Namespace) -> int:
    from hallkiosk.diag import Options, parse_only, run_checks

    areas = parse_only(args.only)  # fail on a typo before opening anything
    with app_of(args) as app:
        report = run_checks(app, areas, Options(scan_bus=args.scan))
    print(report.to_json() if args.json else render(report))
    return report.exit_code


def _confirm(question: str, yes: bool) -> bool:
    if yes:
        return True
    if not sys.stdin.isatty():
        print(f"{question}\nnot confirmed: no terminal to ask on; pass --yes", file=sys.stderr)
        return False
    return input(f"{question} Type yes to go on: ").strip().lower() == "yes"


def _progress(args: argparse.Namespace) -> Any:
    return None if args.json else (lambda msg: print(msg, flush=True))


def _door(args: argparse.Namespace) -> int:
    from hallkiosk.diag.active import door_test, find_compartment, needs_confirmation

    with app_of(args) as app:
        cab, comp = find_compartment(app, args.label)
        ok = True
        if needs_confirmation(app, door_name(cab.id, comp.label)):  # A01 may be in two cabinets
            ok = _confirm(
                f"This UNLOCKS door {comp.label} of cabinet {cab.id} (a real cabinet); stand by it.", args.yes
            )
        if not ok:
            return 3
        res = door_test(
            app,
            door_name(cab.id, comp.label),
            confirmed=True,
            close_timeout_s=args.timeout,
            on_progress=_progress(args),
            sim_close_after_s=args.sim_close,
        )
    _show([res.to_dict()], args.json, lambda r: _door_line(r))
    return EXIT_CODES[res.status]


def _door_line(r: dict[str, Any]) -> str:
    out = f"{_MARK[r['status']]}  {r['finding']}"
    if r["status"] != "OK" and r["hint"]:
        out += f"\n            hint: {r['hint']}"
    return out


def _walk(args: argparse.Namespace) -> int:
    from hallkiosk.diag.active import needs_confirmation, walk_test

    with app_of(args) as app:
        n = sum(len(c.compartments) for c in app.cfg.cabinets)
        if needs_confirmation(app) and not _confirm(
            f"This UNLOCKS each of the {n} doors in turn on a real cabinet.", args.yes
        ):
            return 3
        results = walk_test(
            app,
            confirmed=True,
            close_timeout_s=args.timeout,
            include_occupied=args.include_occupied,
            on_progress=_progress(args),
            sim_close_after_s=args.sim_close,
            on_result=None if args.json else (lambda r: print(_door_line(r.to_dict()), flush=True)),
        )
    if args.json:
        _show([r.to_dict() for r in results], True, _door_line)
    else:
        tested = [r for r in results if not r.skipped]
        print(
            f"\nwalk: {len(tested)} door(s) tested, {len(results) - len(tested)} skipped; result "
            f"{worst(r.status for r in results)}"
        )
    return EXIT_CODES[worst(r.status for r in results)]


def _card(args: argparse.Namespace) -> int:
    from hallkiosk.diag.active import needs_confirmation
    from hallkiosk.diag.cardtest import card_test

    with app_of(args) as app:
        if needs_confirmation(app, card=True) and not _confirm(
            "This reads one card (shown masked) on a real reader.", args.yes
        ):
            return 3
        res = card_test(
            app,
            confirmed=True,
            reader=args.reader,
            timeout_s=args.timeout,
            on_progress=_progress(args),
            sim_insert_after_s=args.sim_insert,
        )
    d = res.to_dict()
    if args.json:
        print(json.dumps(d, ensure_ascii=False, indent=2))
    else:
        print(_door_line(d))
        for e in d["events"]:
            print(f"  {e['t_s']:7.3f} s  {e['kind']}")
    return EXIT_CODES[res.status]


def _show(rows: list[dict[str, Any]], as_json: bool, line: Any) -> None:
    if as_json:
        print(json.dumps(rows if len(rows) != 1 else rows[0], ensure_ascii=False, indent=2))
        return
    for r in rows:
        print(line(r))
        for t in r.get("transitions", []):
            item = {True: "item present", False: "empty", None: "no item sensor"}[t["item_present"]]
            door = {True: "closed", False: "open", None: "?"}[t["closed"]]
            print(f"  {t['t_s']:7.3f} s  door {door}, {item}")


def _bundle(args: argparse.Namespace) -> int:
    from hallkiosk.diag.bundle import write_support_bundle

    with app_of(args) as app:
        summary = write_support_bundle(
            app, args.out, log_lines=args.log_lines, audit_records=args.audit_records
        )
    print(
        f"wrote {summary.path} ({len(summary.members)} files; diagnostics {summary.status}); secrets removed, "
        "ID and phone numbers masked"
    )
    return 0
