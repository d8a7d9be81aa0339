"""``kiosk catalog search``, ``kiosk case show``, ``kiosk ticket show``, ``kiosk notices remind``: the 1.1 services
as staff use them at the desk (and the catalog listing ``kiosk catalog show`` prints)."""

from __future__ import annotations

import argparse
import json

from hallkiosk.cli.common import app_of, whole
from kiosk.catalog import CatalogService
from kiosk.errors import KioskError
from kiosk.platform_models import Catalog


class ServicesCommandError(KioskError):
    """A staff command on the 1.1 services cannot be carried out as asked."""

    exit_code = 2


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("case", help="one case's details from the platform (status, reason, next step, where)")
    s = p.add_subparsers(dest="case_cmd", required=True)
    sh = s.add_parser("show", help="a case by its number")
    sh.add_argument("number")
    sh.add_argument("--json", action="store_true")
    sh.set_defaults(func=_case_show)

    p = sub.add_parser("ticket", help="a 12345 ticket's status and reply")
    s = p.add_subparsers(dest="ticket_cmd", required=True)
    sh = s.add_parser("show", help="a ticket by its number (anonymous ones too)")
    sh.add_argument("number")
    sh.add_argument("--json", action="store_true")
    sh.set_defaults(func=_ticket_show)

    p = sub.add_parser("notices", help="pickup reminders")
    s = p.add_subparsers(dest="notices_cmd", required=True)
    s.add_parser(
        "remind", help="queue the PICKUP_REMINDER due for this kiosk's cabinets (two days before expiry)"
    ).set_defaults(func=_remind)


def register_catalog(s: argparse._SubParsersAction) -> None:
    """``kiosk catalog search`` beside ``kiosk catalog show``."""
    se = s.add_parser("search", help="search the cached catalog as the kiosk's search box does")
    se.add_argument("query")
    se.add_argument("-n", type=whole(1, 1000), default=10)
    se.set_defaults(func=_catalog_search)


def print_catalog(cat: Catalog, *, guides: bool = False) -> None:
    from kiosk.guides import guide_of

    print(
        f"catalog version {cat.version}: {len(cat.matters)} matter(s), {len(cat.bundles)} bundle(s) (一件事)"
    )
    for b in cat.bundles:
        print(
            f"  {b.code:<20} 一件事 {b.name} / {b.name_en or ''}  [{' + '.join(b.member_codes)}; "
            f"{', '.join(b.delivery_modes)}]"
        )
        for f in b.shared_fields:
            print(f"      {f.key:<12} {f.type:<7} shared    {f.label}")
    for m in cat.matters:
        fee = m.fee_note or ("免费" if m.fee == 0 else f"fee {m.fee}")
        days = "instant (秒批)" if m.instant else f"{m.promised_days} working d"
        print(
            f"  {m.code:<20} {m.name} / {m.name_en or ''}  [{m.department}; {days}; {fee}; "
            f"{', '.join(m.delivery_modes)}]"
        )
        e = m.eligibility
        if e is not None:
            parts = [f"age >= {e.min_age_years}"] if e.min_age_years is not None else []
            parts += [f"age <= {e.max_age_years}"] if e.max_age_years is not None else []
            parts += [f"id {'/'.join(e.id_types)}"] if e.id_types else []
            print(f"      eligibility: {', '.join(parts)}")
        for f in m.fields:
            extra = [f"max {f.max_length}"] if f.max_length else []
            extra += [f"pattern {f.pattern}"] if f.pattern else []
            extra += [f"choices {'/'.join(f.choices)}"] if f.choices else []
            print(
                f"      {f.key:<12} {f.type:<7} {'required' if f.required else 'optional':<9} {f.label}"
                f"{' / ' + f.label_en if f.label_en else ''}  {'; '.join(extra)}"
            )
        if guides and m.guide is not None:
            g = guide_of(m)
            for c in g.conditions:
                print(f"      condition: {c}")
            for mat in g.materials:
                print(
                    f"      material:  {mat.name} {'原件' if mat.original else '复印件'} x{mat.copies}"
                    f"{'  (' + mat.note + ')' if mat.note else ''}"
                )


def _catalog_search(args: argparse.Namespace) -> int:
    from kiosk.matter_search import MatterIndex

    with app_of(args) as app:
        cat = CatalogService(app.db, None, app.clock).cached()
    if cat is None:
        print("no catalog cached yet; run `kiosk catalog show --refresh` with the platform reachable")
        return 1
    hits = MatterIndex.of(cat).search(args.query, limit=max(1, args.n))
    for h in hits:
        print(f"  {h.kind:<7} {h.code:<20} {h.name}  ({h.why})")
    print(f"{len(hits)} hit(s)")
    return 0 if hits else 1


def _case_show(args: argparse.Namespace) -> int:
    from kiosk.case_details import CaseService

    with app_of(args) as app:
        d = CaseService(app.db, app.platform, [c.id for c in app.cfg.cabinets]).one(
            args.number.strip().upper()
        )
    c = d.case
    row = {
        "case_number": c.case_number,
        "matter": f"{c.matter_code} {c.matter_name}",
        "status": c.status,
        "updated_at": c.updated_at.isoformat(),
        "reason": c.reason,
        "next_step": c.next_step,
        "delivery_mode": c.delivery_mode,
        "courier": c.courier,
        "waybill_number": c.waybill_number,
        "where": d.where,
        "cabinet": d.cabinet_id,
        "compartment": d.compartment,
    }
    if args.json:
        print(json.dumps(row, ensure_ascii=False))
    else:
        for k, v in row.items():
            if v:
                print(f"{k + ':':<15} {v}")
    return 0


def _ticket_show(args: argparse.Namespace) -> int:
    from kiosk.tickets import TicketService

    with app_of(args) as app:
        t = TicketService(app.db, app.secret, app.clock, None, app.platform).one(args.number)
    row = {
        "ticket_number": t.ticket_number,
        "kind": t.kind,
        "status": t.status,
        "submitted_at": t.submitted_at.isoformat(),
        "department": t.department,
        "reply": t.reply,
        "replied_at": t.replied_at.isoformat() if t.replied_at else None,
        "content": t.content,
    }
    if args.json:
        print(json.dumps(row, ensure_ascii=False))
    else:
        for k, v in row.items():
            if v:
                print(f"{k + ':':<14} {v}")
    return 0


def _remind(args: argparse.Namespace) -> int:
    from kiosk.pickup_notices import PickupNotices

    with app_of(args) as app:
        ids = PickupNotices(
            app.db,
            app.secret,
            app.clock,
            app.cfg.pickup,
            [c.id for c in app.cfg.cabinets],
            v11=app.cfg.platform.interface_version == "1.1",
        ).queue_due_reminders()
    print(
        f"{len(ids)} reminder(s) queued"
        + (f" for parcel(s) {', '.join(map(str, ids))}" if ids else "")
        + ("; the running kiosk's outbox sends them" if ids else "")
    )
    return 0
