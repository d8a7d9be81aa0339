"""Pickup codes as typed (other scripts' digits, full-width digits, wrong length) and the staff commands
``kiosk collect PARCEL_ID`` and ``kiosk cabinet clear-lockout``, run in-process on the same database."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from kiosk import notes
from kiosk.cabinet import Cabinet, MalformedPickupCode
from kiosk.cabinet import states as S
from kiosk.cabinet.codes import normalise
from kiosk.clock import SystemClock
from kiosk.config import PickupConfig
from kiosk.errors import CodeLockout, WrongPickupCode
from kiosk.storage.models import AuditRecord, CodeAttempt
from tests.cabinet.cabinet_support import CAB_ID, KIOSK_ID, case, make_cabinet, outbox_events, parcel
from tests.conftest import init_kiosk
from tests.support.cli import run_cli
from tests.support.config import write_config


def test_normalise_accepts_only_ascii_or_full_width_digits_of_an_allowed_length() -> None:
    assert normalise("123456") == "123456"
    assert normalise(" 123 456 ") == "123456"
    assert normalise("１２３４５６") == "123456"  # a Chinese IME in full-width mode
    assert normalise("１２３\u3000４５６") == "123456"  # and its full-width space
    for bad in ("١٢٣٤٥٦", "۱۲۳۴۵۶", "१२३४५६", "12345", "12345678901", "12345a", "", "²²²²²²"):
        assert normalise(bad) is None, bad
    assert (
        normalise("1234567") == "1234567" and normalise("1234567890") == "1234567890"
    )  # 6-10: any code_digits


def _attempts(db) -> int:
    with db.transaction() as s:
        return s.execute(select(func.count()).select_from(CodeAttempt)).scalar_one()


def test_malformed_codes_are_refused_audited_and_not_counted(db, bus, cab_cfg, clock) -> None:
    cab = make_cabinet(db, bus, cab_cfg, clock, pickup=PickupConfig(free_wrong_codes=3))
    cab.start()
    for typed in ("١٢٣٤٥٦", "12345", "12345678901", "abcdef") * 2:
        with pytest.raises(MalformedPickupCode, match="a pickup code has 6 digits"):
            cab.start_pickup_by_code(typed)
    assert _attempts(db) == 0  # none of them counts toward the lockout
    with db.transaction() as s:
        results = s.execute(
            select(AuditRecord.detail).where(AuditRecord.action == "cabinet.code_attempt")
        ).scalars()
        assert [d["result"] for d in results] == ["malformed"] * 8
    # Wrong codes of any allowed length count toward the wait, full-width ones included.
    for typed in ("000000", "１１１１１１１", "22222222"):
        with pytest.raises(WrongPickupCode):
            cab.start_pickup_by_code(typed)
    with pytest.raises(CodeLockout):
        cab.start_pickup_by_code("33333333")
    assert _attempts(db) == 3


@pytest.fixture
def kiosk_toml(tmp_path: Path, db_url: str, cab_cfg) -> Path:
    comps = [
        {"label": c.label, "size": c.size, "board": c.board, "channel": c.channel}
        for c in cab_cfg.compartments
    ]
    p = write_config(
        tmp_path,
        kiosk={"id": KIOSK_ID},
        storage={"url": db_url},
        cabinets=[{"id": CAB_ID, "bus": "sim", "family": "kerong-cu", "boards": [0], "compartments": comps}],
    )
    init_kiosk(p)
    return p


@pytest.fixture
def live_cabinet(db, bus, cab_cfg, platform) -> Cabinet:
    """The cabinet on the real clock, as the CLI (its own process, its own simulator) sees the same database."""
    cab = make_cabinet(db, bus, cab_cfg, SystemClock(), platform=platform)
    cab.start()
    return cab


def test_cli_pickup_with_other_digits_says_what_a_code_is(kiosk_toml: Path, db) -> None:
    r = run_cli(kiosk_toml, "pickup", "١٢٣٤٥٦")
    assert r.code == 1
    assert "a pickup code has 6 digits" in r.err
    with db.transaction() as s:
        rec = s.execute(select(AuditRecord).where(AuditRecord.action == "cabinet.code_attempt")).scalar_one()
        assert rec.detail["result"] == "malformed"
    assert _attempts(db) == 0


def test_cli_collect_one_ready_parcel(kiosk_toml: Path, live_cabinet: Cabinet, sim, db) -> None:
    h = live_cabinet.start_deposit(case(1), actor="staff:7", size="S")
    sim.put_item(0, 1)
    sim.close_door(0, 1)
    pid = live_cabinet.wait_closed(h).parcel_id
    r = run_cli(kiosk_toml, "collect")
    assert r.code == 0  # no argument: only what is due, and a ready result is not
    assert "nothing to collect" in r.out
    assert parcel(db, pid).state == S.READY
    r = run_cli(kiosk_toml, "collect", str(pid), "--reason", "citizen at the desk")
    assert r.code == 0
    assert f"returned: A01, parcel {pid}" in r.out
    p = parcel(db, pid)
    assert p.state == S.RETURNED and p.code_hmac is None
    assert [e for op, e, _ in outbox_events(db) if op == "ReportDelivery"] == [
        "DEPOSITED",
        "RETURNED_TO_CENTRE",
    ]
    with db.transaction() as s:
        rec = s.execute(
            select(AuditRecord).where(AuditRecord.action == "cabinet.collect_requested")
        ).scalar_one()
        # Typed: a staff note (kiosk.notes), the audit keeps "other" and the note's id.
        assert rec.actor.startswith("staff:") and rec.detail["reason"] == "other"
        assert notes.read(s, rec.detail["note"]) == "citizen at the desk"
    r = run_cli(kiosk_toml, "collect", str(pid))
    assert r.code == 1  # already out
    assert "not stored in a compartment" in r.err


def test_cli_clear_lockout(kiosk_toml: Path, live_cabinet: Cabinet, db) -> None:
    r = run_cli(kiosk_toml, "cabinet", "clear-lockout")
    assert r.code == 0
    assert "no wait was on; 0 recent wrong code(s)" in r.out
    for _ in range(3):  # the third starts the hall's wait
        with pytest.raises(WrongPickupCode):
            live_cabinet.start_pickup_by_code("000000")
    with pytest.raises(CodeLockout):
        live_cabinet.start_pickup_by_code("000000")
    r = run_cli(kiosk_toml, "cabinet", "clear-lockout")
    assert r.code == 0
    out = r.out
    assert "pickup code wait lifted: a wait with" in out and "s still to run" in out
    with pytest.raises(WrongPickupCode):  # refused as wrong, not as waiting
        live_cabinet.start_pickup_by_code("000000")
    r = run_cli(kiosk_toml, "cabinet", "clear-lockout")
    assert r.code == 0
    assert "no wait was on; 1 recent wrong code(s)" in r.out
    with db.transaction() as s:
        recs = (
            s.execute(
                select(AuditRecord)
                .where(AuditRecord.action == "cabinet.code_lockout_cleared")
                .order_by(AuditRecord.seq)
            )
            .scalars()
            .all()
        )
    assert [r.detail["retry_after_s"] is not None for r in recs] == [False, True, False]
    assert all(r.actor.startswith("staff:") for r in recs) and recs[2].detail["wrong_codes"] == 1
