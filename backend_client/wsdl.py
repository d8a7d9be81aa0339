"""The shipped WSDL and its embedded XML schema, shared by the client and the simulator."""

from __future__ import annotations

import copy
import functools
import re
import threading
from pathlib import Path

from lxml import etree

WSDL_PATH = Path(__file__).with_name("kiosk-platform.wsdl")
NS = "urn:zwfw:kiosk:v1"
BINDING = f"{{{NS}}}KioskPlatformBinding"
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
_USERNAME_PROFILE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0"
PASSWORD_DIGEST = _USERNAME_PROFILE + "#PasswordDigest"  # a token type URI, not a password
OPERATIONS_V10 = (
    "GetMatterCatalog",
    "SubmitApplication",
    "QueryCases",
    "GetDeliveryTicket",
    "ReportDelivery",
    "NotifyApplicant",
    "SubmitEvaluation",
    "Heartbeat",
)
OPERATIONS_V11 = (
    "SubmitBundle",
    "SubmitHotlineTicket",
    "QueryTickets",
    "QueryEvaluations",
    "ConfirmEvaluationReply",
    "RequestAssistance",
)
OPERATIONS = OPERATIONS_V10 + OPERATIONS_V11

_XS = "http://www.w3.org/2001/XMLSchema"
_WSDL = "http://schemas.xmlsoap.org/wsdl/"
# One validator per process; its error log is per instance, so validation is serialised.
_lock = threading.Lock()


def wsdl_bytes() -> bytes:
    """The WSDL exactly as shipped in the package."""
    return WSDL_PATH.read_bytes()


def schema_of(wsdl: bytes) -> etree.XMLSchema:
    """An lxml XMLSchema built from a WSDL's embedded xs:schema."""
    doc = etree.fromstring(wsdl)
    embedded = doc.find(f"{{{_WSDL}}}types/{{{_XS}}}schema")
    if embedded is None:  # a broken package, not a run-time condition
        raise RuntimeError(f"{WSDL_PATH}: no embedded xs:schema")
    # Re-root it with the in-scope prefixes: QName values like "tns:KioskId" need them.
    root = etree.Element(embedded.tag, attrib=dict(embedded.attrib), nsmap=embedded.nsmap)
    for child in embedded:
        root.append(copy.deepcopy(child))
    return etree.XMLSchema(etree.ElementTree(root))


@functools.cache
def schema() -> etree.XMLSchema:
    """The shipped WSDL's schema (built once per process)."""
    return schema_of(wsdl_bytes())


def violations(sch: etree.XMLSchema, element: etree._Element) -> list[tuple[str, str]]:
    """(element local name, message) for each violation of `sch` by one global element; empty if valid."""
    with _lock:  # an XMLSchema's error_log belongs to its last validate(): one validation at a time
        if sch.validate(element):
            return []
        log = list(sch.error_log)
    out = []
    for err in log:
        msg = err.message
        name = msg.split("'", 2)[1] if msg.startswith("Element '") else ""
        out.append((etree.QName(name).localname if name else "", msg))
    return out


def schema_errors(element: etree._Element) -> list[tuple[str, str]]:
    """(element local name, message) for each violation of the shipped schema; empty if valid."""
    return violations(schema(), element)


_EXPECTED = re.compile(r"Expected is (?:one of )?\( ([^)]*) \)")


def schema_problems(element: etree._Element) -> list[tuple[str, str, str]]:
    """(dotted path, local name, message) for each schema violation, the way 1.1 names them in INVALID_FIELD.

    The path runs from the request element down, without it and without namespaces or positions:
    ``header.requestId``, ``mailAddress.phone``; a missing child is named as the child (``mailAddress.detail``).
    """
    sch = schema()
    with _lock:
        if sch.validate(element):
            return []
        log = list(sch.error_log)
    out = []
    for err in log:
        parts = [re.sub(r"\[\d+\]$", "", s).split(":")[-1] for s in (err.path or "").split("/") if s]
        parts = parts[1:]  # the operation's own element
        msg = err.message
        if "Missing child element" in msg:
            m = _EXPECTED.search(msg)
            if m:  # several may be listed (optional ones first): the last is the one required
                parts.append(etree.QName(m.group(1).split(",")[-1].strip()).localname)
        out.append((".".join(parts), parts[-1] if parts else "", msg))
    return out
