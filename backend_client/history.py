"""A zeep plugin keeping a bounded, redacted history of platform exchanges for diagnostics.

Nothing secret or personal survives into a record: the WS-Security header is
dropped whole (password digest, nonce), ID numbers, names and phone numbers
are masked, form values and pickup codes are replaced by their length, and
every text is passed through :func:`kiosk.privacy.scrub` as a last defence.
"""

from __future__ import annotations

import copy
import datetime as dt
import threading
from collections import deque

from lxml import etree
from zeep import Plugin

from backend_client.wsdl import NS, WSSE
from kiosk.platform_models import ExchangeRecord
from kiosk.privacy import mask_id_number, mask_name, mask_phone, scrub

MAX_XML_CHARS = 16_000  # one request or reply text
# The whole ring, in characters of XML. The record count alone let it grow from a few kB to 50 x 2 x 16,000
# characters (several MB: the CJK text makes each character two bytes) as replies got longer, e.g. a citizen's
# case list filling toward its 50 cases over months; the soak saw that as RSS rising for its first 500 sessions.
MAX_RING_CHARS = 200_000
_ID_TAGS = {f"{{{NS}}}idNumber", f"{{{NS}}}applicantIdNumber"}
_APPLICANT = f"{{{NS}}}applicant"
_SECRET_PARAMS = {"code"}  # NotifyApplicant params that must never be kept
# 1.1: free text a citizen wrote (ticket content, a rating's comment, the reply confirmation's comment) and the
# parts of a mail address below the district: kept as their length only.
_FREE_TEXT = {f"{{{NS}}}{n}" for n in ("content", "comment", "street", "detail", "postcode")}
_PHONE = f"{{{NS}}}phone"
_MAIL = f"{{{NS}}}mailAddress"


def _needs_redaction(doc: etree._Element) -> bool:
    """Whether anything in the envelope must be masked (most replies, e.g. the catalog, hold nothing)."""
    return (
        next(
            doc.iter(
                f"{{{WSSE}}}Security", _APPLICANT, *_ID_TAGS, f"{{{NS}}}value", *_FREE_TEXT, _PHONE, _MAIL
            ),
            None,
        )
        is not None
    )


def redact(envelope: etree._Element) -> str:
    """A redacted text copy of one SOAP envelope; the envelope itself is left untouched."""
    # Copy only when something is to be masked: the copy is most of this function's cost.
    doc = copy.deepcopy(envelope) if _needs_redaction(envelope) else envelope
    if doc is not envelope:
        for sec in doc.iter(f"{{{WSSE}}}Security"):
            sec.clear()
            sec.text = "[redacted]"
        for el in doc.iter(*_ID_TAGS):
            el.text = mask_id_number((el.text or "").strip())
        for app in doc.iter(_APPLICANT):
            for el in app:
                local = etree.QName(el).localname
                if local == "name":
                    el.text = mask_name(el.text or "")
                elif local == "phone":
                    el.text = mask_phone((el.text or "").strip())
        for el in doc.iter(*_FREE_TEXT):
            el.text = f"[redacted {len((el.text or '').strip())} chars]"
        for el in doc.iter(_PHONE):  # a ticket's callback number, a mail recipient's (masking is idempotent)
            el.text = mask_phone((el.text or "").strip())
        for mail in doc.iter(_MAIL):
            for el in mail.iter(f"{{{NS}}}recipient"):
                el.text = mask_name(el.text or "")
        # Form values (SubmitApplication/field) and notice params may hold personal data or the pickup code.
        for parent in doc.iter(f"{{{NS}}}field", f"{{{NS}}}param"):
            key = parent.findtext(f"{{{NS}}}key") or ""
            value = parent.find(f"{{{NS}}}value")
            if value is not None and (parent.tag.endswith("}field") or key in _SECRET_PARAMS):
                value.text = f"[redacted {len(value.text or '')} chars]"
    text = etree.tostring(doc, encoding="unicode")
    if len(text) > MAX_XML_CHARS:
        text = text[:MAX_XML_CHARS] + "...[truncated]"
    return scrub(text)


def _chars(rec: ExchangeRecord) -> int:
    return len(rec.request_xml) + len(rec.reply_xml)


class ExchangeHistory(Plugin):
    """Records each exchange of the calling thread; finished records go into a ring bounded by count and by
    characters (the newest record is always kept)."""

    def __init__(self, maxlen: int = 50, max_chars: int = MAX_RING_CHARS) -> None:
        self._ring: deque[ExchangeRecord] = deque()
        self._maxlen = maxlen
        self._max_chars = max_chars
        self._chars = 0  # the ring's characters of XML, kept as records come and go
        self._lock = threading.Lock()
        self._local = threading.local()

    def begin(self, operation: str, request_id: str | None, started_at: dt.datetime) -> ExchangeRecord:
        """Start a record for the call this thread is about to make."""
        rec = ExchangeRecord(
            operation=operation,
            request_id=request_id,
            started_at=started_at,
            duration_ms=0.0,
            outcome="pending",
        )
        self._local.current = rec
        return rec

    def finish(self, rec: ExchangeRecord, outcome: str, duration_ms: float, **extra: str) -> None:
        """Close a record with its outcome and keep it."""
        rec.outcome = outcome
        rec.duration_ms = round(duration_ms, 3)
        rec.extra.update({k: scrub(v) for k, v in extra.items()})
        self._local.current = None
        with self._lock:
            self._ring.append(rec)
            self._chars += _chars(rec)
            while len(self._ring) > 1 and (len(self._ring) > self._maxlen or self._chars > self._max_chars):
                self._chars -= _chars(self._ring.popleft())

    def sent(self) -> bool:
        """Whether the current call got as far as building its envelope (zeep validated it)."""
        rec = getattr(self._local, "current", None)
        return rec is not None and bool(rec.request_xml)

    def egress(self, envelope, http_headers, operation, binding_options):
        rec = getattr(self._local, "current", None)
        if rec is not None:
            rec.request_xml = redact(envelope)
        return envelope, http_headers

    def ingress(self, envelope, http_headers, operation):
        rec = getattr(self._local, "current", None)
        if rec is not None:
            rec.reply_xml = redact(envelope)
        return envelope, http_headers

    def records(self) -> list[ExchangeRecord]:
        """The kept records, oldest first."""
        with self._lock:
            return list(self._ring)

    def size_chars(self) -> int:
        """Characters of XML the ring holds now (at most ``max_chars``, or one record's)."""
        with self._lock:
            return self._chars
