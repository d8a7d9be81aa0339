"""Two cabinets each with an A01 (issue 11, item 4): labels are unique per cabinet, not per hall.

Deposits go into both A01s, each code opens its own cabinet's door, the pickup SMS names the cabinet, a bare
ambiguous label is refused naming both cabinets (core and CLI, one line), and CABINET:LABEL reaches one door."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from drivers.lockboard.sim import SimLockBoard
from kiosk.cabinet import AmbiguousCompartment, Cabinet
from kiosk.cabinet import states as S
from kiosk.cabinet.labels import shown
from kiosk.config import CabinetConfig, PickupConfig
from kiosk.outbox import payload_of
from kiosk.storage.db import Database
from kiosk.storage.models import Compartment, OutboxMessage
from tests.cabinet.cabinet_support import KIOSK_ID, SECRET, FakePlatform, case, make_bus, make_sim
from tests.conftest import init_kiosk
from tests.support.cli import run_cli
from tests.support.config import write_config

CABS = ("CAB-01", "CAB-02")


def _cab(cab_id: str, bus: str = "sim") -> dict[str, object]:
    return {
        "id": cab_id,
        "bus": bus,
        "family": "kerong-cu",
        "boards": [0],
        "reply_timeout_s": 0.3,
        "open_timeout_s": 0.4,
        "retries": 1,
        "close_timeout_s": 10,
        "compartments": [{"label": "A01", "size": "M", "board": 0, "channel": 1}],
    }


@pytest.fixture
def two(db: Database, clock) -> Iterator[tuple[Cabinet, dict[str, SimLockBoard]]]:
    cfgs = [CabinetConfig.model_validate(_cab(c)) for c in CABS]
    sims, buses = {}, {}
    for cfg in cfgs:
        sim, path = make_sim(cfg)
        sims[cfg.id], buses[cfg.id] = sim, make_bus(cfg, path)
    cab = Cabinet(
        db,
        buses,
        cfgs,
        PickupConfig(),
        clock,
        SECRET,
        KIOSK_ID,
        platform=FakePlatform(),
        close_poll_interval_s=0.02,
    )  # type: ignore[arg-type]
    cab.start()
    yield cab, sims
    for cab_id in CABS:
        buses[cab_id].close()
        sims[cab_id].stop()


def test_both_a01s_take_a_parcel_and_each_code_opens_its_own_door(
    two: tuple[Cabinet, dict[str, SimLockBoard]], db: Database
) -> None:
    cab, sims = two
    with db.transaction() as s:
        rows = s.execute(select(Compartment.cabinet_id, Compartment.label)).all()
    assert sorted(rows) == [("CAB-01", "A01"), ("CAB-02", "A01")]

    codes: dict[str, str] = {}
    for n in (1, 2):
        h = cab.start_deposit(case(n), actor="staff:7", size="M")
        assert h.label == "A01" and sims[h.cabinet_id].is_open(0, 1)
        sims[h.cabinet_id].put_item(0, 1)
        sims[h.cabinet_id].close_door(0, 1)
        r = cab.wait_closed(h)
        assert r.outcome == "deposited" and r.code
        codes[h.cabinet_id] = r.code
    assert set(codes) == set(CABS)  # one parcel in each cabinet's A01

    # The pickup SMS says which cabinet: "CAB-01 A01" and "CAB-02 A01", never a bare "A01".
    with db.transaction() as s:
        notes = [
            payload_of(m, SECRET)
            for m in s.execute(select(OutboxMessage).where(OutboxMessage.operation == "NotifyApplicant"))
            .scalars()
            .all()
        ]
    by_code = {n["params"]["code"]: n["params"]["cabinet"] for n in notes}
    assert by_code == {codes["CAB-01"]: "CAB-01 A01", codes["CAB-02"]: "CAB-02 A01"}

    for cab_id in reversed(CABS):  # the second cabinet's code first: the right door, not the first A01
        other = next(c for c in CABS if c != cab_id)
        h = cab.start_pickup_by_code(codes[cab_id])
        assert h.cabinet_id == cab_id and sims[cab_id].is_open(0, 1) and not sims[other].is_open(0, 1)
        # What the door screen shows for it: the cabinet as well as the label, since there are two.
        assert shown(h.cabinet_id, h.label, CABS) == f"{cab_id} A01"
        sims[cab_id].take_item(0, 1)
        sims[cab_id].close_door(0, 1)
        assert cab.wait_closed(h).outcome == "picked_up"
    assert shown("CAB-01", "A01", ["CAB-01"]) == "A01"  # one cabinet: the label alone


def test_a_bare_shared_label_is_refused_and_cabinet_label_reaches_one_door(
    two: tuple[Cabinet, dict[str, SimLockBoard]], db: Database
) -> None:
    cab, _sims = two
    with pytest.raises(AmbiguousCompartment, match=r"A01 is in cabinets CAB-01, CAB-02.*CAB-01:A01"):
        cab.disable("A01", actor="staff:1", reason="")
    cab.disable("cab-02:a01", actor="staff:1", reason="")
    with db.transaction() as s:
        states = dict(s.execute(select(Compartment.cabinet_id, Compartment.state)).all())
    assert states == {"CAB-01": S.FREE, "CAB-02": S.DISABLED}


def test_the_cli_refuses_an_ambiguous_label_in_one_line(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KIOSK_SECRET_FILE", str(tmp_path / "hall-secret.key"))
    p = write_config(
        tmp_path, kiosk={"id": KIOSK_ID}, storage={"url": db_url}, cabinets=[_cab(c) for c in CABS]
    )
    init_kiosk(p)
    r = run_cli(p, "cabinet", "disable", "A01", "--reason", "hinge")
    assert r.code != 0 and "Traceback" not in r.err
    errors = [ln for ln in r.err.splitlines() if ln.startswith("error:")]  # the simulators' warnings aside
    assert errors == ["error: A01 is in cabinets CAB-01, CAB-02: name one as CABINET:LABEL, e.g. CAB-01:A01"]
    r = run_cli(p, "cabinet", "disable", "CAB-01:A01", "--reason", "hinge")
    assert r.code == 0, r.err
    r = run_cli(p, "cabinet", "status")
    assert r.code == 0, r.err
    lines = r.out.splitlines()
    assert lines[0].startswith("CABINET") and any(
        ln.split()[:3] == ["CAB-01", "A01", "M"] and "disabled" in ln for ln in lines
    )
    assert any(ln.split()[:2] == ["CAB-02", "A01"] and "free" in ln for ln in lines)


def test_the_door_test_finds_a_door_by_cabinet_and_label(tmp_path: Path) -> None:
    """``kiosk diag door`` and the technician's door test look the label up in the configuration the same way."""
    from types import SimpleNamespace

    from hallkiosk.diag.confirm import find_compartment
    from kiosk.config import load_config

    p = write_config(tmp_path, kiosk={"id": KIOSK_ID}, cabinets=[_cab(c) for c in CABS])
    app = SimpleNamespace(cfg=load_config(p))
    with pytest.raises(AmbiguousCompartment, match="A01 is in cabinets CAB-01, CAB-02"):
        find_compartment(app, "A01")  # type: ignore[arg-type]
    cab, comp = find_compartment(app, "cab-02:a01")  # type: ignore[arg-type]
    assert (cab.id, comp.label) == ("CAB-02", "A01")
