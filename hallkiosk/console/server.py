"""Run the console: build it from the configuration and serve it with uvicorn (HTTPS when a certificate is
configured, else on 127.0.0.1 only, with a warning)."""

from __future__ import annotations

import logging
import socket
import ssl
import sys
from collections.abc import Callable

import uvicorn

from hallkiosk.console.app import Console, create_app
from hallkiosk.console.jobs import VerifyJob
from hallkiosk.console.live import ChangeFeed
from hallkiosk.console.security import LoginThrottle
from kiosk.cabinet_hall import HallCabinets
from kiosk.clock import Clock, SystemClock
from kiosk.config import Config
from kiosk.datadir import open_database
from kiosk.errors import ConfigError
from kiosk.hall_secret import open_hall_secret
from kiosk.staff import StaffDirectory
from kiosk.staff_sessions import SessionStore
from kiosk.storage.db import Database

log = logging.getLogger(__name__)


def build(cfg: Config, *, clock: Clock | None = None, db: Database | None = None) -> Console:
    clock = clock or SystemClock(cfg.kiosk.tz)
    if db is None:
        db = open_database(cfg)
    secret = open_hall_secret(cfg, db)
    cc = cfg.console
    return Console(
        cfg=cfg,
        db=db,
        clock=clock,
        directory=directory_of(cfg, db, secret, clock),
        sessions=SessionStore(db, clock, idle_s=cc.session_idle_min * 60, max_age_s=cc.session_max_h * 3600),
        hall=HallCabinets(db, clock, secret, cfg.pickup, cfg.kiosk.id),
        feed=ChangeFeed(db),
        verify=VerifyJob(db, clock),
        tls=bool(cc.tls_cert),
        throttle=LoginThrottle(cc.login_attempts_per_minute),
    )


def directory_of(cfg: Config, db: Database, secret: bytes, clock: Clock) -> StaffDirectory:
    cc = cfg.console
    return StaffDirectory(db, secret, clock, max_failures=cc.max_failed_logins, lockout_s=cc.lockout_min * 60)


def serve(
    cfg: Config,
    *,
    host: str | None = None,
    port: int | None = None,
    announce: Callable[[str], None] | None = None,
) -> None:
    """Serve until interrupted. ``announce`` gets the address once the socket listens."""
    cc = cfg.console
    host = host or cc.host
    port = cc.port if port is None else port
    tls = bool(cc.tls_cert)
    if tls:
        try:  # a wrong path or a key that does not match is a config error, said before anything listens
            ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(cc.tls_cert, cc.tls_key)
        except (OSError, ssl.SSLError) as err:
            raise ConfigError(
                f"{cfg.source}: console.tls_cert: cannot load the certificate and key: {err}"
            ) from None
    elif host not in ("127.0.0.1", "localhost", "::1"):
        raise ConfigError(f"{cfg.source}: console.host: {host} needs console.tls_cert and console.tls_key")
    else:
        print(
            "warning: no console.tls_cert: the console serves plain HTTP on 127.0.0.1 only (this PC alone); "
            "configure a certificate to open it from tablets",
            file=sys.stderr,
        )
    console = build(cfg)
    app = create_app(console)
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    bound = sock.getsockname()[1]
    config = uvicorn.Config(
        app,
        log_level="warning",
        access_log=False,
        server_header=False,
        proxy_headers=False,
        timeout_graceful_shutdown=3,
        ssl_certfile=cc.tls_cert or None,
        ssl_keyfile=cc.tls_key or None,
        lifespan="on",
    )
    server = uvicorn.Server(config)
    scheme = "https" if tls else "http"
    shown = f"[{host}]" if ":" in host else host
    address = f"{scheme}://{shown}:{bound}/"

    original = server.startup

    async def startup(sockets: list[socket.socket] | None = None) -> None:
        await original(sockets=sockets)
        if announce is not None:
            announce(address)

    server.startup = startup  # type: ignore[method-assign]
    try:
        server.run(sockets=[sock])
    finally:
        console.feed.stop()
        console.db.dispose()
