"""The ports: small interfaces the core needs from the outside world.

Drivers (``drivers/``) and the platform client (``backend_client/``) implement
them; the core depends only on these. Errors crossing a port are always
subclasses of :class:`kiosk.errors.KioskError`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Generic, Literal, Protocol, TypeVar, runtime_checkable

from kiosk.identity import Identity
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
    DeviceState,
    Evaluation,
    EvaluationSummary,
    HeartbeatResult,
    HotlineTicket,
    MailAddress,
    NoticeTemplate,
    SubmitResult,
    Ticket,
    TicketReceipt,
)

P = TypeVar("P")
S = TypeVar("S")


@dataclass(frozen=True)
class Built(Generic[P, S]):
    """What a part's builder hands the composition root: the part, and the simulator behind it (None on real
    hardware). The simulator is the demo's hands and the technician's fault switches; the part never carries it."""

    part: P
    sim: S | None = None


# --- lock boards -------------------------------------------------------------
@dataclass(frozen=True)
class DoorStatus:
    """What a board reports for one channel, already translated by the site's polarity settings."""

    board: int
    channel: int
    closed: bool
    item_present: bool | None = None  # None: this board has no item sensor


@runtime_checkable
class LockBus(Protocol):
    """One RS-485 bus with its boards. Thread-safe: one request at a time."""

    def open(self, board: int, channel: int) -> DoorStatus:
        """Unlock and confirm the door reads open; raises OpenNotDetected / LockBoardTimeout / LockBoardFrameError."""
        ...

    def door_state(self, board: int, channel: int) -> DoorStatus: ...

    def board_state(self, board: int) -> Mapping[int, DoorStatus]:
        """Every channel of one board, in one request on the wire."""
        ...

    def scan(
        self, addresses: Iterable[int], *, timeout_s: float | None = None, retries: int | None = None
    ) -> list[int]:
        """The addresses among ``addresses`` that answer (timeout and retries default to the bus settings)."""
        ...

    def close(self) -> None: ...


# --- card readers ------------------------------------------------------------
CardEventKind = Literal["inserted", "identified", "badge", "removed", "error", "reader_lost", "reader_back"]


@dataclass
class CardEvent:
    """A card reader event delivered to the core (from a driver thread)."""

    kind: CardEventKind
    reader: str
    identity: Identity | None = None  # for "identified"
    badge_uid: str | None = None  # for "badge": a staff badge's UID, hex upper case
    error: Exception | None = None  # a KioskError for "error"
    read_ms: float | None = None


@runtime_checkable
class CardReader(Protocol):
    """A reader that reports card events; it owns its own watcher thread."""

    name: str

    def start(self, on_event: Callable[[CardEvent], None]) -> None: ...

    def stop(self) -> None: ...

    def is_present(self) -> bool:
        """Whether the reader itself is reachable now (not whether a card is in it)."""
        ...

    def close(self) -> None:
        """Stop for good and release the device (and a simulator the reader runs on)."""
        ...


# --- provincial platform -----------------------------------------------------
@runtime_checkable
class Platform(Protocol):
    """The provincial platform. Raises PlatformRejected / PlatformUnavailable / PlatformAuthFailed; what needs
    interface 1.1 raises PlatformFeatureUnavailable on a kiosk pinned to 1.0 (``v11`` False), nothing sent."""

    v11: bool
    last_answer_at: dt.datetime | None  # when the platform last answered (a fault counts), in this process

    def get_matter_catalog(self, region_code: str | None = None) -> Catalog: ...

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
    ) -> SubmitResult: ...

    def query_cases(
        self, *, case_number: str | None = None, applicant_id_number: str | None = None
    ) -> list[CaseSummary]: ...

    def get_delivery_ticket(self, case_number: str) -> DeliveryTicket: ...

    def report_delivery(
        self,
        request_id: str,
        case_number: str,
        event: DeliveryEvent,
        cabinet_id: str,
        compartment: str,
        occurred_at: dt.datetime,
    ) -> Ack: ...

    def notify_applicant(
        self, request_id: str, case_number: str, template: NoticeTemplate, params: Mapping[str, str]
    ) -> Ack: ...

    def submit_evaluation(self, request_id: str, evaluation: Evaluation) -> str:
        """Returns the platform's evaluationId."""
        ...

    def heartbeat(self, software_version: str, devices: Sequence[DeviceHealth]) -> HeartbeatResult: ...

    # --- since 1.1 ---
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
    ) -> BundleResult: ...

    def submit_hotline_ticket(self, request_id: str, ticket: HotlineTicket) -> TicketReceipt: ...

    def query_tickets(
        self, *, ticket_number: str | None = None, applicant_id_number: str | None = None
    ) -> list[Ticket]: ...

    def query_evaluations(self, applicant_id_number: str) -> list[EvaluationSummary]: ...

    def confirm_evaluation_reply(
        self, request_id: str, evaluation_id: str, satisfied: bool, comment: str | None = None
    ) -> Ack: ...

    def request_assistance(
        self,
        topic: AssistTopic,
        *,
        case_number: str | None = None,
        matter_code: str | None = None,
        language: str | None = None,
    ) -> Assistance: ...


# --- receipt printer ---------------------------------------------------------
PaperState = Literal["ok", "near_end", "out"]


@dataclass(frozen=True)
class PrinterStatus:
    """What a printer reports about itself now, already judged: OK, DEGRADED (paper near its end) or FAULT."""

    state: DeviceState
    finding: str  # one line for the technician: what the printer said
    hint: str = ""  # what to do; empty when OK
    online: bool | None = None  # None: not known (the printer did not answer)
    paper: PaperState | None = None
    cover_open: bool | None = None
    raw: str = ""  # the status replies as the printer sent them, for diagnostics ("1:12 2:12 ...")


@runtime_checkable
class Printer(Protocol):
    """A receipt printer. Thread-safe: one job or status query at a time."""

    name: str

    def print_receipt(self, lines: Sequence[str], qr_data: str | None = None) -> None:
        """Print one receipt; raises PrinterError (a DeviceError, citizen key ``error.printer``) when it cannot."""
        ...

    def status(self) -> PrinterStatus:
        """Ask the printer now; an unreachable printer is a FAULT status, never an exception."""
        ...

    def close(self) -> None: ...


# --- voice -------------------------------------------------------------------
@dataclass(frozen=True)
class Clip:
    """Rendered speech: mono 16-bit signed little-endian PCM at ``rate`` Hz."""

    pcm: bytes
    rate: int

    @property
    def seconds(self) -> float:
        return len(self.pcm) / 2 / self.rate if self.rate else 0.0


@runtime_checkable
class SpeechEngine(Protocol):
    """Turns one piece of text into a clip, offline. Raises SpeechError when it cannot."""

    def render(self, text: str, lang: str, *, slow: bool = False) -> Clip: ...


@runtime_checkable
class AudioOut(Protocol):
    """Where clips are heard. ``play`` blocks until played (the voice calls it on its own thread);
    ``stop`` cuts the clip in progress short, from any thread."""

    name: str

    def play(self, clip: Clip) -> None: ...

    def stop(self) -> None: ...
