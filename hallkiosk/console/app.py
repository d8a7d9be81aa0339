"""The console's web application (Starlette + Jinja2): pages, actions, the event stream.

Every handler names the permission it needs (:data:`hallkiosk.console.security.PERMISSIONS`) and goes through
the core's services: :class:`kiosk.staff.StaffDirectory`, :class:`kiosk.staff_sessions.SessionStore`,
:func:`kiosk.kiosk_status.kiosks`, :class:`kiosk.cabinet_hall.HallCabinets`, :mod:`kiosk.audit`. Database
work runs in Starlette's thread pool; the event loop only renders and streams.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from hallkiosk.console import i18n
from hallkiosk.console.jobs import VerifyJob
from hallkiosk.console.live import ChangeFeed, PerChange
from hallkiosk.console.security import PERMISSIONS, LoginThrottle, SecurityHeaders, allowed, same_token
from kiosk import audit, door_commands, kiosk_status, notes, outbox, sensor_readings
from kiosk.cabinet import labels
from kiosk.cabinet.results import NOT_ONE_COMPARTMENT
from kiosk.cabinet_hall import GRID_STATES, HallCabinets
from kiosk.clock import Clock
from kiosk.config import Config
from kiosk.errors import KioskError
from kiosk.privacy import scrub, scrub_value
from kiosk.staff import LoginRefused, StaffDirectory
from kiosk.staff_sessions import SessionStore, SignedIn
from kiosk.storage.db import Database

log = logging.getLogger(__name__)
HERE = Path(__file__).parent
NOTE_MAX = 500
SESSION_RECHECK_S = 30.0
CABINETS_AT_ONCE = 4
TASKS_PAGE = 50  # more cabinets than this: the grid page shows one at a time


@dataclass
class Console:
    """Everything one console process uses (built by :func:`hallkiosk.console.server.build`)."""

    cfg: Config
    db: Database
    clock: Clock
    directory: StaffDirectory
    sessions: SessionStore
    hall: HallCabinets
    feed: ChangeFeed
    verify: VerifyJob
    tls: bool = False
    throttle: LoginThrottle = field(default_factory=LoginThrottle)
    shared: PerChange = field(init=False)

    def __post_init__(self) -> None:
        self.shared = PerChange(self.db)

    def directory_audit(self, me: SignedIn, action: str, subject: str) -> None:
        """Audit a refused request (a role or CSRF refusal) under the member's staff id."""
        with self.db.transaction() as s:
            audit.append(s, self.clock.now(), f"staff:{me.staff_id}", action, subject[:128])

    @property
    def cookie(self) -> str:
        # __Host-: the browser accepts it only from a secure origin, for this host and path / alone.
        return "__Host-hk_session" if self.tls else "hk_session"

    @property
    def login_cookie(self) -> str:
        return "__Host-hk_login" if self.tls else "hk_login"


def create_app(c: Console) -> Starlette:
    templates = Jinja2Templates(directory=str(HERE / "templates"))  # autoescapes .html
    tz = c.cfg.kiosk.tz

    def fmt(t: dt.datetime | None) -> str:
        return t.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S") if t else "—"

    def age(seconds: float | None, lang: str) -> str:
        if seconds is None:
            return "—"
        s = int(seconds)
        if s < 120:
            return f"{s} 秒" if lang == "zh" else f"{s} s"
        if s < 7200:
            return f"{s // 60} 分钟" if lang == "zh" else f"{s // 60} min"
        return f"{s // 3600} 小时" if lang == "zh" else f"{s // 3600} h"

    def lang_of(request: Request) -> str:
        lang = request.cookies.get("hk_lang", "")
        return lang if lang in i18n.LANGS else c.cfg.kiosk.default_language

    def render(request: Request, name: str, me: SignedIn | None, status: int = 200, **ctx: Any) -> Response:
        lang = lang_of(request)
        base = {
            "lang": lang,
            "t": lambda key, **p: i18n.t(key, lang, **p),
            "me": me,
            "csrf": me.csrf_token if me else "",
            "can": (lambda perm: me is not None and allowed(me.roles, perm)),
            "fmt": fmt,
            "kind": lambda k: i18n.kind(k, lang),
            "pstate": lambda p: i18n.parcel_state(p.kind, p.state, lang),
            "age": lambda s: age(s, lang),
            "path": request.url.path,
            "hall": c.cfg.kiosk.hall if lang == "zh" else (c.cfg.kiosk.hall_en or c.cfg.kiosk.hall),
        }
        return templates.TemplateResponse(request, name, {**base, **ctx}, status_code=status)

    async def who(request: Request) -> SignedIn | None:
        return await run_in_threadpool(c.sessions.lookup, request.cookies.get(c.cookie))

    def to_login(request: Request) -> Response:
        if request.query_params.get("fragment"):
            return Response(status_code=401)  # the page's script reloads into the sign-in page
        nxt = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse("/login?" + urlencode({"next": nxt, "expired": "1"}), 303)

    Handler = Callable[[Request, SignedIn], Awaitable[Response]]

    def page(perm: str) -> Callable[[Handler], Callable[[Request], Awaitable[Response]]]:
        assert perm in PERMISSIONS

        def deco(fn: Handler) -> Callable[[Request], Awaitable[Response]]:
            async def endpoint(request: Request) -> Response:
                me = await who(request)
                if me is None:
                    return to_login(request)
                if not allowed(me.roles, perm):
                    return render(request, "problem.html", me, 403, message="err.forbidden")
                return await fn(request, me)

            return endpoint

        return deco

    def action(perm: str) -> Callable[[Handler], Callable[[Request], Awaitable[Response]]]:
        """A change: signed in, same origin, the session's CSRF token, the role; refusals audited."""
        assert perm in PERMISSIONS

        def deco(fn: Handler) -> Callable[[Request], Awaitable[Response]]:
            async def endpoint(request: Request) -> Response:
                me = await who(request)
                if me is None:
                    return to_login(request)
                form = await request.form()
                token = form.get("csrf") or request.headers.get("x-csrf-token")
                if not same_origin(request) or not same_token(str(token or ""), me.csrf_token):
                    await run_in_threadpool(c.directory_audit, me, "console.csrf_refused", request.url.path)
                    return render(request, "problem.html", me, 403, message="err.csrf")
                if not allowed(me.roles, perm):
                    await run_in_threadpool(c.directory_audit, me, "console.refused", request.url.path)
                    return render(request, "problem.html", me, 403, message="err.forbidden")
                request.state.form = form
                return await fn(request, me)

            return endpoint

        return deco

    # --- sign-in ------------------------------------------------------------------------------------
    async def login(request: Request) -> Response:
        if request.method == "GET":
            if await who(request) is not None:
                return RedirectResponse("/", 303)
            return login_form(request, "login.expired" if request.query_params.get("expired") else "")
        form = await request.form()
        if not same_origin(request) or not same_token(
            str(form.get("csrf", "")), request.cookies.get(c.login_cookie)
        ):
            return login_form(request, "login.csrf", 403)
        client = request.client.host if request.client else "?"
        if not c.throttle.allow(client):
            return login_form(request, "login.throttled", 429)
        staff_id, password = str(form.get("staff_id", "")).strip()[:64], str(form.get("password", ""))
        try:
            member = await run_in_threadpool(
                c.directory.authenticate, staff_id, password, source=f"console {client}"
            )
        except LoginRefused as err:
            if err.reason == "locked":
                minutes = max(1, round((err.retry_after_s or 60) / 60))
                return login_form(request, "login.locked", 429, minutes=minutes)
            return login_form(request, "login.failed", 401)
        token, _ = await run_in_threadpool(c.sessions.create, member.staff_id)
        nxt = str(form.get("next", "/"))
        if not nxt.startswith("/") or nxt.startswith("//") or "\\" in nxt:
            nxt = "/"
        resp = RedirectResponse(nxt, 303)
        resp.set_cookie(c.cookie, token, httponly=True, secure=True, samesite="strict", path="/")
        resp.delete_cookie(c.login_cookie, path="/", secure=True, httponly=True, samesite="strict")
        return resp

    def login_form(request: Request, message: str, status: int = 200, **params: Any) -> Response:
        token = request.cookies.get(c.login_cookie) or secrets.token_urlsafe(24)
        resp = render(
            request,
            "login.html",
            None,
            status,
            message=message,
            params=params,
            login_csrf=token,
            next=request.query_params.get("next", "/"),
        )
        resp.set_cookie(c.login_cookie, token, httponly=True, secure=True, samesite="strict", path="/")
        return resp

    async def logout(request: Request) -> Response:
        me = await who(request)
        form = await request.form()
        if me is not None and same_origin(request) and same_token(str(form.get("csrf", "")), me.csrf_token):
            await run_in_threadpool(
                c.sessions.end, request.cookies.get(c.cookie), actor=f"staff:{me.staff_id}"
            )
        resp = RedirectResponse("/login", 303)
        resp.delete_cookie(c.cookie, path="/", secure=True, httponly=True, samesite="strict")
        return resp

    async def set_lang(request: Request) -> Response:
        lang = request.path_params["lang"]
        back = request.query_params.get("back", "/")
        if not back.startswith("/") or back.startswith("//"):
            back = "/"
        resp = RedirectResponse(back, 303)
        if lang in i18n.LANGS:
            resp.set_cookie(
                "hk_lang", lang, max_age=365 * 86400, httponly=True, secure=True, samesite="lax", path="/"
            )
        return resp

    async def home(request: Request) -> Response:
        return RedirectResponse("/kiosks", 303)

    # --- pages --------------------------------------------------------------------------------------
    def fragment_or_page(request: Request, me: SignedIn, name: str, **ctx: Any) -> Response:
        if request.query_params.get("fragment"):
            return render(request, f"_{name}", me, **ctx)
        return render(request, name, me, **ctx)

    @page("kiosks.view")
    async def kiosks_page(request: Request, me: SignedIn) -> Response:
        rows = await run_in_threadpool(kiosk_status.kiosks, c.db)
        return fragment_or_page(request, me, "kiosks.html", rows=rows)

    @page("cabinets.view")
    async def cabinets_page(request: Request, me: SignedIn) -> Response:
        grids = await run_in_threadpool(c.shared.get, "grids", c.hall.grids)

        def readings() -> dict[str, sensor_readings.Reading]:
            with c.db.transaction() as s:
                return sensor_readings.latest(s)

        sensors = await run_in_threadpool(readings)
        # A hall of many cabinets (thousands of doors) shows one cabinet's grid at a time, each cabinet's
        # counts above it: a tablet cannot show 2,000 doors usefully, and the page stays small and quick.
        chosen = request.query_params.get("cabinet", "")[:32]
        shown = grids
        if len(grids) > CABINETS_AT_ONCE and chosen != "all":
            shown = [g for g in grids if g.cabinet_id == chosen] or grids[:1]
        picked = "all" if shown is grids else shown[0].cabinet_id if shown else ""
        return fragment_or_page(
            request,
            me,
            "cabinets.html",
            grids=shown,
            every=grids,
            states=GRID_STATES,
            picked=picked,
            tabs=len(grids) > CABINETS_AT_ONCE,
            sensors=sensors,
            src="/cabinets?" + urlencode({"fragment": "1", "cabinet": picked}),
        )

    @page("cabinets.view")
    async def compartment_page(request: Request, me: SignedIn) -> Response:
        label = request.path_params["label"].upper()[: labels.NAME_MAX]
        cell, parcels = await run_in_threadpool(c.hall.history, label)
        if cell is None:
            return render(request, "problem.html", me, 404, message="err.not_found")

        def events() -> tuple[list[audit.AuditEntry], dict[int, str]]:
            with c.db.transaction() as s:
                found = audit.search(s, subject_is=cell.label, limit=100)  # audited under the bare label
                # A record names a staff note by id (kiosk.notes): the page shows its words, or "note deleted".
                said = notes.texts(s, [r.detail.get("note") for r in found if isinstance(r.detail, dict)])
                return found, said

        found, said = await run_in_threadpool(events)

        rows = [
            {
                "seq": r.seq,
                "at": fmt(r.at),
                "actor": scrub(r.actor),
                "action": r.action,
                "subject": scrub(r.subject),
                "error": r.error,
                "detail": "" if r.error else _detail_text(scrub_value(_with_note(r.detail, said))),
            }
            for r in found
        ]
        if not allowed(me.roles, "parcels.view"):
            parcels = []  # who held it is the desk's business (masked or not)

        def commands() -> list[door_commands.CommandView]:
            with c.db.transaction() as s:
                return door_commands.recent(s, label=labels.ref(cell.cabinet_id, cell.label), limit=10)

        return fragment_or_page(
            request,
            me,
            "compartment.html",
            cell=cell,
            parcels=parcels,
            rows=rows,
            label=cell.label,
            door=labels.ref(cell.cabinet_id, cell.label),  # the forms' target: CABINET:LABEL, never ambiguous
            done=request.query_params.get("done", "")[:16],
            error=request.query_params.get("error", "")[:16],
            commands=await run_in_threadpool(commands),
            reasons=door_commands.REASONS,
        )

    @action("cabinets.view")
    async def door_command(request: Request, me: SignedIn) -> Response:
        """Address a take-back or an inspection to the kiosk owning the door; it waits there for a confirmation."""
        label = request.path_params["label"].upper()[: labels.NAME_MAX]
        form = request.state.form
        kind = str(form.get("kind", ""))
        back = f"/cabinets/{quote(label)}"
        perm = {door_commands.TAKE_BACK: "doors.take_back", door_commands.INSPECT: "doors.inspect"}.get(kind)
        if perm is None:
            return render(request, "problem.html", me, 400, message="err.not_found")
        if not allowed(me.roles, perm):
            await run_in_threadpool(c.directory_audit, me, "console.refused", request.url.path)
            return render(request, "problem.html", me, 403, message="err.forbidden")
        if form.get("confirm") != "yes":
            return RedirectResponse(f"{back}?error=confirm", 303)

        def issue() -> None:
            with c.db.transaction() as s:
                door_commands.issue(
                    s,
                    c.clock.now(),
                    label=label,
                    kind=kind,
                    reason=str(form.get("reason", "")),
                    requester=me.staff_id,
                )

        try:
            await run_in_threadpool(issue)
        except door_commands.CommandRefused as err:
            log.info("door command for %s refused: %s", label, err)
            return RedirectResponse(f"{back}?error=command", 303)
        return RedirectResponse(f"{back}?done=command", 303)

    async def compartment_service(request: Request, me: SignedIn, enable: bool) -> Response:
        """Disable or enable one compartment through the cabinet core, once the form's box confirms it."""
        label = request.path_params["label"].upper()[: labels.NAME_MAX]
        form = request.state.form
        reason = " ".join(str(form.get("reason", "")).split())[:NOTE_MAX]
        back = f"/cabinets/{quote(label)}"
        if form.get("confirm") != "yes":
            return RedirectResponse(f"{back}?error=confirm", 303)
        if not enable and not reason:
            return RedirectResponse(f"{back}?error=reason", 303)
        actor = f"staff:{me.staff_id}"
        try:
            if enable:
                await run_in_threadpool(c.hall.enable, label, actor=actor)
            else:
                await run_in_threadpool(c.hall.disable, label, actor=actor, reason=reason)
        except NOT_ONE_COMPARTMENT:  # none, or a bare label two cabinets share
            return render(request, "problem.html", me, 404, message="err.not_found")
        except KioskError as err:  # e.g. a flow has it reserved right now: say so, change nothing
            log.info("%s %s refused: %s", "enable" if enable else "disable", label, err)
            return RedirectResponse(f"{back}?error=busy", 303)
        return RedirectResponse(f"{back}?done={'enabled' if enable else 'disabled'}", 303)

    @action("cabinets.service")
    async def compartment_note_delete(request: Request, me: SignedIn) -> Response:
        """Delete the staff note behind a compartment's out-of-service reason (it may name someone; kiosk.notes)."""
        label = request.path_params["label"].upper()[: labels.NAME_MAX]
        back = f"/cabinets/{quote(label)}"
        try:
            await run_in_threadpool(c.hall.delete_fault_note, label, actor=f"staff:{me.staff_id}")
        except NOT_ONE_COMPARTMENT:
            return render(request, "problem.html", me, 404, message="err.not_found")
        return RedirectResponse(f"{back}?done=note_deleted", 303)

    @action("cabinets.service")
    async def compartment_disable(request: Request, me: SignedIn) -> Response:
        return await compartment_service(request, me, enable=False)

    @action("cabinets.service")
    async def compartment_enable(request: Request, me: SignedIn) -> Response:
        return await compartment_service(request, me, enable=True)

    def task_filters(request: Request) -> dict[str, Any]:
        q = request.query_params
        return {"open": q.get("open", "1") == "1", "kind": q.get("kind", "")[:32], "age": q.get("age", "")}

    @page("tasks.view")
    async def tasks_page(request: Request, me: SignedIn) -> Response:
        f = task_filters(request)
        ages = {"new": {"newer_than_s": 3600.0}, "day": {"older_than_s": 86400.0}}.get(f["age"], {})
        # A page at a time (TASKS_PAGE, keyset by id): "all, day old" over a hall's history was 600+ ms at once.
        before = request.query_params.get("before", "")
        before_id = int(before) if before.isdigit() else None
        tasks = await run_in_threadpool(
            lambda: c.hall.tasks(
                open_only=f["open"], kind=f["kind"], limit=TASKS_PAGE + 1, before_id=before_id, **ages
            )
        )
        more = tasks[TASKS_PAGE - 1].id if len(tasks) > TASKS_PAGE else None
        tasks = tasks[:TASKS_PAGE]
        kinds = await run_in_threadpool(c.hall.task_kinds)
        query = urlencode({"open": "1" if f["open"] else "0", "kind": f["kind"], "age": f["age"]})
        return fragment_or_page(
            request,
            me,
            "tasks.html",
            tasks=tasks,
            kinds=kinds,
            f=f,
            query=query,
            more=more,
            done=request.query_params.get("done", ""),
            error=request.query_params.get("error", ""),
        )

    @page("tasks.view")
    async def help_requests(request: Request, me: SignedIn) -> Response:
        """The open help requests hall-wide, for the badge and chime on every page."""
        return JSONResponse({"open": await run_in_threadpool(c.hall.open_help_requests)})

    @action("tasks.resolve")
    async def resolve_task(request: Request, me: SignedIn) -> Response:
        task_id = request.path_params["task_id"]
        note = " ".join(str(request.state.form.get("note", "")).split())[:NOTE_MAX]
        back = str(request.state.form.get("back", ""))[:300]
        sep = "&" if back else ""
        if not note:
            return RedirectResponse(f"/tasks?{back}{sep}error=note", 303)
        try:
            await run_in_threadpool(c.hall.resolve_task, task_id, actor=f"staff:{me.staff_id}", note=note)
        except KioskError as err:
            log.info("resolve task %s refused: %s", task_id, err)
            return render(request, "problem.html", me, 404, message="err.not_found")
        return RedirectResponse(f"/tasks?{back}{sep}done={task_id}", 303)

    @page("parcels.view")
    async def parcels_page(request: Request, me: SignedIn) -> Response:
        q = request.query_params.get("q", "").strip()[:32]
        found = await run_in_threadpool(c.hall.find_parcels, q) if q else []
        overdue = await run_in_threadpool(c.shared.get, "overdue", c.hall.overdue)
        wait = await run_in_threadpool(c.hall.code_wait)
        return fragment_or_page(
            request,
            me,
            "parcels.html",
            q=q,
            found=found,
            overdue=overdue,
            wait=wait,
            lifted=request.query_params.get("lifted", "")[:8],
            error=request.query_params.get("error", "")[:16],
        )

    @action("codes.lift")
    async def lift_code_wait(request: Request, me: SignedIn) -> Response:
        """Lift the hall-wide pickup-code wait once the box confirms it (audited with the staff id)."""
        if request.state.form.get("confirm") != "yes":
            return RedirectResponse("/parcels?error=confirm", 303)
        cleared = await run_in_threadpool(lambda: c.hall.lift_code_wait(actor=f"staff:{me.staff_id}"))
        return RedirectResponse(f"/parcels?lifted={cleared.retry_after_s or 0}", 303)

    @page("parcels.view")
    async def overdue_print(request: Request, me: SignedIn) -> Response:
        overdue = await run_in_threadpool(c.shared.get, "overdue", c.hall.overdue)
        return render(request, "overdue_print.html", me, overdue=overdue, printed=fmt(c.clock.now()))

    @page("platform.view")
    async def platform_page(request: Request, me: SignedIn) -> Response:
        """Each kiosk's outbox backlog and dead letters; one kiosk's waiting and dead rows (never a payload)."""
        chosen = request.query_params.get("kiosk", "")[:32]

        def load() -> tuple[list[outbox.KioskBacklog], list[dict[str, Any]]]:
            with c.db.transaction() as s:
                backlog = outbox.backlog_by_kiosk(s)
                rows = (
                    [
                        {**outbox.describe(m), "created": fmt(m.created_at)}
                        for m in outbox.waiting_of(s, chosen)
                    ]
                    if chosen
                    else []
                )
            return backlog, rows

        backlog, rows = await run_in_threadpool(load)
        now = c.clock.now()
        return fragment_or_page(
            request,
            me,
            "platform.html",
            backlog=backlog,
            rows=rows,
            chosen=chosen,
            ages={b.kiosk: b.oldest_age_s(now) for b in backlog},
            done=request.query_params.get("done", "")[:8],
            error=request.query_params.get("error", "")[:16],
        )

    @action("platform.retry")
    async def platform_retry(request: Request, me: SignedIn) -> Response:
        """ "Retry now": mark one row, or every dead letter of one kiosk, due now. Only the database changes: the
        owning kiosk's sender sends them under its own credentials (the console never sends as a kiosk)."""
        form = request.state.form
        kiosk = str(form.get("kiosk", ""))[:32]
        one = str(form.get("id", ""))
        back = "/platform?" + urlencode({"kiosk": kiosk})
        actor = f"staff:{me.staff_id}"

        def retry() -> int:
            with c.db.transaction() as s:
                now = c.clock.now()
                ids = (
                    [int(one)]
                    if one.isdigit()
                    else [m.id for m in outbox.waiting_of(s, kiosk or None) if m.state == outbox.DEAD]
                )
                for mid in ids:
                    outbox.retry(s, now, mid, actor=actor)
                return len(ids)

        try:
            n = await run_in_threadpool(retry)
        except (LookupError, ValueError) as err:
            log.info("outbox retry refused: %s", err)
            return RedirectResponse(f"{back}&error=retry", 303)
        return RedirectResponse(f"{back}&done={n}", 303)

    def audit_filters(request: Request) -> dict[str, Any]:
        q = request.query_params

        def when(name: str) -> dt.datetime | None:
            v = q.get(name, "")
            try:
                return dt.datetime.fromisoformat(v).replace(tzinfo=tz).astimezone(dt.UTC) if v else None
            except ValueError:
                return None

        before = q.get("before", "")
        return {
            "since": when("since"),
            "until": when("until"),
            "action": q.get("action", "")[:64],
            "actor": q.get("actor", "")[:64],
            "subject": q.get("subject", "")[:128],
            "before_seq": int(before) if before.isdigit() and len(before) < 12 else None,
            "raw": {k: q.get(k, "")[:64] for k in ("since", "until", "action", "actor", "subject")},
        }

    @page("audit.view")
    async def audit_page(request: Request, me: SignedIn) -> Response:
        f = audit_filters(request)

        def run() -> list[audit.AuditEntry]:
            with c.db.transaction() as s:
                return audit.search(
                    s,
                    since=f["since"],
                    until=f["until"],
                    action=f["action"],
                    actor=f["actor"],
                    subject=f["subject"],
                    before_seq=f["before_seq"],
                    limit=100,
                )

        rows = await run_in_threadpool(run)
        shown = [
            {
                "seq": r.seq,
                "at": fmt(r.at),
                "actor": scrub(r.actor),
                "action": r.action,
                "subject": scrub(r.subject),
                "error": r.error,
                "detail": "" if r.error else _detail_text(scrub_value(r.detail)),
            }
            for r in rows
        ]
        older = ""
        if len(rows) == 100 and rows[-1].seq is not None:
            older = urlencode({**{k: v for k, v in f["raw"].items() if v}, "before": rows[-1].seq})
        query = urlencode({k: v for k, v in f["raw"].items() if v})
        return fragment_or_page(
            request,
            me,
            "audit.html",
            rows=shown,
            f=f["raw"],
            older=older,
            query=query,
            paged=f["before_seq"] is not None,
            job=c.verify.state,
        )

    @action("audit.verify")
    async def audit_verify_start(request: Request, me: SignedIn) -> Response:
        c.verify.start(f"staff:{me.staff_id}")
        return RedirectResponse("/audit", 303)

    @page("audit.verify")
    async def audit_verify_state(request: Request, me: SignedIn) -> Response:
        st = c.verify.state
        lang = lang_of(request)
        key = {
            "running": "audit.verify_running",
            "ok": "audit.verify_ok",
            "broken": "audit.verify_broken",
            "failed": "audit.verify_failed",
        }.get(st.state)
        text = i18n.t(key, lang, checked=st.checked, total=st.total, reason=st.reason) if key else ""
        return JSONResponse({**st.as_dict(), "text": text})

    @page("kiosks.view")
    async def events(request: Request, me: SignedIn) -> Response:
        async def gen() -> Any:
            checked = time.monotonic()
            async for chunk in c.feed.stream():
                if await request.is_disconnected():
                    break
                if time.monotonic() - checked > SESSION_RECHECK_S:  # a session that ended ends its stream
                    checked = time.monotonic()
                    if await who(request) is None:
                        break
                yield chunk

        return StreamingResponse(
            gen(),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )

    routes = [
        Route("/", home),
        Route("/login", login, methods=["GET", "POST"]),
        Route("/logout", logout, methods=["POST"]),
        Route("/lang/{lang}", set_lang),
        Route("/kiosks", kiosks_page),
        Route("/cabinets", cabinets_page),
        Route("/cabinets/{label}", compartment_page),
        Route("/cabinets/{label}/disable", compartment_disable, methods=["POST"]),
        Route("/cabinets/{label}/enable", compartment_enable, methods=["POST"]),
        Route("/cabinets/{label}/note/delete", compartment_note_delete, methods=["POST"]),
        Route("/cabinets/{label}/command", door_command, methods=["POST"]),
        Route("/tasks", tasks_page),
        Route("/tasks/help.json", help_requests),
        Route("/tasks/{task_id:int}/resolve", resolve_task, methods=["POST"]),
        Route("/parcels", parcels_page),
        Route("/parcels/overdue", overdue_print),
        Route("/parcels/codes/lift", lift_code_wait, methods=["POST"]),
        Route("/platform", platform_page),
        Route("/platform/retry", platform_retry, methods=["POST"]),
        Route("/audit", audit_page),
        Route("/audit/verify", audit_verify_start, methods=["POST"]),
        Route("/audit/verify.json", audit_verify_state),
        Route("/events", events),
        Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static"),
    ]

    def same_origin(request: Request) -> bool:
        origin = request.headers.get("origin")
        if origin is None:
            # Browsers send Origin on every cross-site POST; a form without it comes from this page or a
            # non-browser client, and the CSRF token still has to match.
            return True
        return origin == f"{request.url.scheme}://{request.url.netloc}"

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        c.feed.on_change = c.shared.rewarm
        c.feed.start()
        try:
            yield
        finally:
            c.feed.stop()

    # A form here is a note or a search: 64 KiB is plenty, and bounds what one request can make us parse.
    app = Starlette(routes=routes, lifespan=lifespan, max_body_size=64 * 1024)
    return SecurityHeaders(app, tls=c.tls)  # type: ignore[return-value]


def _with_note(detail: Any, said: dict[int, str]) -> Any:
    """An audit detail with its staff note's id shown with the note's words (kiosk.notes)."""
    if isinstance(detail, dict) and detail.get("note") in said:
        return {**detail, "note": f"#{detail['note']} {said[detail['note']]}"}
    return detail


def _detail_text(detail: Any) -> str:
    if not detail:
        return ""
    if isinstance(detail, dict):
        return ", ".join(f"{k}={v}" for k, v in detail.items() if v not in (None, "", [], {}))
    return str(detail)
