"""Typed flow data: one dataclass per flow kind, plus what every flow may carry (its door-left-open task and
its stored result). ``Flow.data`` stays one JSON column (same keys as before, so no migration), but it is read
and written only here, through :func:`load` and :func:`save`; nothing else looks at its keys."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from kiosk.cabinet import states as S
from kiosk.storage.models import Flow

Down = tuple[str, int | None]  # (cabinet id, board); board None: the cabinet's whole bus


@dataclass(frozen=True)
class DepositData:
    size: str = "S"
    case_number: str | None = None
    tried: tuple[str, ...] = ()  # labels whose door failed in this flow, in order
    down: tuple[Down, ...] = ()  # boards found dead in this flow: not tried again


@dataclass(frozen=True)
class DropoffData:
    size: str = "S"
    tried: tuple[str, ...] = ()
    down: tuple[Down, ...] = ()


@dataclass(frozen=True)
class PickupData:
    via: str | None = None  # "code" or "identity"
    prev_state: str = S.READY


@dataclass(frozen=True)
class CollectData:
    prev_state: str = S.ATTENTION  # the parcel's state before the collect (restored if nothing left)


@dataclass(frozen=True)
class TechOpenData:
    parcel: int | None = None  # the parcel inside when one door was opened
    all_board: int | None = None  # the board of an open-all


KindData = DepositData | DropoffData | PickupData | CollectData | TechOpenData
_KIND: dict[str, type[Any]] = {
    S.DEPOSIT: DepositData,
    S.DROPOFF_FLOW: DropoffData,
    S.PICKUP: PickupData,
    S.COLLECT: CollectData,
    S.TECH_OPEN: TechOpenData,
}
_JSON_KEY = {"all_board": "all"}  # field -> JSON key where an older name is kept


@dataclass(frozen=True)
class StoredResult:
    """What a finished flow's result was (never a code), for a later poll."""

    outcome: str = ""
    label: str = ""
    expires_at: str | None = None
    receipt_number: str | None = None
    task_id: int | None = None
    item_present: bool | None = None


@dataclass(frozen=True)
class FlowData:
    of_kind: KindData
    left_open_task: int | None = None
    result: StoredResult | None = None

    def with_kind(self, **changes: Any) -> FlowData:
        return dataclasses.replace(self, of_kind=dataclasses.replace(self.of_kind, **changes))


def for_kind(kind: str, **fields: Any) -> FlowData:
    """A new flow's data."""
    return FlowData(_KIND[kind](**fields))


def from_json(kind: str, raw: dict[str, Any] | None) -> FlowData:
    raw = raw or {}
    cls = _KIND[kind]
    fields: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        key = _JSON_KEY.get(f.name, f.name)
        if key in raw:
            v = raw[key]
            if f.name == "tried":
                v = tuple(v)
            elif f.name == "down":
                v = tuple((c, b) for c, b in v)
            fields[f.name] = v
    res = raw.get("result")
    result = (
        StoredResult(
            **{
                k: res.get(k)
                for k in ("outcome", "label", "expires_at", "receipt_number", "task_id", "item_present")
            }
        )
        if res
        else None
    )
    return FlowData(cls(**fields), raw.get("left_open_task"), result)


def to_json(data: FlowData) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in dataclasses.fields(data.of_kind):
        v = getattr(data.of_kind, f.name)
        out[_JSON_KEY.get(f.name, f.name)] = (
            [list(x) for x in v] if f.name == "down" else list(v) if f.name == "tried" else v
        )
    if data.left_open_task is not None:
        out["left_open_task"] = data.left_open_task
    if data.result is not None:
        out["result"] = {k: v for k, v in dataclasses.asdict(data.result).items() if v is not None}
    return out


def load(flow: Flow) -> FlowData:
    return from_json(flow.kind, flow.data)


def save(flow: Flow, data: FlowData) -> None:
    flow.data = to_json(data)  # a new dict: JSON columns do not track in-place changes


def of(flow: Flow, cls: type[Any]) -> Any:
    """The flow's own kind data, checked to be ``cls`` (a pickup's PickupData, ...)."""
    data = load(flow).of_kind
    if not isinstance(data, cls):
        raise TypeError(f"flow {flow.id} is a {flow.kind}, its data is not {cls.__name__}")
    return data
