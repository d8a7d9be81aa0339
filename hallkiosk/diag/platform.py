"""Platform checks, each layer on its own: DNS, TCP, TLS, a SOAP Heartbeat, auth, clock skew, the outbox."""

from __future__ import annotations

import datetime as dt
import ipaddress
import socket
import ssl
import threading
import time
from urllib.parse import urlsplit

from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

import kiosk
from backend_client.tls import describe_cert_failure, trust_context
from hallkiosk.diag.runner import Ctx, Pending
from hallkiosk.diag.timesync import read_clock_sync
from kiosk import outbox
from kiosk.diag_model import Check, to_device_health
from kiosk.errors import KioskError, PlatformAuthFailed, PlatformError
from kiosk.platform_models import HeartbeatResult
from kiosk.storage.models import KeyValue, OutboxMessage

AUTH_ALARM_KEY = (
    "platform.auth_alarm"  # kiosk.heartbeat.AUTH_ALARM_KEY: read here without importing the service
)
NET_HINT = "Check the network cable, the hall's firewall and the platform endpoint in the config; run `kiosk platform ping`."
BACKLOG_DEGRADED_S = 600.0  # the oldest unsent message is this old: the platform has been unreachable a while
BACKLOG_FAULT_S = 86400.0  # a day: citizens' applications are stuck
# Another kiosk's oldest waiting row is this old: beyond its sender's longest back-off (600 s by default) many
# times over, so that kiosk is down or retired and nobody sends its rows.
OTHER_KIOSK_STALE_S = 3600.0
OTHERS_WAIT_S = 60.0  # how long the heartbeat waits for the other areas' health to send along
CERT_DEGRADED_DAYS = 14  # the platform's certificate expires sooner than this: time to tell its operator


class _Layer:
    """What the transport checks found, so later layers can say why they were not tried."""

    def __init__(self) -> None:
        self.failed: str | None = None


SYNC_HINT = "Enable a time service: `timedatectl set-ntp true` (systemd-timesyncd) or install chrony."


def run(ctx: Ctx) -> list[Check]:
    if not ctx.opts.heartbeat:
        # The heartbeat's own device probe: the Heartbeat it is about to send proves the network layers.
        return outbox_checks(ctx)
    out: list[Check] = []
    url, err = _endpoint(ctx)
    layer = _Layer()
    if url is None:
        p = ctx.check("platform.dns", "platform", "name lookup", "platform")
        out.append(
            p.fault(f"no platform client: {err.message if err else 'unknown'}", err.hint if err else NET_HINT)
        )
        layer.failed = "no platform client"
    else:
        parts = urlsplit(url)
        host, port = parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80)
        out.append(dns(ctx, host, layer))
        out.append(tcp(ctx, host, port, layer))
        out.append(tls(ctx, parts.scheme, host, port, layer))
    out += [with_clock_sync(c) for c in soap_auth_clock(ctx, layer, err)]
    out += outbox_checks(ctx)
    return out


def _endpoint(ctx: Ctx) -> tuple[str | None, KioskError | None]:
    """The URL the client talks to (the simulator's loopback URL for "sim")."""
    cfg = ctx.cfg.platform
    if cfg.endpoint != "sim":
        return cfg.endpoint, None
    try:
        return str(getattr(ctx.app.platform, "endpoint", "")) or None, None
    except KioskError as err:
        return None, err


def _is_private(host: str) -> bool:
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return host == "localhost"
    return ip.is_private or ip.is_loopback


def dns(ctx: Ctx, host: str, layer: _Layer) -> Check:
    p = ctx.check("platform.dns", "platform", "name lookup", "platform")
    try:
        ipaddress.ip_address(host)
        return p.ok(f"{host} is an address: no lookup needed", host=host, addresses=[host])
    except ValueError:
        pass
    timeout = ctx.cfg.platform.connect_timeout_s
    box: dict[str, object] = {}

    def lookup() -> None:
        try:
            box["ok"] = sorted(
                {str(ai[4][0]) for ai in socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)}
            )
        except OSError as e:
            box["err"] = e

    # getaddrinfo has no timeout of its own: bound it with the connect timeout.
    t = threading.Thread(target=lookup, name="diag-dns", daemon=True)
    t.start()
    t.join(timeout)
    if t.is_alive():
        p.waited_s = timeout
        layer.failed = "DNS timed out"
        return p.fault(
            f"looking up {host} took longer than {timeout:g} s",
            "Check the DNS servers in the network settings.",
            host=host,
        )
    if "err" in box:
        layer.failed = "DNS failed"
        e = box["err"]
        return p.fault(
            f"cannot resolve {host}: {getattr(e, 'strerror', None) or e}",
            "Check the DNS servers and the endpoint's host name in the config.",
            host=host,
        )
    return p.ok(f"{host} resolves to {', '.join(box['ok'])}", host=host, addresses=box["ok"])  # type: ignore[arg-type]


def tcp(ctx: Ctx, host: str, port: int, layer: _Layer) -> Check:
    p = ctx.check("platform.tcp", "platform", "TCP connect", "platform")
    if layer.failed:
        return p.fault(f"not tried: {layer.failed}", NET_HINT, host=host, port=port)
    timeout = ctx.cfg.platform.connect_timeout_s
    t0 = time.perf_counter()
    try:
        with socket.create_connection((host, port), timeout=timeout):
            ms = (time.perf_counter() - t0) * 1000
    except TimeoutError:
        p.waited_s = timeout
        layer.failed = "TCP connect timed out"
        return p.fault(
            f"no answer from {host}:{port} within {timeout:g} s (dropped by a firewall?)",
            NET_HINT,
            host=host,
            port=port,
        )
    except OSError as err:
        layer.failed = "TCP connect failed"
        return p.fault(
            f"cannot connect to {host}:{port}: {err.strerror or err}", NET_HINT, host=host, port=port
        )
    return p.ok(f"connected to {host}:{port} in {ms:.0f} ms", host=host, port=port, connect_ms=round(ms, 1))


def tls(ctx: Ctx, scheme: str, host: str, port: int, layer: _Layer) -> Check:
    p = ctx.check("platform.tls", "platform", "TLS", "platform")
    if scheme != "https":
        if _is_private(host):
            return p.ok(
                f"plain HTTP to a private address ({host}): allowed for a test endpoint", scheme=scheme
            )
        return p.degraded(
            f"plain HTTP to a public address ({host}): passwords digests and personal data travel unencrypted",
            "Use the platform's https:// endpoint in production.",
            scheme=scheme,
        )
    if layer.failed:
        return p.fault(f"not tried: {layer.failed}", NET_HINT)
    timeout = ctx.cfg.platform.connect_timeout_s
    ca_file = ctx.cfg.platform.ca_file or None
    try:
        context = trust_context(ca_file)  # the CAs the client trusts, so this check and the heartbeat agree
    except (OSError, ssl.SSLError) as err:  # checked at config load; gone or replaced since
        layer.failed = "platform.ca_file unusable"
        return p.fault(
            f"cannot load platform.ca_file {ca_file}: {err}",
            "Point platform.ca_file at a readable PEM file of the platform's CA.",
            ca_file=ca_file,
        )
    try:
        with (
            socket.create_connection((host, port), timeout=timeout) as raw,
            context.wrap_socket(raw, server_hostname=host) as s,
        ):
            cert = s.getpeercert() or {}
            version = s.version()
    except ssl.SSLCertVerificationError as err:
        layer.failed = "TLS certificate refused"
        finding, hint = describe_cert_failure(err, host, ca_file)
        return p.fault(finding, hint, verify_code=err.verify_code, ca_file=ca_file)
    except (OSError, ssl.SSLError) as err:
        layer.failed = "TLS handshake failed"
        if isinstance(err, TimeoutError):
            p.waited_s = timeout
        return p.fault(f"TLS handshake with {host}:{port} failed: {err}", NET_HINT)
    not_after = (
        dt.datetime.fromtimestamp(ssl.cert_time_to_seconds(cert["notAfter"]), dt.UTC)
        if "notAfter" in cert
        else None
    )
    days = (not_after - ctx.app.clock.now()).days if not_after else None
    data = {"tls_version": version, "cert_not_after": not_after.isoformat() if not_after else None}
    if days is not None and days < CERT_DEGRADED_DAYS:
        return p.degraded(
            f"{version}; the platform's certificate expires in {days} days",
            "Tell the platform's operator.",
            **data,
        )
    return p.ok(
        f"{version}, certificate valid" + (f" for {days} more days" if days is not None else ""), **data
    )


def with_clock_sync(check: Check) -> Check:
    """The clock skew check also says whether the kernel considers the system clock synchronised (adjtimex).

    Its status stays the skew's: the platform's clock is the reference that matters, and an unsynchronised clock
    within the limit still works today. The finding warns that it will drift, and the hint names the fix."""
    if check.id != "platform.clock":
        return check
    sync = read_clock_sync()
    check.data["clock_synchronised"] = None if sync is None else sync.synchronised
    if sync is None:
        check.finding += "; whether the system clock is synchronised is unknown here (no adjtimex)"
    elif sync.synchronised:
        check.finding += f"; system clock synchronised (estimated error {sync.maxerror_us / 1000:.0f} ms)"
    else:
        check.finding += "; system clock NOT synchronised by any time service: it will drift"
        check.hint = (check.hint + " " if check.hint else "") + SYNC_HINT
    return check


def soap_auth_clock(ctx: Ctx, layer: _Layer, build_err: KioskError | None) -> list[Check]:
    """One real Heartbeat (carrying the other areas' device health); auth and clock are read off its answer."""
    soap = ctx.check("platform.soap", "platform", "SOAP heartbeat", "platform")
    auth = ctx.check("platform.auth", "platform", "credentials", "platform.auth")
    clock = ctx.check("platform.clock", "platform", "clock skew", "clock")
    pcfg = ctx.cfg.platform
    alarm = _auth_alarm(ctx)
    if layer.failed:
        why = f"not tried: {layer.failed}"
        return [
            soap.fault(why, NET_HINT),
            auth.degraded(f"unknown: {why}", NET_HINT),
            clock.degraded(f"unknown: {why}", NET_HINT),
        ]
    try:
        platform = ctx.app.platform
    except KioskError as err:  # no password configured: nothing can be sent
        return [
            soap.fault(f"not sent: {err.message.splitlines()[0]}", err.hint),
            auth.fault(f"no credentials: {err.message.splitlines()[0]}", err.hint),
            clock.degraded("unknown: no heartbeat sent", err.hint),
        ]
    devices = to_device_health(ctx.others("platform", OTHERS_WAIT_S))
    t0, sent_at = time.monotonic(), ctx.app.clock.now()
    try:
        reply: HeartbeatResult = platform.heartbeat(kiosk.__version__, devices)
    except PlatformAuthFailed as err:
        ms = (time.monotonic() - t0) * 1000
        return [
            soap.ok(f"the platform answered in {ms:.0f} ms (with AUTH_FAILED)", rtt_ms=round(ms, 1)),
            auth.fault(
                f"the platform refused user {pcfg.username!r} for kiosk {ctx.cfg.kiosk.id}: {err.platform_message}",
                err.hint,
                username=pcfg.username,
                alarm=alarm,
            ),
            clock.degraded(
                "unknown: the heartbeat was refused (a clock off by more than 300 s is one cause)",
                "Compare the kiosk's clock with a reliable one (`timedatectl`); fix NTP.",
            ),
        ]
    except PlatformError as err:
        elapsed = time.monotonic() - t0
        if elapsed >= pcfg.timeout_s * 0.9:
            soap.waited_s = pcfg.timeout_s
        return [
            soap.fault(f"heartbeat failed after {elapsed * 1000:.0f} ms: {err.message}", err.hint),
            auth.degraded("unknown: the heartbeat got no answer", NET_HINT),
            clock.degraded("unknown: the heartbeat got no answer", NET_HINT),
        ]
    rtt = time.monotonic() - t0
    # The server stamped its time somewhere in the round trip: compare with its middle.
    skew = (reply.server_time - (sent_at + dt.timedelta(seconds=rtt / 2))).total_seconds()
    out = [
        soap.ok(
            f"answered in {rtt * 1000:.0f} ms; catalog version {reply.catalog_version}; sent {len(devices)} device(s)",
            rtt_ms=round(rtt * 1000, 1),
            catalog_version=reply.catalog_version,
            devices_sent=len(devices),
        )
    ]
    if alarm:
        out.append(
            auth.degraded(
                f"credentials accepted now, but the AUTH_FAILED alarm raised at {alarm.get('since')} is "
                "still set: the outbox stays stopped until the kiosk's next heartbeat clears it",
                "Nothing to do if the kiosk is running; else start it.",
                alarm=alarm,
            )
        )
    else:
        out.append(
            auth.ok(f"user {pcfg.username!r} accepted for kiosk {ctx.cfg.kiosk.id}", username=pcfg.username)
        )
    data = {
        "skew_s": round(skew, 3),
        "limit_s": pcfg.max_clock_skew_s,
        "server_time": reply.server_time.isoformat(),
    }
    hint = "Fix the kiosk's time synchronisation (NTP, `timedatectl`); the platform refuses tokens 300 s off."
    if abs(skew) > ctx.opts.clock_fault_s:
        out.append(
            clock.fault(
                f"kiosk clock is {-skew:+.0f} s off the platform's: tokens will be refused", hint, **data
            )
        )
    elif abs(skew) > pcfg.max_clock_skew_s:
        out.append(
            clock.degraded(
                f"kiosk clock is {-skew:+.0f} s off the platform's (limit {pcfg.max_clock_skew_s:g} s)",
                hint,
                **data,
            )
        )
    else:
        out.append(clock.ok(f"within {abs(skew):.1f} s of the platform's clock", **data))
    return out


def _auth_alarm(ctx: Ctx) -> dict[str, str] | None:
    import json

    try:
        with ctx.db.transaction() as s:
            row = s.get(KeyValue, AUTH_ALARM_KEY)
            return json.loads(row.value) if row is not None else None
    except (KioskError, SQLAlchemyError, ValueError):
        return None


def _age_s(ctx: Ctx, t: dt.datetime | None) -> float | None:
    if t is None:
        return None
    if t.tzinfo is None:  # func.min bypasses the column type on SQLite
        t = t.replace(tzinfo=dt.UTC)
    return (ctx.app.clock.now() - t).total_seconds()


def outbox_checks(ctx: Ctx) -> list[Check]:
    backlog = ctx.check("platform.outbox", "platform", "outbox backlog", "outbox")
    dead = ctx.check("platform.dead_letters", "platform", "dead letters", "outbox")
    if ctx.schema_missing():
        why, hint = (
            "no outbox yet: the database has no schema",
            "Run `kiosk db upgrade` or start the kiosk once.",
        )
        return [backlog.degraded(why, hint), dead.degraded(why, hint)]
    fleet = ctx.check("platform.outbox_fleet", "platform", "every kiosk's outbox", "outbox")
    me = ctx.cfg.kiosk.id
    mine = outbox.of_kiosk(me)  # this kiosk's rows: the only ones its sender sends
    try:
        with ctx.db.transaction() as s:
            n = outbox.counts(s)
            oldest = s.execute(
                select(func.min(OutboxMessage.created_at)).where(OutboxMessage.state == outbox.PENDING, mine)
            ).scalar()
            oldest_op = s.execute(
                select(OutboxMessage.operation)
                .where(OutboxMessage.state == outbox.PENDING, mine)
                .order_by(OutboxMessage.created_at)
                .limit(1)
            ).scalar()
            dead_rows = list(
                s.execute(
                    select(OutboxMessage)
                    .where(OutboxMessage.state == outbox.DEAD, mine)
                    .order_by(OutboxMessage.id)
                    .limit(5)
                ).scalars()
            )
            kiosks = outbox.backlog_by_kiosk(s)
    except (KioskError, SQLAlchemyError) as err:
        why = f"cannot read the outbox: {getattr(err, 'message', err)}"
        return [
            backlog.fault(why, "See the storage checks."),
            dead.fault(why, "See the storage checks."),
            fleet.fault(why, "See the storage checks."),
        ]
    pending, n_dead = n.get(outbox.PENDING, 0), n.get(outbox.DEAD, 0)
    age = _age_s(
        ctx,
        oldest
        if isinstance(oldest, dt.datetime)
        else (dt.datetime.fromisoformat(str(oldest)) if oldest else None),
    )
    data = {
        "pending": pending,
        "sent": n.get(outbox.SENT, 0),
        "dead": n_dead,
        "oldest_pending_age_s": round(age) if age is not None else None,
        "oldest_pending_operation": oldest_op,
    }
    hint = "The platform has not taken these: see the platform checks above; `kiosk outbox list` shows them."
    if not pending:
        out = [backlog.ok("nothing waiting to be sent", **data)]
    elif age is not None and age > BACKLOG_FAULT_S:
        out = [
            backlog.fault(
                f"{pending} message(s) unsent; the oldest ({oldest_op}) waits for {age / 3600:.1f} h",
                hint,
                **data,
            )
        ]
    elif age is not None and age > BACKLOG_DEGRADED_S:
        out = [
            backlog.degraded(
                f"{pending} message(s) unsent; the oldest ({oldest_op}) waits for {age / 60:.0f} min",
                hint,
                **data,
            )
        ]
    else:
        out = [backlog.ok(f"{pending} message(s) on their way; the oldest is {age or 0:.0f} s old", **data)]
    if n_dead:
        listed = ", ".join(f"#{m.id} {m.operation}" for m in dead_rows)
        out.append(
            dead.degraded(
                f"{n_dead} message(s) the platform will not take: {listed}",
                "Read each with `kiosk outbox list`, fix the cause, then `kiosk outbox retry ID`.",
                dead=n_dead,
                ids=[m.id for m in dead_rows],
                last_errors=[outbox.describe(m)["last_error"] for m in dead_rows],
            )
        )
    else:
        out.append(dead.ok("no dead letters", dead=0))
    out.append(_fleet_check(ctx, fleet, me, kiosks))
    return out


def _fleet_check(ctx: Ctx, check: Pending, me: str, kiosks: list[outbox.KioskBacklog]) -> Check:
    """Other kiosks' waiting rows on a shared database: only their own sender (or an adoption) sends them."""
    now = ctx.app.clock.now()
    data = {"kiosks": [k.as_json(now) for k in kiosks]}
    stale = [
        k for k in kiosks if k.kiosk != me and k.pending and (k.oldest_age_s(now) or 0) > OTHER_KIOSK_STALE_S
    ]
    if stale:
        names = ", ".join(
            f"{k.kiosk or '(unknown)'}: {k.pending} waiting for {k.oldest_age_s(now) / 3600:.1f} h"
            for k in stale
        )
        return check.degraded(
            f"other kiosks' messages wait: {names}",
            "Is that kiosk running? If it is retired for good: `kiosk outbox adopt KIOSK-ID "
            "--config-of ITS-CONFIG` sends them under its own identity.",
            **data,
        )
    others = sum(k.pending for k in kiosks if k.kiosk != me)
    return check.ok(
        f"{len(kiosks)} kiosk(s) with rows waiting or dead; {others} waiting at other kiosks", **data
    )
