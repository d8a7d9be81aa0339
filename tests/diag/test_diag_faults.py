"""Injected faults, each recognised by `kiosk diag` with its own check, state, finding and exit code."""

from __future__ import annotations

import datetime as dt
import socket

from sqlalchemy import text

from kiosk import outbox
from kiosk.config import load_config
from kiosk.storage.db import Database

from .conftest import CONNECT_TIMEOUT_S, PW_ENV, REPLY_TIMEOUT_S, RETRIES, Rig, check, problems


def test_silent_board_is_a_fault_of_that_board_only(rig: Rig) -> None:
    rig.boards.silence(1)
    code, rep = rig.diag("--only", "lockboards")
    assert code == 2 and rep["status"] == "FAULT"
    b1 = check(rep, "lockboards.CAB-T1.board.1")
    assert b1["status"] == "FAULT"
    assert "board 1 on cabinet CAB-T1 does not answer" in b1["finding"]
    assert "DIP address" in b1["hint"]
    assert b1["waited_s"] == REPLY_TIMEOUT_S * (RETRIES + 1)
    assert check(rep, "lockboards.CAB-T1.board.0")["status"] == "OK"  # the other board keeps working
    doors = check(rep, "lockboards.CAB-T1.doors")
    assert doors["data"]["unread"] == ["B01"]
    assert set(problems(rep)) == {"lockboards.CAB-T1.board.1"}


def test_door_left_open_without_a_flow_and_item_in_free_compartment(rig: Rig) -> None:
    rig.boards.open_door_by_hand(0, 2)
    rig.boards.put_item(0, 5)
    rig.cli(
        "diag", "door", "A06", "--yes", "--timeout", "0.3"
    )  # syncs the compartments (A05 free) through the cabinet
    rig.boards.close_door(0, 6)
    code, rep = rig.diag("--only", "lockboards")
    doors = check(rep, "lockboards.CAB-T1.doors")
    assert doors["status"] == "DEGRADED" and code == 1
    assert "open with no flow running: A02" in doors["finding"]
    assert "free compartment(s) A05" in doors["finding"]


def test_stray_board_found_by_a_full_scan(rig: Rig) -> None:
    rig.write_config(boards="[0]", readers="")
    text_ = rig.config.read_text().replace(',\n  { label = "B01", size = "M", board = 1, channel = 1 }', "")
    rig.config.write_text(text_)
    code, rep = rig.diag("--only", "lockboards", "--scan", "full")
    scan = check(rep, "lockboards.CAB-T1.scan")
    assert scan["status"] == "DEGRADED" and code == 1
    assert scan["data"]["unexpected"] == [1]
    assert "board(s) 1 answer on cabinet CAB-T1's bus but are not in the config" in scan["finding"]


def test_platform_down(rig: Rig) -> None:
    with socket.socket() as s:  # a port nothing listens on: the platform is down
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    rig.write_config(endpoint=f"http://127.0.0.1:{port}/zwfw/kiosk/v1")
    code, rep = rig.diag("--only", "platform")
    assert code == 2
    tcp = check(rep, "platform.tcp")
    assert tcp["status"] == "FAULT" and f"cannot connect to 127.0.0.1:{port}" in tcp["finding"]
    assert check(rep, "platform.soap")["finding"] == "not tried: TCP connect failed"
    assert check(rep, "platform.auth")["status"] == "DEGRADED"
    assert check(rep, "platform.dns")["status"] == "OK"


def test_platform_name_does_not_resolve(rig: Rig) -> None:
    rig.write_config(
        endpoint="https://platform.invalid/zwfw/kiosk/v1"
    )  # http:// to a host name is a config error
    code, rep = rig.diag("--only", "platform")
    dns = check(rep, "platform.dns")
    assert code == 2 and dns["status"] == "FAULT"
    assert "platform.invalid" in dns["finding"]
    assert dns["waited_s"] in (0.0, CONNECT_TIMEOUT_S)
    assert check(rep, "platform.tcp")["finding"].startswith("not tried: DNS")


def test_platform_answering_http_500(rig: Rig) -> None:
    rig.platform.faults.http500(times=None)
    code, rep = rig.diag("--only", "platform")
    soap = check(rep, "platform.soap")
    assert code == 2 and soap["status"] == "FAULT" and "heartbeat failed" in soap["finding"]
    assert check(rep, "platform.tcp")["status"] == "OK"  # the network is fine: the layers tell them apart


def test_wrong_password(rig: Rig, monkeypatch) -> None:
    monkeypatch.setenv(PW_ENV, "not the password")
    code, rep = rig.diag("--only", "platform")
    assert code == 2
    auth = check(rep, "platform.auth")
    assert auth["status"] == "FAULT" and auth["device"] == "platform.auth"
    assert "the platform refused user 'kiosk-diag' for kiosk TEST-HALL-07" in auth["finding"]
    assert "password" in auth["hint"]
    assert check(rep, "platform.soap")["status"] == "OK"  # it answered: only the credentials are wrong
    assert "not the password" not in str(rep)


def test_no_password_at_all(rig: Rig, monkeypatch) -> None:
    monkeypatch.delenv(PW_ENV)
    code, rep = rig.diag("--only", "platform")
    assert code == 2
    assert check(rep, "platform.auth")["finding"].startswith("no credentials:")


def test_clock_skew(rig: Rig) -> None:
    rig.platform.clock_offset_s = 120.0  # inside the token window, outside max_clock_skew_s
    code, rep = rig.diag("--only", "platform")
    clock = check(rep, "platform.clock")
    assert code == 1 and clock["status"] == "DEGRADED"
    assert "kiosk clock is -120 s off the platform's" in clock["finding"]


def test_outbox_backlog_and_dead_letters(rig: Rig) -> None:
    cfg = load_config(rig.config)
    db = Database(cfg.storage_url, kiosk_id=cfg.kiosk.id)
    other = Database(cfg.storage_url, kiosk_id="LOBBY-02")  # another kiosk of the hall on the same database
    old = dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)
    with db.transaction() as s:
        outbox.enqueue(s, old, "SubmitEvaluation", {"evaluation": {"rating": 5}})
        dead = outbox.enqueue(s, old, "ReportDelivery", {"case_number": "X"})
        dead.state, dead.last_error = outbox.DEAD, "UNKNOWN_CASE: no such case"
    with other.transaction() as s:  # older than this kiosk's, and not this kiosk's to send
        for _ in range(3):
            outbox.enqueue(s, old - dt.timedelta(hours=5), "ReportDelivery", {"case_number": "Y"})
    db.dispose()
    other.dispose()
    code, rep = rig.diag("--only", "platform")
    backlog, dl = check(rep, "platform.outbox"), check(rep, "platform.dead_letters")
    assert code == 1
    assert (
        backlog["status"] == "DEGRADED"
        and "oldest (SubmitEvaluation) waits for 120 min" in backlog["finding"]
    )
    assert backlog["data"]["pending"] == 1
    assert dl["status"] == "DEGRADED" and f"#{dead.id} ReportDelivery" in dl["finding"]
    fleet = check(rep, "platform.outbox_fleet")
    assert fleet["status"] == "DEGRADED" and "LOBBY-02: 3 waiting for 7.0 h" in fleet["finding"]
    assert "kiosk outbox adopt" in fleet["hint"]
    by_kiosk = {k["kiosk"]: k for k in fleet["data"]["kiosks"]}
    assert (by_kiosk[cfg.kiosk.id]["pending"], by_kiosk[cfg.kiosk.id]["dead"]) == (1, 1)
    assert by_kiosk["LOBBY-02"]["pending"] == 3 and by_kiosk["LOBBY-02"]["oldest_age_s"] >= 7 * 3600


def test_tampered_audit_record(rig: Rig) -> None:
    app = rig.app()
    try:
        for i in range(3):
            app.audit("technician", "test.action", f"thing {i}", n=i)
    finally:
        app.close()
    code, rep = rig.diag("--only", "storage")
    assert (
        code == 0 and check(rep, "storage.audit")["finding"] == "4 audit records, chain intact"
    )  # db.init + 3
    db = Database(load_config(rig.config).storage_url)
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE audit_log SET subject = 'something else' WHERE seq = 2"))
    db.dispose()
    code, rep = rig.diag("--only", "storage")
    audit = check(rep, "storage.audit")
    assert code == 2 and audit["status"] == "FAULT"
    assert (
        audit["finding"]
        == "audit chain broken at record 2: record 2 was altered (its content does not match its hash)"
    )
    assert "evidence" in audit["hint"]


def test_unreachable_card_reader(rig: Rig) -> None:
    rig.card.inject("silent", cmd="sam", times=5)
    code, rep = rig.diag("--only", "card")
    reader = check(rep, "card.reader.0")
    assert code == 2 and reader["status"] == "FAULT"
    assert "does not answer" in reader["finding"] and reader["waited_s"] > 0


def test_overhead_beyond_timeouts_is_under_two_seconds(rig: Rig) -> None:
    rig.boards.silence(1)
    rig.card.inject("silent", cmd="sam", times=5)
    code, rep = rig.diag()
    assert code == 2
    waited = sum(c["waited_s"] for c in rep["checks"])
    assert waited > 0
    assert rep["duration_ms"] / 1000 - waited < 2.0, (rep["duration_ms"], waited)


def test_heartbeat_probe_never_touches_a_running_readers_port(rig) -> None:
    """The heartbeat's passive diag must not open a GA 467 port its watcher thread owns, even while it connects."""
    from hallkiosk.diag import device_health

    app = rig.app()
    events = []
    reader = app.card_readers[0]
    try:
        reader.start(events.append)
        for _ in range(20):  # while the watcher connects, and after
            health = {h.name: h for h in device_health(app)}
            card = next(h for n, h in health.items() if n.startswith("cardreader."))
            assert card.state in ("OK", "FAULT")
        import time

        deadline = time.monotonic() + 5
        while not reader.is_present() and time.monotonic() < deadline:
            time.sleep(0.05)
        card = next(
            h for n, h in {h.name: h for h in device_health(app)}.items() if n.startswith("cardreader.")
        )
        assert card.state == "OK", card
        rig.card.insert_demo_card()
        deadline = time.monotonic() + 5
        while not any(e.kind == "identified" for e in events) and time.monotonic() < deadline:
            time.sleep(0.05)
        for _ in range(5):
            device_health(app)
        assert [e.kind for e in events if e.kind in ("error", "reader_lost")] == []
        assert any(e.kind == "identified" for e in events)
    finally:
        app.close()


def test_reader_started_while_a_probe_holds_its_port(rig) -> None:
    """A diag probe of a GA 467 reader not yet running, racing the reader's start: neither breaks the other."""
    import threading
    import time

    from hallkiosk.diag import device_health

    app = rig.app()
    events: list = []
    reader = app.card_readers[0]
    stop = threading.Event()
    crashed: list[BaseException] = []

    def probe_loop() -> None:
        try:
            while not stop.is_set():
                device_health(app)
        except BaseException as err:
            crashed.append(err)

    t = threading.Thread(target=probe_loop)
    try:
        t.start()
        time.sleep(0.05)
        reader.start(events.append)
        deadline = time.monotonic() + 5
        while not reader.is_present() and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.3)
        stop.set()
        t.join(10)
        assert crashed == []
        rig.card.insert_demo_card()
        deadline = time.monotonic() + 5
        while not any(e.kind == "identified" for e in events) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert any(e.kind == "identified" for e in events), [e.kind for e in events]
    finally:
        stop.set()
        app.close()
