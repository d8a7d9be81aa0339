"""The production platform client: zeep on the packaged WSDL, one session, mapped errors.

Failure model (kiosk-platform.md): a PlatformFault the kiosk must not retry
becomes :class:`PlatformRejected` (``AUTH_FAILED``: :class:`PlatformAuthFailed`);
anything transient (timeout, refused or reset connection, 5xx without a SOAP
body, an HTML page, an unreadable or schema-invalid reply, and the faults
``INTERNAL``, ``MAINTENANCE``, ``RATE_LIMITED``) becomes
:class:`PlatformUnavailable`, to be retried with the same requestId.

TLS certificates are always verified (kiosk-platform.md: "certificate
verification must stay on"); ``ca_file`` only chooses the CAs trusted. A refused
certificate is a PlatformUnavailable too (nothing was sent, so a retry is safe),
but its message says what was wrong and its hint names ``platform.ca_file``.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import logging
import os
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

import requests
import zeep
import zeep.exceptions as zx
from lxml import etree
from zeep.wsse import utils as wsse_utils
from zeep.wsse.username import UsernameToken

from backend_client import mapping
from backend_client.history import ExchangeHistory
from backend_client.tls import describe_cert_failure, find_cert_error
from backend_client.wsdl import BINDING, NS, SOAP_ENV, WSDL_PATH, schema_errors
from kiosk.clock import Clock, SystemClock
from kiosk.errors import (
    TRANSIENT_FAULT_CODES,
    ConfigError,
    PlatformAuthFailed,
    PlatformFeatureUnavailable,
    PlatformRejected,
    PlatformUnavailable,
)
from kiosk.platform_models import (
    Ack,
    Applicant,
    Assistance,
    Assistant,
    AssistTopic,
    BundleResult,
    CaseSummary,
    Catalog,
    DeliveryEvent,
    DeliveryMode,
    DeliveryTicket,
    DeviceHealth,
    Evaluation,
    EvaluationSummary,
    ExchangeRecord,
    HeartbeatResult,
    HotlineTicket,
    InterfaceVersion,
    MailAddress,
    NoticeTemplate,
    SubmitResult,
    Ticket,
    TicketReceipt,
)
from kiosk.privacy import scrub

log = logging.getLogger(__name__)

INTERFACE_VERSIONS: tuple[InterfaceVersion, ...] = ("1.0", "1.1")


class InvalidReply(Exception):
    """The reply parsed as XML but is not what the WSDL says (no body, wrong element, schema-invalid)."""


class ClockedUsernameToken(UsernameToken):
    """UsernameToken with PasswordDigest whose Created comes from the injected clock.

    zeep's own token already draws a fresh 16-byte nonce and a fresh Created per
    call when neither is fixed; this keeps that and only swaps the time source,
    so a kiosk whose clock is wrong shows exactly what the platform will see.
    """

    def __init__(self, username: str, password: str, clock: Clock) -> None:
        super().__init__(username, password, use_digest=True, zulu_timestamp=True)
        self._clock = clock

    def _create_password_digest(self) -> list[etree._Element]:
        nonce = os.urandom(16)  # fresh per attempt: the platform refuses a nonce it has seen
        created = wsse_utils.get_timestamp(self._clock.now(), zulu_timestamp=True)
        digest = base64.b64encode(hashlib.sha1(nonce + created.encode() + self.password.encode()).digest())  # noqa: S324 - WSS 1.0 mandates SHA-1
        return [
            wsse_utils.WSSE.Password(
                digest.decode("ascii"), Type=f"{self.username_token_profile_ns}#PasswordDigest"
            ),
            wsse_utils.WSSE.Nonce(
                base64.b64encode(nonce).decode("ascii"),
                EncodingType=f"{self.soap_message_secutity_ns}#Base64Binary",
            ),
            wsse_utils.WSU.Created(created),
        ]


class ReplyValidator(zeep.Plugin):
    """Checks every reply's body against the WSDL's schema before zeep maps it."""

    def ingress(self, envelope, http_headers, operation):
        body = envelope.find(f"{{{SOAP_ENV}}}Body")
        if body is None or len(body) == 0:
            raise InvalidReply(f"reply has no SOAP body (root {etree.QName(envelope).localname})")
        payload = body[0]
        if payload.tag == f"{{{SOAP_ENV}}}Fault":
            detail = payload.find("detail")
            payload = detail.find(f"{{{NS}}}PlatformFault") if detail is not None else None
            if payload is None:
                return envelope, http_headers  # a fault without our detail: mapped as unavailable later
        elif payload.tag != f"{{{NS}}}{operation.name}Response":
            raise InvalidReply(f"reply body is {payload.tag}, expected {operation.name}Response")
        errors = schema_errors(payload)
        if errors:
            raise InvalidReply(f"reply is not valid against the WSDL: {errors[0][1]}")
        return envelope, http_headers


class _PinnedTrustSession(requests.Session):
    """A session whose CA bundle is the client's alone.

    requests lets REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE override ``session.verify``
    when a call passes no ``verify`` (zeep passes none), so a variable left in a
    service unit would silently replace platform.ca_file. Here the session's
    setting always wins; it is never False.
    """

    def merge_environment_settings(self, url, proxies, stream, verify, cert):  # type: ignore[no-untyped-def]
        settings = super().merge_environment_settings(url, proxies, stream, verify, cert)
        settings["verify"] = self.verify
        return settings


class PlatformClient:
    """kiosk.ports.Platform over SOAP; built once at start-up, safe to share between threads."""

    simulated = False

    def __init__(
        self,
        endpoint: str,
        username: str,
        password: str,
        kiosk_id: str,
        *,
        timeout_s: float = 10,
        connect_timeout_s: float = 5,
        ca_file: str | None = None,
        clock: Clock | None = None,
        history_size: int = 50,
        interface_version: InterfaceVersion = "1.1",
    ) -> None:
        if interface_version not in INTERFACE_VERSIONS:
            raise ConfigError(
                f"platform.interface_version: {interface_version!r} is not one of "
                f"{', '.join(INTERFACE_VERSIONS)}"
            )
        self.endpoint = endpoint
        self.kiosk_id = kiosk_id
        self.interface_version: InterfaceVersion = interface_version
        self.last_answer_at: dt.datetime | None = (
            None  # the platform's last answer (a fault counts), this process
        )
        self._clock = clock or SystemClock()
        self._host = urlsplit(endpoint).hostname or endpoint
        self._ca_file = ca_file
        if ca_file and not (os.path.isfile(ca_file) and os.access(ca_file, os.R_OK)):
            raise ConfigError(
                f"platform.ca_file: {ca_file} is not a readable file",
                hint="Point platform.ca_file at the PEM file of the CA that issued the platform's certificate.",
            )
        self._session = _PinnedTrustSession()
        # Never False: verification stays on. True is requests' default bundle, the one tls.ca_bundle names.
        self._session.verify = ca_file or True
        self._tls_problem: str | None = (
            None  # the last certificate refusal logged, so a repeat is not re-logged
        )
        # operation_timeout goes straight to requests: (connect, read). zeep's default is no timeout at all.
        transport = zeep.Transport(
            session=self._session, timeout=timeout_s, operation_timeout=(connect_timeout_s, timeout_s)
        )
        self._history = ExchangeHistory(maxlen=history_size)
        settings = zeep.Settings(strict=True, forbid_dtd=True, forbid_entities=True, forbid_external=True)
        # A local path: zeep opens the file; nothing is fetched over the network.
        self._zeep = zeep.Client(
            str(WSDL_PATH),
            transport=transport,
            settings=settings,
            wsse=ClockedUsernameToken(username, password, self._clock),
            plugins=[self._history, ReplyValidator()],
        )
        self._service = self._zeep.create_service(BINDING, endpoint)

    def __repr__(self) -> str:  # the password is never part of any repr
        return f"PlatformClient(endpoint={self.endpoint!r}, kiosk_id={self.kiosk_id!r})"

    @property
    def v11(self) -> bool:
        """Whether this client speaks interface 1.1 (sends the header, may use what 1.1 added)."""
        return self.interface_version != "1.0"

    # --- the eight operations of 1.0 (with what 1.1 added to them) ---------------
    def get_matter_catalog(self, region_code: str | None = None) -> Catalog:
        """The simple matters kiosks may take, with their form fields."""
        return self._call("GetMatterCatalog", None, mapping.catalog, regionCode=region_code or None)

    def submit_application(
        self,
        request_id: str,
        applicant: Applicant,
        matter_code: str,
        fields: Mapping[str, str],
        delivery_mode: DeliveryMode,
        *,
        mail_address: MailAddress | None = None,
        assisted_by: Assistant | None = None,
    ) -> SubmitResult:
        """File an application; retry only with the same request_id. mail_address and assisted_by are 1.1."""
        self._require_v11("SubmitApplication.mailAddress", mail_address)
        self._require_v11("SubmitApplication.assistedBy", assisted_by)
        return self._call(
            "SubmitApplication",
            request_id,
            mapping.submit_result,
            applicant=_applicant(applicant),
            matterCode=matter_code,
            field=[{"key": k, "value": v} for k, v in fields.items()],
            deliveryMode=delivery_mode,
            mailAddress=_mail(mail_address),
            assistedBy=_assistant(assisted_by),
        )

    def query_cases(
        self, *, case_number: str | None = None, applicant_id_number: str | None = None
    ) -> list[CaseSummary]:
        """One case, or an applicant's cases (newest first, at most 50)."""
        if (case_number is None) == (applicant_id_number is None):
            raise ValueError("give exactly one of case_number and applicant_id_number")
        if case_number is not None:
            return self._call("QueryCases", None, mapping.cases, caseNumber=case_number)
        return self._call("QueryCases", None, mapping.cases, applicantIdNumber=applicant_id_number)

    def get_delivery_ticket(self, case_number: str) -> DeliveryTicket:
        """Whose result a finished LOCKER case is, so staff can put it in a compartment."""
        return self._call("GetDeliveryTicket", None, mapping.ticket, caseNumber=case_number)

    def report_delivery(
        self,
        request_id: str,
        case_number: str,
        event: DeliveryEvent,
        cabinet_id: str,
        compartment: str,
        occurred_at: dt.datetime,
    ) -> Ack:
        """Tell the platform a result was deposited, picked up, returned, or materials collected."""
        return self._call(
            "ReportDelivery",
            request_id,
            mapping.ack,
            caseNumber=case_number,
            event=event,
            cabinetId=cabinet_id,
            compartment=compartment,
            occurredAt=occurred_at,
        )

    def notify_applicant(
        self, request_id: str, case_number: str, template: NoticeTemplate, params: Mapping[str, str]
    ) -> Ack:
        """Ask the platform's SMS gateway to text the applicant."""
        return self._call(
            "NotifyApplicant",
            request_id,
            mapping.ack,
            caseNumber=case_number,
            template=template,
            param=[{"key": k, "value": v} for k, v in params.items()],
        )

    def submit_evaluation(self, request_id: str, evaluation: Evaluation) -> str:
        """Send a 好差评 rating; returns the platform's evaluationId. Neither case nor matter: the self-service;
        no applicant: anonymous (an applicant is 1.1)."""
        self._require_v11("SubmitEvaluation.applicant", evaluation.applicant)
        return self._call(
            "SubmitEvaluation",
            request_id,
            mapping.evaluation_id,
            caseNumber=evaluation.case_number,
            matterCode=evaluation.matter_code,
            rating=evaluation.rating,
            reason=list(evaluation.reasons),
            comment=evaluation.comment,
            applicant=_applicant(evaluation.applicant) if evaluation.applicant else None,
        )

    def heartbeat(self, software_version: str, devices: Sequence[DeviceHealth]) -> HeartbeatResult:
        """Liveness and device health; returns the server time and the catalog version."""
        return self._call(
            "Heartbeat",
            None,
            mapping.heartbeat,
            softwareVersion=software_version,
            device=[{"name": d.name, "state": d.state, "detail": d.detail} for d in devices],
        )

    # --- the six operations of 1.1 ------------------------------------------------
    def submit_bundle(
        self,
        request_id: str,
        applicant: Applicant,
        bundle_code: str,
        fields: Mapping[str, str],
        delivery_mode: DeliveryMode,
        *,
        mail_address: MailAddress | None = None,
        assisted_by: Assistant | None = None,
    ) -> BundleResult:
        """File a 一件事 bundle, all members or none; keys are shared keys or ``<matterCode>.<key>``."""
        self._require_v11("SubmitBundle")
        return self._call(
            "SubmitBundle",
            request_id,
            mapping.bundle_result,
            applicant=_applicant(applicant),
            bundleCode=bundle_code,
            field=[{"key": k, "value": v} for k, v in fields.items()],
            deliveryMode=delivery_mode,
            mailAddress=_mail(mail_address),
            assistedBy=_assistant(assisted_by),
        )

    def submit_hotline_ticket(self, request_id: str, ticket: HotlineTicket) -> TicketReceipt:
        """File a 12345 ticket (consultation, complaint, suggestion, praise, report)."""
        self._require_v11("SubmitHotlineTicket")
        return self._call(
            "SubmitHotlineTicket",
            request_id,
            mapping.ticket_receipt,
            kind=ticket.kind,
            applicant=_applicant(ticket.applicant) if ticket.applicant else None,
            phone=ticket.phone,
            content=ticket.content,
            caseNumber=ticket.case_number,
            matterCode=ticket.matter_code,
        )

    def query_tickets(
        self, *, ticket_number: str | None = None, applicant_id_number: str | None = None
    ) -> list[Ticket]:
        """One ticket, or an applicant's tickets (newest first, at most 50; content masked by the platform)."""
        self._require_v11("QueryTickets")
        if (ticket_number is None) == (applicant_id_number is None):
            raise ValueError("give exactly one of ticket_number and applicant_id_number")
        if ticket_number is not None:
            return self._call("QueryTickets", None, mapping.tickets, ticketNumber=ticket_number)
        return self._call("QueryTickets", None, mapping.tickets, applicantIdNumber=applicant_id_number)

    def query_evaluations(self, applicant_id_number: str) -> list[EvaluationSummary]:
        """An applicant's identified ratings with status and the department's reply (anonymous ones never)."""
        self._require_v11("QueryEvaluations")
        return self._call(
            "QueryEvaluations", None, mapping.evaluations, applicantIdNumber=applicant_id_number
        )

    def confirm_evaluation_reply(
        self, request_id: str, evaluation_id: str, satisfied: bool, comment: str | None = None
    ) -> Ack:
        """The citizen's answer to a department's reply to a 差评 (only for a REPLIED evaluation)."""
        self._require_v11("ConfirmEvaluationReply")
        return self._call(
            "ConfirmEvaluationReply",
            request_id,
            mapping.ack,
            evaluationId=evaluation_id,
            satisfied=satisfied,
            comment=comment,
        )

    def request_assistance(
        self,
        topic: AssistTopic,
        *,
        case_number: str | None = None,
        matter_code: str | None = None,
        language: str | None = None,
    ) -> Assistance:
        """Call for help (帮办) at the kiosk; the platform chooses the mode and names a hotline."""
        self._require_v11("RequestAssistance")
        return self._call(
            "RequestAssistance",
            None,
            mapping.assistance,
            topic=topic,
            caseNumber=case_number,
            matterCode=matter_code,
            language=language,
        )

    def _require_v11(self, what: str, value: object = True) -> None:
        """Refuse, before anything is sent, what a 1.0 platform would not understand."""
        if value is not None and value is not False and not self.v11:
            raise PlatformFeatureUnavailable(
                f"{what} needs interface 1.1; this kiosk is pinned to "
                f"{self.interface_version} (platform.interface_version)"
            )

    # --- diagnostics and lifetime ------------------------------------------------
    def history(self) -> list[ExchangeRecord]:
        """The recent exchanges, redacted, oldest first."""
        return self._history.records()

    def close(self) -> None:
        """Release the HTTP connections."""
        self._session.close()

    def __enter__(self) -> PlatformClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- the one call path -----------------------------------------------------
    def _call(
        self, operation: str, request_id: str | None, convert: Callable[[Any], Any], **params: Any
    ) -> Any:
        # Read operations are not queued, so each call is its own logical request.
        request_id = request_id or str(uuid.uuid4())
        header = {"kioskId": self.kiosk_id, "requestId": request_id, "sentAt": self._clock.now()}
        if self.v11:  # without it the platform answers as 1.0, and sends nothing a 1.0 kiosk cannot parse
            header["interfaceVersion"] = self.interface_version
        rec = self._history.begin(operation, request_id, self._clock.now())
        t0 = time.perf_counter()
        try:
            raw = getattr(self._service, operation)(header=header, **params)
            result = convert(raw)
        except Exception as err:
            mapped = self._map_error(operation, err)
            if isinstance(err, zx.Fault) and isinstance(mapped, PlatformRejected):
                self.last_answer_at = self._clock.now()  # a considered refusal is an answer too
            if isinstance(mapped, PlatformRejected):
                outcome = f"rejected:{mapped.code}"
            elif isinstance(mapped, PlatformUnavailable):
                outcome = f"unavailable:{type(err).__name__}"
            else:
                outcome = f"error:{type(err).__name__}"
            self._history.finish(rec, outcome, (time.perf_counter() - t0) * 1000, error=str(mapped))
            if mapped is err:
                raise
            raise mapped from err
        self._history.finish(rec, "ok", (time.perf_counter() - t0) * 1000)
        self._tls_problem = None
        self.last_answer_at = self._clock.now()
        return result

    def _map_error(self, operation: str, err: Exception) -> Exception:
        """The one place where a failure becomes PlatformRejected / PlatformAuthFailed / PlatformUnavailable."""
        if isinstance(err, zx.Fault):
            return _map_fault(err)
        if isinstance(err, requests.exceptions.SSLError):  # before ConnectionError, its base class
            return self._map_tls_error(operation, err)
        if isinstance(err, requests.Timeout):
            return PlatformUnavailable(
                f"{operation}: no reply from the platform in time ({type(err).__name__})"
            )
        if isinstance(err, requests.ConnectionError):
            return PlatformUnavailable(f"{operation}: cannot reach the platform: {_short(err)}")
        if isinstance(err, requests.RequestException):
            return PlatformUnavailable(f"{operation}: HTTP failure: {_short(err)}")
        if isinstance(err, zx.TransportError):
            return PlatformUnavailable(f"{operation}: HTTP {err.status_code} without a readable SOAP reply")
        if isinstance(err, (zx.Error, TypeError, ValueError)) and not self._history.sent():
            # zeep refused to build the request: a local bug or bad input, never worth a retry.
            return PlatformRejected("INVALID_FIELD", f"{operation}: request not sent: {scrub(str(err))}")
        if isinstance(err, (InvalidReply, mapping.ReplyShapeError, zx.Error, etree.LxmlError, ValueError)):
            return PlatformUnavailable(f"{operation}: unreadable reply: {_short(err)}")
        return err  # a programming error: let it surface as itself

    def _map_tls_error(self, operation: str, err: requests.exceptions.SSLError) -> PlatformUnavailable:
        cert_err = find_cert_error(err)
        if cert_err is None:  # a handshake that failed for another reason (protocol, plain HTTP on the port)
            return PlatformUnavailable(f"{operation}: TLS handshake with the platform failed: {_short(err)}")
        finding, hint = describe_cert_failure(cert_err, self._host, self._ca_file)
        mapped = PlatformUnavailable(f"{operation}: {finding}; nothing was sent", hint=hint)
        # Retried like an outage, but never silently: logged once per distinct problem, not on every attempt.
        if finding != self._tls_problem:
            self._tls_problem = finding
            log.warning("platform certificate refused: %s. %s", finding, hint)
        return mapped


def _applicant(a: Applicant) -> dict[str, Any]:
    return {"idType": a.id_type, "idNumber": a.id_number, "name": a.name, "phone": a.phone}


def _mail(m: MailAddress | None) -> dict[str, Any] | None:
    if m is None:
        return None
    return {
        "recipient": m.recipient,
        "phone": m.phone,
        "province": m.province,
        "city": m.city,
        "district": m.district,
        "street": m.street,
        "detail": m.detail,
        "postcode": m.postcode,
    }


def _assistant(a: Assistant | None) -> dict[str, Any] | None:
    if a is None:
        return None
    return {"staffId": a.staff_id, "mode": a.mode, "consentRecorded": a.consent_recorded}


def _short(err: Exception) -> str:
    return scrub(str(err))[:300]


def _map_fault(err: zx.Fault) -> Exception:
    detail = err.detail.find(f"{{{NS}}}PlatformFault") if err.detail is not None else None
    if detail is None:
        # A 5xx page or a fault from some proxy in between: not the platform's considered answer.
        return PlatformUnavailable(f"SOAP fault without PlatformFault detail: {_short(err)}")
    code = (detail.findtext(f"{{{NS}}}code") or "").strip()
    message = scrub(detail.findtext(f"{{{NS}}}message") or "")
    field = detail.findtext(f"{{{NS}}}field")
    retry_text = detail.findtext(f"{{{NS}}}retryAfterSeconds")
    retry_after = int(retry_text) if retry_text and retry_text.strip().lstrip("-").isdigit() else None
    if code == "AUTH_FAILED":
        log.warning("platform refused our credentials: %s", message)
        return PlatformAuthFailed(code, message, field=field)
    if code in TRANSIENT_FAULT_CODES:
        return PlatformUnavailable(f"platform {code}: {message}", retry_after_s=retry_after)
    return PlatformRejected(code, message, field=field, retry_after_s=retry_after)
