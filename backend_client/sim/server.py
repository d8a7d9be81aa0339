"""The platform simulator: a threaded WSGI server on loopback speaking the shipped WSDL, over HTTP or HTTPS.

Each POST goes through what the real platform does, in its order: parse,
WS-Security token, schema validation, kiosk ownership, idempotency by
requestId, then the operation. Faults armed on ``.faults`` come first, or
after the work when a reply is to be lost. Every request is recorded; over
HTTPS so is every failed handshake, so a test can tell "refused before anything
was sent" from "never connected".
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import socket
import socketserver
import ssl
import struct
import sys
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from wsgiref.handlers import SimpleHandler
from wsgiref.simple_server import ServerHandler, WSGIRequestHandler, WSGIServer

from lxml import etree

from backend_client.sim.backoffice import BackOffice
from backend_client.sim.faults import Fault, FaultSwitch
from backend_client.sim.operations import HANDLERS_V10, Ctx, SimFault
from backend_client.sim.operations_v11 import HANDLERS_V11
from backend_client.sim.security import AuthError, SimUser, TokenChecker, users_from
from backend_client.sim.v10 import errors_v10, wsdl_v10
from backend_client.wsdl import NS, SOAP_ENV, schema_problems, wsdl_bytes
from kiosk.bounded import append_bounded
from kiosk.clock import Clock, SystemClock
from kiosk.privacy import scrub

log = logging.getLogger(__name__)

DEMO_USERNAME = "kiosk-demo"
DEMO_PASSWORD = "demo-password-not-a-secret"  # noqa: S105 - the simulator's published demo account
DEMO_KIOSK_ID = "DEMO-HALL-01"
PATH = "/zwfw/kiosk/v1"
MAX_BODY = 1 << 20
IDEMPOTENCY_DAYS = 7  # the platform remembers each requestId this long (kiosk-platform.md)
IDEMPOTENCY_MEMORY = 100_000  # and, being a simulator, at most this many
REQUEST_LOG = 10_000  # requests() and tls_failures() keep the newest this many (a demo runs for months)
# Deterministic answers, replayed to a retry like a success.
STORED_FAULTS = frozenset(
    {
        "INVALID_FIELD",
        "UNKNOWN_MATTER",
        "UNKNOWN_CASE",
        "UNKNOWN_BUNDLE",
        "UNKNOWN_TICKET",
        "UNKNOWN_EVALUATION",
        "NOT_ELIGIBLE",
    }
)
HANDLERS = {**HANDLERS_V10, **HANDLERS_V11}
KNOWN_VERSIONS = ("1.0", "1.1")
HTML_500 = (
    b"<html><head><title>500 Internal Server Error</title></head><body>"
    b"<center><h1>500 Internal Server Error</h1></center><hr><center>nginx</center></body></html>"
)
GARBAGE = b"\x1f\x8b\x08\x00 not xml at all <<<"
HANDSHAKE_TIMEOUT_S = 10.0  # a client that connects and never says hello frees its thread after this

Reply = tuple[int, str, bytes]  # HTTP status, content type, body


@dataclass(frozen=True)
class RequestRecord:
    """What the simulator did with one POST."""

    at: dt.datetime
    operation: str
    request_id: str | None
    kiosk_id: str | None
    outcome: str  # "ok", "fault:CODE", "reset", "http500", "garbage", "replayed"


class _Reset(Exception):
    """Raised by the app to drop the connection with a TCP RST."""


class _Handler(ServerHandler):
    def handle_error(self) -> None:
        if isinstance(sys.exc_info()[1], _Reset):
            raise
        super().handle_error()

    def close(self) -> None:
        if self.status is None:  # nothing was sent (a reset): skip wsgiref's access log, which needs a status
            SimpleHandler.close(self)
        else:
            super().close()


class _RequestHandler(WSGIRequestHandler):
    def handle(self) -> None:
        # wsgiref's handle(), with our ServerHandler so an app can ask for a reset.
        self.raw_requestline = self.rfile.readline(65537)
        if len(self.raw_requestline) > 65536 or not self.parse_request():
            return
        handler = _Handler(self.rfile, self.wfile, self.get_stderr(), self.get_environ(), multithread=True)
        handler.request_handler = self
        try:
            handler.run(self.server.get_app())
        except _Reset:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.server.resets.add(self.connection)

    def log_message(self, format: str, *args: object) -> None:
        log.debug("sim http: " + format, *args)


class _Server(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(
        self,
        addr: tuple[str, int],
        tls: ssl.SSLContext | None = None,
        on_tls_failure: Callable[[str], None] = lambda why: None,
    ) -> None:
        self.resets: set[socket.socket] = set()
        self.on_tls_failure = on_tls_failure
        super().__init__(addr, _RequestHandler)
        if tls is not None:
            # Wrapping the listening socket makes accept() hand out TLS sockets. The handshake is left to
            # the request's own thread (finish_request) so a silent client cannot stall the accept loop.
            self.socket = tls.wrap_socket(self.socket, server_side=True, do_handshake_on_connect=False)

    def finish_request(self, request: socket.socket, client_address: object) -> None:  # type: ignore[override]
        if isinstance(request, ssl.SSLSocket):
            request.settimeout(HANDSHAKE_TIMEOUT_S)
            try:
                request.do_handshake()
            except (ssl.SSLError, OSError) as err:  # the client refused our certificate, or spoke plain HTTP
                log.info("sim: TLS handshake with %s failed: %s", client_address, err)
                self.on_tls_failure(str(err))
                return
            request.settimeout(None)
        super().finish_request(request, client_address)

    def server_bind(self) -> None:
        # HTTPServer.server_bind does a reverse DNS lookup (getfqdn); loopback needs none.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]
        self.setup_environ()

    def shutdown_request(self, request: socket.socket) -> None:  # type: ignore[override]
        if request in self.resets:
            self.resets.discard(request)
            request.close()  # no FIN first: with SO_LINGER 0 the close sends the RST
            return
        super().shutdown_request(request)


def envelope(payload: etree._Element) -> bytes:
    env = etree.Element(f"{{{SOAP_ENV}}}Envelope", nsmap={"soap": SOAP_ENV})
    etree.SubElement(env, f"{{{SOAP_ENV}}}Body").append(payload)
    return etree.tostring(env, xml_declaration=True, encoding="UTF-8")


def fault_reply(code: str, message: str, field: str | None = None, retry_after_s: int | None = None) -> Reply:
    """A SOAP 1.1 Fault carrying one PlatformFault, HTTP 500 as SOAP 1.1 wants."""
    side = "soap:Server" if code in ("INTERNAL", "MAINTENANCE", "RATE_LIMITED") else "soap:Client"
    f = etree.Element(f"{{{SOAP_ENV}}}Fault")
    etree.SubElement(f, "faultcode").text = side
    etree.SubElement(f, "faultstring").text = f"{code}: {message}"
    pf = etree.SubElement(etree.SubElement(f, "detail"), f"{{{NS}}}PlatformFault", nsmap={"tns": NS})
    for name, value in (
        ("code", code),
        ("message", message),
        ("field", field),
        ("retryAfterSeconds", retry_after_s),
    ):
        if value is not None:
            etree.SubElement(pf, f"{{{NS}}}{name}").text = str(value)
    return 500, "text/xml; charset=utf-8", envelope(f)


def _body_key(req: etree._Element) -> str:
    """What makes two requests "the same body": everything but header/sentAt (a retry is sent later)."""
    clone = etree.fromstring(etree.tostring(req))
    sent = clone.find(f"{{{NS}}}header/{{{NS}}}sentAt")
    if sent is not None:
        sent.getparent().remove(sent)
    return hashlib.sha256(etree.tostring(clone, method="c14n")).hexdigest()


class PlatformSim:
    """The simulated provincial platform on 127.0.0.1; ``start()`` it, call ``.url``, ``stop()`` it.

    With ``tls_cert`` (a PEM certificate chain; the key in it or in ``tls_key``)
    it serves HTTPS and ``.url`` is an https:// URL.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        users: Mapping[str, SimUser | tuple[str, Iterable[str]]] | None = None,
        *,
        clock: Clock | None = None,
        seed_demo: bool = True,
        tls_cert: str | os.PathLike[str] | None = None,
        tls_key: str | os.PathLike[str] | None = None,
        platform_version: str = "1.1",
        auto_advance: bool = False,
    ) -> None:
        if tls_key is not None and tls_cert is None:
            raise ValueError("tls_key without tls_cert")
        if platform_version not in KNOWN_VERSIONS:
            raise ValueError(f"platform_version must be one of {', '.join(KNOWN_VERSIONS)}")
        # "1.1": the upgraded platform (answers a request without header.interfaceVersion exactly as 1.0);
        # "1.0": a province that has not upgraded (the 1.0 schema: no 1.1 element or operation is understood).
        self.platform_version = platform_version
        self.host, self.port = host, port
        # Loaded now, so a bad certificate or key fails at construction rather than on the first connection.
        self.tls: ssl.SSLContext | None = None
        if tls_cert is not None:
            self.tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self.tls.load_cert_chain(tls_cert, tls_key)
        self._tls_failures: list[str] = []
        self.clock = clock or SystemClock()
        self.clock_offset_s = 0.0  # how far the platform's clock is off (serverTime and the token window)
        self.tokens = TokenChecker(users_from(users or {DEMO_USERNAME: (DEMO_PASSWORD, [DEMO_KIOSK_ID])}))
        self.faults = FaultSwitch()
        self.backoffice = BackOffice(self.now, seed_demo=seed_demo)
        if auto_advance:  # the test endpoint's pace: tickets and 差评 move along in seconds
            self.backoffice.auto_advance_s = {"assign": 5, "reply": 15, "close": 60, "rectify": 20}
        # Remembered per (kioskId, requestId): the same requestId from another kiosk is another request.
        self._seen: OrderedDict[tuple[str, str], tuple[str, Reply, dt.datetime]] = (
            OrderedDict()
        )  # oldest first
        self._records: list[RequestRecord] = []
        self._rec_lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # --- lifetime ---------------------------------------------------------------
    def start(self) -> PlatformSim:
        """Bind and serve in a background thread; returns self."""
        self._server = _Server((self.host, self.port), self.tls, self._tls_failed)
        self._server.set_app(self.app)
        self.port = self._server.server_address[1]
        self._stopping.clear()
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"platform-sim:{self.port}",
            daemon=True,
        )
        self._thread.start()
        log.info("platform simulator listening on %s", self.url)
        return self

    def stop(self) -> None:
        """Stop serving; slow replies in flight are cut short."""
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    close = stop

    def __enter__(self) -> PlatformSim:
        return self.start() if self._server is None else self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://{self.host}:{self.port}{PATH}"

    def now(self) -> dt.datetime:
        return self.clock.now() + dt.timedelta(seconds=self.clock_offset_s)

    # --- what it saw ---------------------------------------------------------------
    def requests(self) -> list[RequestRecord]:
        with self._rec_lock:
            return list(self._records)

    def count(self, operation: str | None = None, outcome: str | None = None) -> int:
        """How many requests matched (all, one operation, one outcome such as "ok" or "fault:CONFLICT")."""
        return sum(
            1 for r in self.requests() if operation in (None, r.operation) and outcome in (None, r.outcome)
        )

    def tls_failures(self) -> list[str]:
        """Why each failed TLS handshake failed (the client's alert as OpenSSL reports it), oldest first."""
        with self._rec_lock:
            return list(self._tls_failures)

    def _tls_failed(self, why: str) -> None:
        with self._rec_lock:
            append_bounded(self._tls_failures, why, REQUEST_LOG)

    def _record(self, op: str, rid: str | None, kiosk: str | None, outcome: str) -> None:
        with self._rec_lock:
            append_bounded(self._records, RequestRecord(self.now(), op, rid, kiosk, outcome), REQUEST_LOG)

    # --- WSGI -------------------------------------------------------------------------
    def app(self, environ: dict, start_response: Callable) -> list[bytes]:
        """The WSGI application (usable under any WSGI server)."""
        method = environ.get("REQUEST_METHOD", "GET")
        if method == "GET" and environ.get("QUERY_STRING", "").lower().startswith("wsdl"):
            status, ctype, body = 200, "text/xml; charset=utf-8", self._wsdl()
        elif method == "POST":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            status, ctype, body = self._post(environ["wsgi.input"].read(min(length, MAX_BODY)))
        else:
            status, ctype, body = 405, "text/plain", b"POST a SOAP 1.1 request, or GET ?wsdl\n"
        try:
            reason = HTTPStatus(status).phrase
        except ValueError:
            reason = "Error"
        start_response(f"{status} {reason}", [("Content-Type", ctype), ("Content-Length", str(len(body)))])
        return [body]

    def _wsdl(self) -> bytes:
        # The shipped WSDL (or, playing a 1.0 platform, 1.0's), pointing at this server instead of production.
        raw = wsdl_v10() if self.platform_version == "1.0" else wsdl_bytes()
        return raw.replace(b"https://platform.invalid/zwfw/kiosk/v1", self.url.encode())

    def _post(self, raw: bytes) -> Reply:
        try:
            env = etree.fromstring(
                raw, etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
            )
            req = env.find(f"{{{SOAP_ENV}}}Body")[0]  # type: ignore[index]
            op = etree.QName(req).localname
        except (etree.XMLSyntaxError, TypeError, IndexError, ValueError):
            self._record("?", None, None, "fault:INVALID_FIELD")
            return fault_reply("INVALID_FIELD", "not a SOAP 1.1 envelope with a body")
        known = HANDLERS_V10 if self.platform_version == "1.0" else HANDLERS
        if op not in known or etree.QName(req).namespace != NS:
            self._record(op, None, None, "fault:INVALID_FIELD")
            return fault_reply("INVALID_FIELD", f"unknown operation {op}")
        rid, kiosk = (
            req.findtext(f"{{{NS}}}header/{{{NS}}}requestId"),
            req.findtext(f"{{{NS}}}header/{{{NS}}}kioskId"),
        )
        fault = self.faults.take(op)
        if fault is not None and not fault.after_processing:
            self._record(op, rid, kiosk, self._outcome(fault))
            return self._injected(fault, op)
        reply, outcome = self._process(env, req, op)
        if fault is not None:
            if fault.kind == "slow":
                self._stopping.wait(fault.delay_s)
            else:
                outcome = self._outcome(fault)
                reply = self._injected(fault, op)
        self._record(op, rid, kiosk, outcome)
        return reply

    def _answers_v11(self, req: etree._Element) -> bool:
        """Whether to answer as 1.1: the request says 1.1 or higher (a higher one is served as the highest known)."""
        if self.platform_version == "1.0":
            return False
        text = (req.findtext(f"{{{NS}}}header/{{{NS}}}interfaceVersion") or "").strip()
        try:
            major, minor = (int(x) for x in text.split("."))
        except ValueError:
            return False  # absent (or, past the schema check, unreadable): 1.0
        return (major, minor) >= (1, 1)

    @staticmethod
    def _outcome(fault: Fault) -> str:
        return f"fault:{fault.code}" if fault.kind == "platform" else fault.kind

    def _injected(self, fault: Fault, op: str) -> Reply:
        if fault.kind == "slow":
            self._stopping.wait(fault.delay_s)
            return fault_reply("INTERNAL", "slow reply armed before processing")  # not reached via slow()
        if fault.kind == "reset":
            raise _Reset
        if fault.kind == "http500":
            return fault.status, "text/html", b"" if fault.empty else HTML_500
        if fault.kind == "garbage":
            return 200, "text/xml; charset=utf-8", GARBAGE
        if fault.kind == "invalid":
            bogus = etree.Element(f"{{{NS}}}{op}Response", nsmap={"tns": NS})
            etree.SubElement(bogus, f"{{{NS}}}unexpected").text = "not in the WSDL"
            return 200, "text/xml; charset=utf-8", envelope(bogus)
        return fault_reply(fault.code, fault.message, fault.field, fault.retry_after_s)

    def _process(self, env: etree._Element, req: etree._Element, op: str) -> tuple[Reply, str]:
        now = self.now()
        try:
            username = self.tokens.check(env, now)
        except AuthError as err:
            log.info("sim: refused token: %s", err)
            return fault_reply("AUTH_FAILED", str(err)), "fault:AUTH_FAILED"
        v11 = self._answers_v11(req)
        if self.platform_version == "1.0":
            problems = [(name, name, msg) for name, msg in errors_v10(req)]
        else:
            problems = schema_problems(req)
        if problems:
            path, name, message = problems[0]
            # 1.1 names a schema error by its dotted path (header.requestId), 1.0 by the element's own name.
            # Schema messages quote the offending value; scrub keeps ID numbers out of the reply.
            return (
                fault_reply("INVALID_FIELD", "schema: " + scrub(message), (path if v11 else name) or None),
                "fault:INVALID_FIELD",
            )
        kiosk = req.findtext(f"{{{NS}}}header/{{{NS}}}kioskId") or ""
        rid = req.findtext(f"{{{NS}}}header/{{{NS}}}requestId") or ""
        if not self.tokens.owns(username, kiosk):
            return fault_reply(
                "AUTH_FAILED", f"kiosk {kiosk} is not registered to this user"
            ), "fault:AUTH_FAILED"
        key = _body_key(req)
        with self.backoffice.lock:  # one request at a time through the state: no double case on a race
            horizon = now - dt.timedelta(days=IDEMPOTENCY_DAYS)
            while self._seen and next(iter(self._seen.values()))[2] < horizon:
                self._seen.popitem(last=False)
            seen = self._seen.get((kiosk, rid))
            if seen is not None:
                if seen[0] != key:
                    return fault_reply(
                        "CONFLICT", f"requestId {rid} was used with another body"
                    ), "fault:CONFLICT"
                return seen[1], "replayed"
            try:
                reply: Reply = (
                    200,
                    "text/xml; charset=utf-8",
                    envelope(HANDLERS[op](self.backoffice, req, Ctx(kiosk, username, now, v11))),
                )
                outcome = "ok"
            except SimFault as f:
                reply, outcome = fault_reply(f.code, f.message, f.field, f.retry_after_s), f"fault:{f.code}"
                if f.code not in STORED_FAULTS:
                    return reply, outcome
            self._seen[(kiosk, rid)] = (key, reply, now)
            if len(self._seen) > IDEMPOTENCY_MEMORY:
                self._seen.popitem(last=False)
        return reply, outcome
