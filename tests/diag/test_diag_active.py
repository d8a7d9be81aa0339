"""Active tests: a door opened and timed, a jammed door, the walk, one card read; each audited and confirmed."""

from __future__ import annotations

import json
import threading
import time

from sqlalchemy import select, text

from hallkiosk.diag import door_test, walk_test
from kiosk.config import Config, load_config
from kiosk.storage.db import Database
from kiosk.storage.models import AuditRecord
from tests.support.cli import run_cli

from .conftest import Rig, check


def _later(delay_s: float, fn, *args) -> threading.Timer:
    t = threading.Timer(delay_s, fn, args)
    t.start()
    return t


def _after_unlock(rig: Rig, board: int, channel: int, *steps: tuple[float, str]) -> threading.Thread:
    """Hands at the door, timed from the moment the CLI's unlock reaches the board (not from when the test
    started the CLI: on a loaded machine the command can take longer to start than the whole door test)."""

    def unlocked() -> bool:
        return any(r.kind == "unlock" and r.channel == channel for r in rig.boards.requests_to(board))

    def hands() -> None:
        deadline = time.monotonic() + 60
        while not unlocked() and time.monotonic() < deadline:
            time.sleep(0.01)
        for delay_s, action in steps:
            time.sleep(delay_s)
            getattr(rig.boards, action)(board, channel)

    t = threading.Thread(target=hands, daemon=True)
    t.start()
    return t


def _actions(rig: Rig) -> list[tuple[str, str]]:
    db = Database(load_config(rig.config).storage_url)
    with db.transaction() as s:
        rows = [
            (r.action, r.subject) for r in s.execute(select(AuditRecord).order_by(AuditRecord.seq)).scalars()
        ]
    db.dispose()
    return rows


def test_door_test_times_the_door_and_records_sensor_changes(rig: Rig) -> None:
    _after_unlock(rig, 0, 3, (0.3, "put_item"), (0.3, "close_door"))
    code, out = rig.cli("diag", "door", "a03", "--yes", "--json")
    res = json.loads(out)
    assert code == 0 and res["status"] == "OK", res
    assert 0 < res["open_ms"] < 500
    assert 0.05 < res["closed_after_s"] < 2.0
    states = [(t["closed"], t["item_present"]) for t in res["transitions"]]
    assert states == [(True, False), (False, False), (False, True), (True, True)]
    assert "item sensor empty -> present" in res["finding"]
    acts = _actions(rig)
    assert ("cabinet.technician_open", "A03") in acts and ("diag.door_test", "A03") in acts


def test_jammed_door_is_a_fault_and_marks_the_compartment(rig: Rig) -> None:
    rig.boards.jam(0, 4)
    code, out = rig.cli("diag", "door", "A04", "--yes", "--json")
    res = json.loads(out)
    assert code == 2 and res["status"] == "FAULT"
    assert (
        res["finding"].startswith("A04 did not open:") and "did not read open within 0.5 s" in res["finding"]
    )
    code, rep = rig.diag("--only", "lockboards")
    faulty = check(rep, "lockboards.CAB-T1.faulty")
    assert code == 1 and faulty["status"] == "DEGRADED"
    assert "A04: OpenNotDetected" in faulty["finding"]
    assert ("diag.door_test", "A04") in _actions(rig)


def test_door_left_open_is_degraded(rig: Rig) -> None:
    code, out = rig.cli("diag", "door", "A01", "--yes", "--json", "--timeout", "0.4")
    res = json.loads(out)
    assert code == 1 and res["status"] == "DEGRADED"
    assert "but not closed within 0.4 s" in res["finding"]


def test_real_cabinet_needs_confirmation(rig: Rig) -> None:
    code, _out = rig.cli("diag", "door", "A01")  # no --yes, no terminal to ask on
    assert code == 3
    assert not [r for r in rig.boards.requests_to(0) if r.kind == "unlock"]
    app = rig.app()
    try:
        try:
            door_test(app, "A01")
        except Exception as err:
            assert type(err).__name__ == "NotConfirmed"
        else:
            raise AssertionError("an unconfirmed door test on a real cabinet must be refused")
    finally:
        app.close()


def test_walk_opens_every_door_but_skips_occupied(rig: Rig) -> None:
    stop = threading.Event()

    def technician() -> None:  # shuts every door shortly after it opens
        doors = [(0, c) for c in range(1, 7)] + [(1, 1)]
        while not stop.is_set():
            for b, ch in doors:
                if rig.boards.is_open(b, ch):
                    time.sleep(0.15)  # long enough for the driver to see it open
                    rig.boards.close_door(b, ch)
            time.sleep(0.02)

    t = threading.Thread(target=technician, daemon=True)
    t.start()
    app = rig.app()
    try:
        from hallkiosk.diag.active import sync_cabinet

        sync_cabinet(app)
        with app.db.engine.begin() as conn:
            conn.execute(text("UPDATE compartments SET state = 'occupied' WHERE label = 'A02'"))
        seen: list[str] = []
        results = walk_test(app, confirmed=True, close_timeout_s=2, on_result=lambda r: seen.append(r.label))
    finally:
        stop.set()
        app.close()
    by = {r.label: r for r in results}
    assert seen == ["A01", "A02", "A03", "A04", "A05", "A06", "B01"]
    assert by["A02"].skipped and "occupied" in by["A02"].finding
    assert {
        r.label: r.finding
        for r in results
        if r.status != "OK" or (r.closed_after_s is None and not r.skipped)
    } == {}
    acts = [a for a, _ in _actions(rig)]
    assert acts.count("diag.door_test") == 6 and "diag.walk_finished" in acts


def test_walk_on_the_built_in_simulator_needs_no_confirmation(cfg: Config, monkeypatch) -> None:
    monkeypatch.setattr("kiosk.logsetup._done", True)
    r = run_cli(cfg.source, "diag", "walk", "--sim-close", "0.05", "--timeout", "2", "--json")
    rows = json.loads(r.out)
    assert r.code == 0 and len(rows) == 10 and all(r["status"] == "OK" for r in rows)


def test_card_test_shows_the_card_masked(rig: Rig) -> None:
    _later(0.3, rig.card.insert_demo_card)
    code, out = rig.cli("diag", "card", "--yes", "--json", "--timeout", "5")
    res = json.loads(out)
    assert code == 0 and res["outcome"] == "identified", res
    assert res["masked_id"] == "110105********1232" and res["masked_name"] == "张*"
    assert res["read_ms"] > 0 and res["wait_s"] >= 0.2
    assert "110105199001011232" not in out and "张三" not in out
    assert ("diag.card_test", "id-reader") in _actions(rig)


def test_card_test_without_a_card(rig: Rig) -> None:
    code, out = rig.cli("diag", "card", "--yes", "--json", "--timeout", "0.5")
    res = json.loads(out)
    assert code == 1 and res["status"] == "DEGRADED" and res["finding"] == "no card read within 0.5 s"


def test_card_test_on_the_built_in_simulator(cfg: Config, monkeypatch) -> None:
    monkeypatch.setattr("kiosk.logsetup._done", True)
    r = run_cli(cfg.source, "diag", "card", "--sim-insert", "0.1", "--timeout", "5")
    out = r.out
    assert r.code == 0 and "110105********1232" in out and "identified" in out
