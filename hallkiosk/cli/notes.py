"""``kiosk notes list|show|delete|purge``: staff's typed reasons and notes, kept out of the audit (kiosk.notes)."""

from __future__ import annotations

import argparse

from hallkiosk.cli.common import app_of


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("notes", help="staff's typed reasons and notes (kept out of the audit; deletable)")
    s = p.add_subparsers(dest="notes_cmd", required=True)
    ls = s.add_parser("list", help="the newest notes kept")
    ls.add_argument("-n", type=int, default=50, choices=range(1, 1001), metavar="N", help="how many (1-1000)")
    ls.set_defaults(func=_list)
    sh = s.add_parser("show", help="one note's text ('note deleted' once it is gone)")
    sh.add_argument("note_id", type=int)
    sh.set_defaults(func=_show)
    d = s.add_parser("delete", help="delete one note for good (audited by its id, never its text)")
    d.add_argument("note_id", type=int)
    d.add_argument("--actor", default="staff", help="who deletes it, for the audit log (an id, not a name)")
    d.set_defaults(func=_delete)
    g = s.add_parser("purge", help="delete notes older than storage.notes_retention_days (audited)")
    g.set_defaults(func=_purge)


def _list(args: argparse.Namespace) -> int:
    from kiosk import notes

    with app_of(args) as app, app.db.transaction() as s:
        for n in notes.listing(s, args.n):
            print(
                f"#{n.id} {n.created_at:%Y-%m-%d %H:%M} {n.staff_id} {n.subject_kind} {n.subject_id}: {n.text}"
            )
    return 0


def _show(args: argparse.Namespace) -> int:
    from kiosk import notes

    with app_of(args) as app, app.db.transaction() as s:
        print(notes.read(s, args.note_id))
    return 0


def _delete(args: argparse.Namespace) -> int:
    from kiosk import notes

    with app_of(args) as app, app.db.transaction() as s:
        notes.remove(s, app.clock.now(), args.note_id, actor=args.actor)
    print(f"note {args.note_id} deleted (audited)")
    return 0


def _purge(args: argparse.Namespace) -> int:
    from kiosk import notes

    with app_of(args) as app:
        days = app.cfg.storage.notes_retention_days
        with app.db.transaction() as s:
            n = notes.purge(s, app.clock.now(), days, actor="technician")
    print(f"{n} note(s) older than {days} days deleted")
    return 0
