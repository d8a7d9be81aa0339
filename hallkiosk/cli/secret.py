"""``kiosk secret show``: the hall secret this kiosk uses and whether it is the database's (kiosk.hall_secret)."""

from __future__ import annotations

import argparse

from hallkiosk.cli.common import app_of


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("secret", help="the hall secret (ID hashes, code HMACs, sealed payloads)")
    s = p.add_subparsers(dest="secret_cmd", required=True)
    s.add_parser("show", help="its file and fingerprint (never the key), and the database's").set_defaults(
        func=_show)


def _show(args: argparse.Namespace) -> int:
    from kiosk.hall_secret import fingerprint, recorded

    with app_of(args) as app:
        secret = app.secret  # refuses, with what to copy where, when it is not the database's (or records it)
        rec = recorded(app.db)
        print(f"file:        {app.cfg.secret_path}")
        print(f"fingerprint: {fingerprint(secret)}")
        if rec is not None:
            print(f"database:    {rec['fingerprint']} (recorded by kiosk {rec['kiosk_id']}): same secret")
    return 0
