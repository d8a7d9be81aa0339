"""``kiosk config check``, ``kiosk audit verify|tail`` (``kiosk db ...``: hallkiosk.cli.db)."""

from __future__ import annotations

import argparse
import json

from hallkiosk.cli.common import app_of, whole
from kiosk import audit
from kiosk.config import load_config
from kiosk.errors import AuditChainBroken
from kiosk.privacy import scrub, scrub_value


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("config", help="configuration")
    s = p.add_subparsers(dest="config_cmd", required=True)
    c = s.add_parser("check", help="validate a kiosk.toml and exit")
    c.add_argument("path", nargs="?", help="the file (default: --config, else the built-in one)")
    c.set_defaults(func=_config_check)

    p = sub.add_parser("audit", help="the audit log")
    s = p.add_subparsers(dest="audit_cmd", required=True)
    s.add_parser(
        "verify", help="check the hash chain; non-zero exit on the first broken record"
    ).set_defaults(func=_audit_verify)
    t = s.add_parser("tail", help="recent records, personal data masked")
    t.add_argument("-n", type=whole(1, 100_000), default=20)
    t.add_argument("--json", action="store_true")
    t.set_defaults(func=_audit_tail)


def _config_check(args: argparse.Namespace) -> int:
    path = args.path or args.config
    cfg = load_config(path)
    n = sum(len(c.compartments) for c in cfg.cabinets)
    print(
        f"ok: {cfg.source}: kiosk {cfg.kiosk.id}, {len(cfg.cabinets)} cabinet(s), {n} compartment(s), "
        f"{len(cfg.card_readers)} card reader(s), platform {cfg.platform.endpoint}"
    )
    return 0


def _audit_verify(args: argparse.Namespace) -> int:
    with app_of(args) as app, app.db.transaction() as s:
        res = audit.verify(s)
    if not res.ok:
        where = f"at record {res.broken_seq}" if res.broken_seq is not None else "at its head anchor"
        raise AuditChainBroken(f"audit chain broken {where}: {res.reason} ({res.checked} read)")
    note = (
        ""
        if res.anchored
        else (
            " (no head anchor yet: it is written with the next record; until then"
            " removal of the newest records would not show)"
        )
    )
    print(f"ok: {res.checked} audit records, chain intact{note}")
    return 0


def _audit_tail(args: argparse.Namespace) -> int:
    with app_of(args) as app, app.db.transaction() as s:
        rows = audit.tail(s, args.n)
    for r in rows:
        if r.error or r.at is None:  # at is None only on an unreadable record
            # Never the stored content: an altered record may hold anything, personal data included.
            if args.json:
                print(json.dumps({"seq": r.seq, "unreadable": r.error}, ensure_ascii=False))
            else:
                print(
                    f"{r.seq if r.seq is not None else '?':>6} UNREADABLE RECORD ({r.error}); "
                    "run `kiosk audit verify`"
                )
            continue
        rec = {
            "seq": r.seq,
            "at": r.at.isoformat(),
            "actor": scrub(r.actor),
            "action": r.action,
            "subject": scrub(r.subject),
            "detail": scrub_value(r.detail),
        }
        if args.json:
            print(json.dumps(rec, ensure_ascii=False))
        else:
            print(
                f"{r.seq:>6} {r.at:%Y-%m-%d %H:%M:%S} {rec['actor']:<16} {r.action:<24} {rec['subject']} "
                f"{json.dumps(rec['detail'], ensure_ascii=False) if r.detail else ''}"
            )
    return 0
