"""Run-time fault injection for the platform simulator."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Literal

FaultKind = Literal["slow", "reset", "http500", "garbage", "invalid", "platform"]
FAULT_CODES = (
    "AUTH_FAILED",
    "INVALID_FIELD",
    "UNKNOWN_MATTER",
    "UNKNOWN_CASE",
    "CONFLICT",
    "RATE_LIMITED",
    "MAINTENANCE",
    "INTERNAL",
    "UNKNOWN_BUNDLE",
    "UNKNOWN_TICKET",
    "UNKNOWN_EVALUATION",
    "NOT_ELIGIBLE",
)  # the last four: 1.1


@dataclass(eq=False)
class Fault:
    """One armed fault: what to do, to which operation, how many more times (None: until cleared)."""

    kind: FaultKind
    operation: str | None = None
    times: int | None = 1
    delay_s: float = 0.0
    code: str = ""
    message: str = ""
    field: str | None = None
    retry_after_s: int | None = None
    # Whether the request is carried out before the fault shows: a reply lost after the work was done.
    after_processing: bool = False
    status: int = 500  # http500: the HTTP status
    empty: bool = False  # http500: no body at all instead of an HTML page


class FaultSwitch:
    """Faults armed from tests or the CLI; the server takes the first that matches each request."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._armed: list[Fault] = []

    def arm(self, fault: Fault) -> Fault:
        """Arm a fault; returns it (for disarm)."""
        if fault.kind == "platform" and fault.code not in FAULT_CODES:
            raise ValueError(f"unknown PlatformFault code {fault.code!r}; one of {', '.join(FAULT_CODES)}")
        with self._lock:
            self._armed.append(fault)
        return fault

    def slow(self, delay_s: float, *, times: int | None = 1, operation: str | None = None) -> Fault:
        """Answer after delay_s; the request itself is carried out first (the client may time out)."""
        return self.arm(Fault("slow", operation, times, delay_s=delay_s, after_processing=True))

    def reset(
        self, *, times: int | None = 1, operation: str | None = None, after_processing: bool = False
    ) -> Fault:
        """Drop the TCP connection with a RST instead of answering."""
        return self.arm(Fault("reset", operation, times, after_processing=after_processing))

    def http500(
        self,
        *,
        times: int | None = 1,
        operation: str | None = None,
        after_processing: bool = False,
        status: int = 500,
        empty: bool = False,
    ) -> Fault:
        """Answer with an HTML error page (or, with empty, no body) as a broken gateway does."""
        return self.arm(
            Fault("http500", operation, times, after_processing=after_processing, status=status, empty=empty)
        )

    def garbage(
        self, *, times: int | None = 1, operation: str | None = None, after_processing: bool = False
    ) -> Fault:
        """Answer 200 with a body that is not XML."""
        return self.arm(Fault("garbage", operation, times, after_processing=after_processing))

    def invalid_reply(
        self, *, times: int | None = 1, operation: str | None = None, after_processing: bool = False
    ) -> Fault:
        """Answer 200 with a well-formed SOAP reply that breaks the WSDL's schema."""
        return self.arm(Fault("invalid", operation, times, after_processing=after_processing))

    def platform_fault(
        self,
        code: str,
        *,
        times: int | None = 1,
        operation: str | None = None,
        message: str = "",
        field: str | None = None,
        retry_after_s: int | None = None,
    ) -> Fault:
        """Answer with a SOAP Fault carrying this PlatformFault code (nothing is carried out)."""
        if retry_after_s is None and code in ("RATE_LIMITED", "MAINTENANCE"):
            retry_after_s = 30
        return self.arm(
            Fault(
                "platform",
                operation,
                times,
                code=code,
                message=message or f"simulated {code}",
                field=field,
                retry_after_s=retry_after_s,
            )
        )

    def clear(self) -> None:
        """Disarm every fault."""
        with self._lock:
            self._armed.clear()

    def disarm(self, fault: Fault) -> None:
        with self._lock:
            if fault in self._armed:
                self._armed.remove(fault)

    def armed(self) -> list[Fault]:
        with self._lock:
            return list(self._armed)

    def take(self, operation: str) -> Fault | None:
        """The fault for this request, if any, counting it down."""
        with self._lock:
            for f in self._armed:
                if f.operation in (None, operation):
                    if f.times is not None:
                        f.times -= 1
                        if f.times <= 0:
                            self._armed.remove(f)
                    return f
        return None
