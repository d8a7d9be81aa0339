"""``kiosk outbox list|send|retry|purge|adopt``, ``kiosk catalog show``: what is waiting for the platform, and the
matter catalog."""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import time

from sqlalchemy import func, select

from hallkiosk.cli.common import ROW_ID, app_of, whole
from kiosk import outbox
from kiosk.catalog import CatalogService
from kiosk.config import load_config
from kiosk.errors import KioskError
from kiosk.heartbeat import auth_alarm, clear_auth_alarm
from kiosk.outbox_adopt import adopt, age_text
from kiosk.printable import printable
from kiosk.storage.models import OutboxMessage


class OutboxCommandError(KioskError):
    """A staff command on the outbox cannot be carried out as asked."""

    exit_code = 2


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("outbox", help="platform calls waiting to be delivered")
    s = p.add_subparsers(dest="outbox_cmd", required=True)
    ls = s.add_parser("list", help="pending and dead messages (never their personal data)")
    ls.add_argument("--all", action="store_true", help="include delivered messages")
    ls.add_argument("-n", type=whole(1, 100_000), default=200, help="at most this many rows (newest)")
    ls.add_argument("--json", action="store_true")
    ls.add_argument(
        "--all-kiosks",
        action="store_true",
        help="every kiosk's rows on this (shared) database, and each kiosk's waiting count and oldest age",
    )
    ls.set_defaults(func=_list)
    ad = s.add_parser(
        "adopt", help="send a retired kiosk's waiting messages under its own identity (audited)"
    )
    ad.add_argument(
        "kiosk_id", metavar="KIOSK-ID", help="the retired kiosk's id (see `kiosk outbox list --all-kiosks`)"
    )
    ad.add_argument(
        "--config-of",
        required=True,
        metavar="PATH",
        help="that kiosk's config file: its kiosk id, platform endpoint and credentials",
    )
    ad.add_argument("--actor", default="staff", help="who asks, for the audit log")
    ad.set_defaults(func=_adopt)
    sd = s.add_parser("send", help="send this kiosk's waiting messages now, headless (no touch UI needed)")
    sd.add_argument(
        "--wait",
        type=float,
        default=SEND_WAIT_S,
        metavar="S",
        help=f"give up after S seconds (default {SEND_WAIT_S:g})",
    )
    sd.set_defaults(func=_send)
    rt = s.add_parser(
        "retry", help="send a dead or pending message again now (audited); clears the auth alarm"
    )
    rt.add_argument(
        "id",
        type=ROW_ID,
        nargs="?",
        help="the message id from `kiosk outbox list`; none: only clear the alarm",
    )
    rt.add_argument("--actor", default="staff", help="who asks, for the audit log")
    rt.set_defaults(func=_retry)

    pg = s.add_parser("purge", help="scrub the personal data of dead messages older than N days (audited)")
    pg.add_argument("--older-than", type=whole(0, 36_500), default=30, metavar="DAYS")
    pg.add_argument("--actor", default="staff", help="who asks, for the audit log")
    pg.set_defaults(func=_purge)

    p = sub.add_parser("catalog", help="the platform's matter catalog")
    s = p.add_subparsers(dest="catalog_cmd", required=True)
    sh = s.add_parser("show", help="the cached catalog")
    sh.add_argument("--refresh", action="store_true", help="fetch it from the platform first")
    sh.add_argument("--json", action="store_true")
    sh.add_argument(
        "--guides", action="store_true", help="each matter's 办事指南 too (conditions, materials)"
    )
    sh.set_defaults(func=_catalog_show)
    from hallkiosk.cli.services import register_catalog

    register_catalog(s)


SEND_WAIT_S = 10.0  # how long a command waits for the platform before leaving its messages queued


@dataclasses.dataclass(frozen=True)
class Sent:
    sent: int
    dead: int
    left: int  # this kiosk's rows still pending (due later, or the platform did not take them)
    why: str | None  # why sending stopped early, if it did


def _waiting(app) -> int:
    with app.db.transaction() as s:
        return s.execute(
            select(func.count())
            .select_from(OutboxMessage)
            .where(
                outbox.of_kiosk(app.cfg.kiosk.id),
                OutboxMessage.state == outbox.PENDING,
                OutboxMessage.next_attempt_at <= app.clock.now(),
            )
        ).scalar_one()


def send_queued(app, wait_s: float = SEND_WAIT_S) -> Sent:
    """Send this kiosk's due messages with the production sender, for at most ``wait_s``; stop at once when the
    platform is down, refuses us, or nothing due is left (a row backing off is left for later)."""
    from kiosk.outbox_sender import OutboxSender

    sender = OutboxSender(
        app.db, app.platform, app.secret, app.clock, app.cfg.platform, origin=app.cfg.kiosk.id
    )
    deadline = time.monotonic() + wait_s
    sent = 0
    dead = 0
    why = None
    while _waiting(app):
        c = sender.run_once()
        sent += c.sent
        dead += c.dead
        if c.blocked:
            why = "the platform refused this kiosk's credentials (or the hall's auth alarm is up)"
            break
        if sender.paused_for_s() > 0:
            why = "the platform does not answer"
            break
        if time.monotonic() >= deadline or not c.attempted:
            why = why if c.attempted else "nothing could be sent"
            break
    with app.db.transaction() as s:
        left = s.execute(
            select(func.count())
            .select_from(OutboxMessage)
            .where(outbox.of_kiosk(app.cfg.kiosk.id), OutboxMessage.state == outbox.PENDING)
        ).scalar_one()
    return Sent(sent=sent, dead=dead, left=left, why=why)


def send_before_exit(app, wait_s: float = SEND_WAIT_S) -> None:
    """A command that queued platform messages (a report, an SMS) tries to send them before it exits; what is
    left is said plainly, with who will send it."""
    if not _waiting(app):
        return
    r = send_queued(app, wait_s)
    if r.sent or r.dead:
        print(
            f"platform: {r.sent} message(s) sent"
            + (f", {r.dead} refused (see `kiosk outbox list`)" if r.dead else "")
        )
    if r.left:
        print(
            f"platform: {r.left} message(s) still queued{f' ({r.why})' if r.why else ''}; the kiosk sends them "
            "when it runs, or run `kiosk outbox send`"
        )


def _send(args: argparse.Namespace) -> int:
    with app_of(args) as app:
        r = send_queued(app, args.wait)
    print(f"{r.sent} sent, {r.dead} dead, {r.left} still waiting" + (f": {r.why}" if r.why else ""))
    return 0 if not r.left else 1


def _purge(args: argparse.Namespace) -> int:
    if args.older_than < 1:
        raise OutboxCommandError("--older-than takes a whole number of days, at least 1")
    with app_of(args) as app, app.db.transaction() as s:
        ids = outbox.purge_dead(s, app.clock.now(), dt.timedelta(days=args.older_than), actor=args.actor)
    print(f"scrubbed {len(ids)} dead message(s)" + (f": {', '.join(map(str, ids))}" if ids else ""))
    return 0


def _list(args: argparse.Namespace) -> int:
    with app_of(args) as app, app.db.transaction() as s:
        rows = [
            outbox.describe(m)
            for m in outbox.list_messages(s, include_sent=args.all, limit=args.n, all_kiosks=args.all_kiosks)
        ]
        totals = outbox.counts(s, all_kiosks=args.all_kiosks)
        kiosks = outbox.backlog_by_kiosk(s) if args.all_kiosks else []
        alarm = auth_alarm(s)
        now, me = app.clock.now(), app.cfg.kiosk.id
    if args.json:
        out = {"kiosk": me, "messages": rows, "counts": totals, "auth_alarm": alarm}
        if args.all_kiosks:
            out["kiosks"] = [k.as_json(now) for k in kiosks]
        print(json.dumps(out, ensure_ascii=False))
        return 0
    if alarm:
        print(f"!! platform AUTH_FAILED alarm since {alarm['since']}: sending is stopped ({alarm['detail']})")
        print("   fix the credentials or the clock, then `kiosk outbox retry` to resume")
    for r in rows:
        when = r["next_attempt_at"] or r["sent_at"] or ""
        origin = f"{r['kiosk'] or '?':<12} " if args.all_kiosks else ""
        print(
            f"{r['id']:>6} {origin}{r['operation']:<18} {r['state']:<7} {r['attempts']:>4} {when:<32} "
            f"{r['ref'] or '-':<16} {r['last_error'] or ''}"
        )
    print(
        "counts: "
        + (", ".join(f"{k} {v}" for k, v in sorted(totals.items())) or "empty")
        + ("" if args.all_kiosks else f" (kiosk {me}; --all-kiosks for the whole hall)")
    )
    for k in kiosks:
        mark = " (this kiosk)" if k.kiosk == me else ""
        print(
            f"kiosk {k.kiosk or '(unknown: queued by an older release)'}{mark}: {k.pending} waiting, "
            f"oldest {age_text(k.oldest_age_s(now))}, {k.dead} dead"
        )
    return 0


def _adopt(args: argparse.Namespace) -> int:
    from backend_client import build_platform

    other = load_config(args.config_of)
    if other.kiosk.id != args.kiosk_id:
        raise OutboxCommandError(
            f"{printable(args.config_of)} is kiosk {other.kiosk.id}'s config, not {args.kiosk_id}'s",
            hint="Give --config-of the retired kiosk's own config file.",
        )
    with app_of(args) as app:
        platform = build_platform(
            other.platform, kiosk_id=other.kiosk.id, password=other.platform_password()
        ).part
        try:
            res = adopt(
                app.db, platform, app.secret, app.clock, other.platform, args.kiosk_id, actor=args.actor
            )
        finally:
            close = getattr(platform, "close", None)
            if close is not None:
                close()
    print(
        f"kiosk {res.kiosk}: {res.due} waiting message(s) taken over; {res.sent} sent, {res.dead} dead, "
        f"{res.left} still waiting"
    )
    if res.stopped:
        print(f"stopped early: {res.stopped}; run `kiosk outbox adopt {res.kiosk}` again once that is fixed")
        return 1
    return 0


def _retry(args: argparse.Namespace) -> int:
    with app_of(args) as app:
        now = app.clock.now()
        with app.db.transaction() as s:
            # A staff member asking for a retry has looked at the cause: sending may resume.
            cleared = clear_auth_alarm(s, now, actor=args.actor, reason="kiosk outbox retry")
            if args.id is not None:
                try:
                    msg = outbox.retry(s, now, args.id, actor=args.actor)
                except (LookupError, ValueError) as err:
                    raise OutboxCommandError(str(err), hint="See `kiosk outbox list --all`.") from None
                print(f"outbox {msg.id} ({msg.operation}) is pending again, due now")
        if cleared:
            print("platform auth alarm cleared: the outbox sends again")
        elif args.id is None:
            print("no auth alarm was raised; nothing to do")
    return 0


def _catalog_show(args: argparse.Namespace) -> int:
    with app_of(args) as app:
        svc = CatalogService(
            app.db,
            app.platform if args.refresh else None,
            app.clock,
            region_code=app.cfg.platform.region_code,
        )
        cat = svc.refresh() if args.refresh else svc.cached()
    if cat is None:
        print("no catalog cached yet; run `kiosk catalog show --refresh` with the platform reachable")
        return 1
    if args.json:
        from kiosk.catalog import catalog_to_json

        print(json.dumps(catalog_to_json(cat), ensure_ascii=False, indent=2))
        return 0
    from hallkiosk.cli.services import print_catalog

    print_catalog(cat, guides=args.guides)
    return 0
