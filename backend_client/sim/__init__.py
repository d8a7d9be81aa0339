"""The provincial platform simulator (ships; ``make run`` and the tests use it).

``PlatformSim(port=0).start()`` serves the shipped WSDL on 127.0.0.1; see
``server.py`` for the request path, ``backoffice.py`` for the back office and
demo data, ``faults.py`` for fault injection.
"""

from __future__ import annotations

import argparse
import logging
import os
import ssl
import threading

from backend_client.sim.backoffice import (
    CATALOG,
    DEMO_APPLICANT,
    DEMO_APPLICANT_2,
    BackOffice,
    SimCase,
    SimTicket,
)
from backend_client.sim.catalog import BUNDLES
from backend_client.sim.faults import FAULT_CODES, Fault, FaultSwitch
from backend_client.sim.security import SimUser
from backend_client.sim.server import DEMO_KIOSK_ID, DEMO_PASSWORD, DEMO_USERNAME, PlatformSim, RequestRecord

__all__ = [
    "BUNDLES",
    "CATALOG",
    "DEMO_APPLICANT",
    "DEMO_APPLICANT_2",
    "DEMO_KIOSK_ID",
    "DEMO_PASSWORD",
    "DEMO_USERNAME",
    "FAULT_CODES",
    "BackOffice",
    "Fault",
    "FaultSwitch",
    "PlatformSim",
    "RequestRecord",
    "SimCase",
    "SimTicket",
    "SimUser",
    "cli_main",
]


def cli_main(argv: list[str]) -> int:
    """``kiosk sim platform [--port N] [--user U] [--kiosk-id K] [--tls-cert PEM [--tls-key PEM]]``: serve until Ctrl-C."""
    p = argparse.ArgumentParser(
        prog="kiosk sim platform", description="Run the provincial platform simulator on 127.0.0.1."
    )
    p.add_argument("--port", type=int, default=8088, help="TCP port on 127.0.0.1 (0: any free one)")
    p.add_argument("--user", default=DEMO_USERNAME, help="the platform user the kiosk logs in as")
    p.add_argument(
        "--password-env",
        default="KIOSK_PLATFORM_PASSWORD",
        help="environment variable holding that user's password (unset: the demo password)",
    )
    p.add_argument(
        "--kiosk-id", action="append", default=None, help="a kiosk id registered to the user (repeatable)"
    )
    p.add_argument("--no-demo-data", action="store_true", help="start with no cases")
    p.add_argument(
        "--tls-cert",
        metavar="PEM",
        help="serve HTTPS with this certificate chain (its key too, "
        "unless --tls-key names another file); point the kiosk's platform.ca_file at its CA",
    )
    p.add_argument("--tls-key", metavar="PEM", help="the private key of --tls-cert")
    p.add_argument(
        "--platform-version",
        choices=("1.1", "1.0"),
        default="1.1",
        help="1.1: the upgraded platform (answers a request without interfaceVersion as 1.0); "
        "1.0: a province that has not upgraded",
    )
    p.add_argument(
        "--manual",
        action="store_true",
        help="tickets and 差评 move only when the back office moves them (default: within seconds)",
    )
    args = p.parse_args(argv)
    if args.tls_key and not args.tls_cert:
        p.error("--tls-key needs --tls-cert")
    password = os.environ.get(args.password_env) or DEMO_PASSWORD
    kiosks = args.kiosk_id or [DEMO_KIOSK_ID]
    logging.getLogger(__name__).warning("SIMULATED provincial platform: not the real service")
    try:  # construction loads the certificate and key; binding the port comes after, with its own errors
        sim = PlatformSim(
            port=args.port,
            users={args.user: (password, kiosks)},
            seed_demo=not args.no_demo_data,
            tls_cert=args.tls_cert,
            tls_key=args.tls_key,
            platform_version=args.platform_version,
            auto_advance=not args.manual,
        )
    except (OSError, ssl.SSLError) as err:  # a missing file, or a key that does not match the certificate
        p.error(
            f"cannot serve HTTPS with --tls-cert {args.tls_cert} / --tls-key {args.tls_key or '(in the cert file)'}: {err}"
        )
    sim.start()
    print(f"platform simulator on {sim.url} (WSDL: {sim.url}?wsdl)")
    print(
        f"user {args.user!r}, kiosk id(s) {', '.join(kiosks)}; password from ${args.password_env}"
        f"{'' if os.environ.get(args.password_env) else ' (unset: the demo password)'}"
    )
    print(
        "demo applicant: ID 110105********1232 (张*), cases:",
        ", ".join(f"{c.number} {c.status}" for c in sim.backoffice.cases_of(DEMO_APPLICANT.id_number)),
    )
    print("Ctrl-C to stop.", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        sim.stop()
    return 0
