"""The diagnostics report: checks with a state, a one-line finding and a hint; pure, so the core and heartbeat can use it.

The JSON form (``Report.to_json``) is a documented, stable interface
(``docs/diag-json.md``): fields are only ever added, never renamed or removed,
and a breaking change bumps ``SCHEMA_VERSION``.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

from kiosk.platform_models import DeviceHealth

SCHEMA_VERSION = 1
Status = Literal["OK", "DEGRADED", "FAULT"]
Area = Literal["card", "lockboards", "platform", "printer", "storage", "system"]
STATUSES: tuple[Status, ...] = get_args(Status)
AREAS: tuple[Area, ...] = get_args(Area)
_RANK: dict[str, int] = {"OK": 0, "DEGRADED": 1, "FAULT": 2}
EXIT_CODES: dict[str, int] = {"OK": 0, "DEGRADED": 1, "FAULT": 2}
# Platform transport checks are not sent as device health: a heartbeat that arrives proves them.
_NOT_A_DEVICE = frozenset({"platform.dns", "platform.tcp", "platform.tls", "platform.soap"})
_DETAIL_MAX = 200


def worst(statuses: Iterable[str]) -> Status:
    """The most severe of ``statuses`` (OK when empty)."""
    top: Status = "OK"
    for s in statuses:
        if _RANK[s] > _RANK[top]:
            top = s  # type: ignore[assignment]  # validated by _RANK lookup
    return top


@dataclass
class Check:
    """One finding: ``id`` is stable and dotted (``storage.audit``, ``lockboards.CAB-01.board.0``)."""

    id: str
    area: Area
    title: str
    status: Status
    finding: str
    hint: str = ""
    device: str | None = None  # the heartbeat device this check speaks for; None: not a device
    data: dict[str, Any] = field(default_factory=dict)
    duration_ms: float = 0.0
    waited_s: float = 0.0  # configured timeouts this check sat through (a silent board, a refused port)

    def __post_init__(self) -> None:
        if self.status not in _RANK:
            raise ValueError(f"check {self.id}: status must be one of {STATUSES}, got {self.status!r}")
        if self.area not in AREAS:
            raise ValueError(f"check {self.id}: area must be one of {AREAS}, got {self.area!r}")
        # A finding is one line on the technician's screen.
        self.finding = " ".join(self.finding.split())

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "area": self.area,
            "title": self.title,
            "status": self.status,
            "finding": self.finding,
            "hint": self.hint,
            "device": self.device,
            "data": self.data,
            "duration_ms": round(self.duration_ms, 1),
            "waited_s": round(self.waited_s, 3),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Check:
        return cls(
            id=d["id"],
            area=d["area"],
            title=d["title"],
            status=d["status"],
            finding=d["finding"],
            hint=d.get("hint", ""),
            device=d.get("device"),
            data=dict(d.get("data") or {}),
            duration_ms=float(d.get("duration_ms", 0.0)),
            waited_s=float(d.get("waited_s", 0.0)),
        )


@dataclass
class Report:
    """Every check of one diagnostics run."""

    kiosk_id: str
    software_version: str
    started_at: dt.datetime
    areas: tuple[Area, ...] = AREAS
    checks: list[Check] = field(default_factory=list)
    duration_ms: float = 0.0
    simulated: tuple[str, ...] = ()

    @property
    def status(self) -> Status:
        return worst(c.status for c in self.checks)

    @property
    def exit_code(self) -> int:
        """0 all OK, 1 any DEGRADED, 2 any FAULT."""
        return EXIT_CODES[self.status]

    @property
    def waited_s(self) -> float:
        return sum(c.waited_s for c in self.checks)

    def counts(self) -> dict[str, int]:
        out = dict.fromkeys(STATUSES, 0)
        for c in self.checks:
            out[c.status] += 1
        return out

    def by_area(self) -> dict[str, list[Check]]:
        """Checks grouped by area, in the areas' fixed order (only the areas that ran)."""
        return {a: [c for c in self.checks if c.area == a] for a in self.areas}

    def get(self, check_id: str) -> Check:
        for c in self.checks:
            if c.id == check_id:
                return c
        raise KeyError(check_id)

    def problems(self) -> list[Check]:
        return [c for c in self.checks if c.status != "OK"]

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": "hall-kiosk/diag",
            "schema_version": SCHEMA_VERSION,
            "kiosk_id": self.kiosk_id,
            "software_version": self.software_version,
            "started_at": self.started_at.astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
            "duration_ms": round(self.duration_ms, 1),
            "status": self.status,
            "exit_code": self.exit_code,
            "counts": self.counts(),
            "areas": list(self.areas),
            "simulated": list(self.simulated),
            "checks": [c.to_dict() for c in self.checks],
        }

    def to_json(self, *, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=indent, default=str)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Report:
        if d.get("schema_version") != SCHEMA_VERSION:
            raise ValueError(
                f"diag report schema_version {d.get('schema_version')!r} is not {SCHEMA_VERSION}"
            )
        started = dt.datetime.fromisoformat(d["started_at"].replace("Z", "+00:00"))
        return cls(
            kiosk_id=d["kiosk_id"],
            software_version=d["software_version"],
            started_at=started,
            areas=tuple(d["areas"]),
            checks=[Check.from_dict(c) for c in d["checks"]],
            duration_ms=float(d["duration_ms"]),
            simulated=tuple(d.get("simulated", ())),
        )


def to_device_health(report: Report | Sequence[Check]) -> list[DeviceHealth]:
    """One DeviceHealth per device the checks speak for: its worst state, the worst check's finding as detail."""
    checks = report.checks if isinstance(report, Report) else list(report)
    by_device: dict[str, list[Check]] = {}
    for c in checks:
        if c.device and c.id not in _NOT_A_DEVICE:
            by_device.setdefault(c.device, []).append(c)
    out = []
    for name, cs in by_device.items():
        state = worst(c.status for c in cs)
        bad = [c for c in cs if c.status == state and state != "OK"]
        detail = "; ".join(c.finding for c in bad) if bad else None
        if detail and len(detail) > _DETAIL_MAX:
            detail = detail[: _DETAIL_MAX - 1] + "…"
        out.append(DeviceHealth(name=name, state=state, detail=detail))
    return out
