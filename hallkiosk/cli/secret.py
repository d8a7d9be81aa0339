"""``kiosk secret show|rotate|retire``: the hall secret's keys, checked against the database (kiosk.hall_secret)."""

from __future__ import annotations

import argparse

from hallkiosk.cli.common import app_of


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("secret", help="the hall secret (ID hashes, code HMACs, sealed payloads)")
    s = p.add_subparsers(dest="secret_cmd", required=True)
    s.add_parser(
        "show", help="its files and key ids (never a key), and the rows still using each"
    ).set_defaults(func=_show)
    r = s.add_parser("rotate", help="a new key for everything new; sealed payloads re-sealed (audited)")
    r.add_argument("--actor", default="technician", help="who asks, for the audit log")
    r.set_defaults(func=_rotate)
    t = s.add_parser("retire", help="drop older keys no row uses any more (audited)")
    t.add_argument("--actor", default="technician", help="who asks, for the audit log")
    t.set_defaults(func=_retire)


def _show(args: argparse.Namespace) -> int:
    from kiosk.hall_secret import older_file, recorded, usage

    with app_of(args) as app:
        keys = app.secret  # refuses, with what to copy where, when it is not the database's (or records it)
        rec = recorded(app.db)
        path = app.cfg.secret_path
        print(f"file:        {path}")
        print(f"current key: {keys.key_id} (fingerprint {rec['fingerprint'] if rec else '?'})")
        if rec is not None:
            print(f"database:    recorded by kiosk {rec['kiosk_id']}: same secret")
            with app.db.transaction() as s:
                for kid in keys.active:
                    where = path if kid == keys.key_id else older_file(path, kid)
                    print(f"key {kid}: {usage(s, rec, kid)} row(s) use it; file {where}")
    return 0


def _rotate(args: argparse.Namespace) -> int:
    from kiosk.hall_secret import rotate

    with app_of(args) as app:
        res = rotate(app.cfg, app.db, app.secret, app.clock.now(), actor=args.actor)
        path = app.cfg.secret_path
    print(
        f"new key {res.new} in {path}; previous key {res.old} kept as {path.name}.{res.old} while rows use it"
    )
    print(f"re-sealed {res.resealed} waiting payload(s)")
    _print_retirement(res.retirement)
    print(f"copy {path} and {path.name}.{res.old} to every other kiosk of the hall, then restart them")
    return 0


def _retire(args: argparse.Namespace) -> int:
    from kiosk.hall_secret import retire

    with app_of(args) as app:
        _print_retirement(retire(app.cfg, app.db, app.secret, app.clock.now(), actor=args.actor))
    return 0


def _print_retirement(r: object) -> None:
    from kiosk.hall_secret import Retirement

    assert isinstance(r, Retirement)
    for kid in r.retired:
        print(f"retired key {kid}: no row uses it any more")
    for kid, n in r.kept.items():
        print(f"kept key {kid}: {n} row(s) still use it (hashes age out with their rows)")
    if r.waiting_for:
        print(
            "nothing retired while kiosks still run on the previous key: "
            + ", ".join(r.waiting_for)
            + " (restart them with the new secret files)"
        )
