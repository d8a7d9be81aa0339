"""The support bundle holds what support needs and no secret or full ID number, even where one leaked into a log."""

from __future__ import annotations

import json
import os
import stat
import tarfile
from pathlib import Path

from sqlalchemy import text

from kiosk.config import load_config
from kiosk.storage.db import Database
from tests.conftest import init_kiosk

from .conftest import PASSWORD, Rig

ID = "110105199001011232"
ID2 = "11010519491231002X"
PHONE = "13812345678"
BADGE = "04A1B2C3D4"
PIN = "739184"
DB_PW = "s3cretDbPw"


def test_bundle_has_no_secret_or_full_id(rig: Rig, monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("KIOSK_TECH_PIN", PIN)
    rig.write_config(kiosk_extra=f'staff_badges = ["{BADGE}"]')
    logs = rig.data_dir / "logs"
    logs.mkdir(parents=True)
    (logs / "kiosk.log").write_text(
        f"2026-11-25 INFO kiosk: read card {ID} for 张三 phone {PHONE}\n"
        f"2026-11-25 DEBUG sloppy: ID{ID2}X login with password={PASSWORD} badge {BADGE} pin {PIN}\n"
        f"2026-11-25 ERROR storage: cannot connect to postgresql://kiosk:{DB_PW}@db.hall/kiosk\n",
        encoding="utf-8",
    )
    app = rig.app()
    try:
        app.audit("technician", "test.action", "card", id_number=ID)  # the chain scrubs this itself
    finally:
        app.close()
    db = Database(load_config(rig.config).storage_url)
    with db.engine.begin() as conn:  # as if a bug or an attacker had written personal data past the scrubber
        conn.execute(text("UPDATE audit_log SET subject = :s WHERE seq = 1"), {"s": f"person {ID} {PHONE}"})
        conn.execute(
            text(
                "INSERT INTO staff_tasks (kind, detail, created_at) VALUES ('x', :d, '2026-11-25 00:00:00')"
            ),
            {"d": f"call {PHONE} about {ID2}"},
        )
    db.dispose()
    out = tmp_path / "bundle" / "support.tar.gz"
    code, printed = rig.cli("support-bundle", str(out))
    assert code == 0 and "wrote" in printed
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    with tarfile.open(out) as tar:
        files = {
            m.name.split("/", 1)[1]: tar.extractfile(m).read().decode("utf-8")
            for m in tar.getmembers()
            if m.isfile()
        }
    everything = "\n".join(files.values())
    secret_key = (rig.data_dir / "secret.key").read_bytes().hex()
    for leaked in (ID, ID2, ID2[:-1], PHONE, PASSWORD, BADGE, PIN, DB_PW, secret_key, secret_key.upper()):
        assert leaked not in everything, f"{leaked!r} is in the bundle"
    # What support needs is there, in masked form.
    for name in (
        "versions.json",
        "config.json",
        "diag.json",
        "db/audit.jsonl",
        "db/audit_verify.jsonl",
        "db/device_events.jsonl",
        "db/outbox.jsonl",
        "db/staff_tasks.jsonl",
        "db/compartments.jsonl",
        "logs/kiosk.log",
        "README.txt",
        "platform_history.jsonl",
    ):
        assert name in files, name
    assert "110105********1232" in files["logs/kiosk.log"] and "138****5678" in files["logs/kiosk.log"]
    assert "postgresql://kiosk:[redacted]@db.hall/kiosk" in files["logs/kiosk.log"]
    diag = json.loads(files["diag.json"])
    assert diag["schema"] == "hall-kiosk/diag" and diag["kiosk_id"] == "TEST-HALL-07"
    cfg = json.loads(files["config.json"])
    assert (
        cfg["kiosk"]["staff_badges"] == ["[redacted badge ending D4]"]
        and cfg["platform"]["username"] == "kiosk-diag"
    )
    audit = [json.loads(line) for line in files["db/audit.jsonl"].splitlines()]
    assert audit[0]["subject"] == "person 110105********1232 138****5678"
    verify = json.loads(files["db/audit_verify.jsonl"])
    assert verify["ok"] is False and verify["broken_seq"] == 1  # the tampering shows in the bundle too
    assert json.loads(files["versions.json"])["kiosk"]


CODE = "482913"  # a pickup code: with it, anyone could open the owner's compartment
CODE2 = "58213904"


def _on(rig: Rig, db_url: str) -> None:
    """Point the rig's kiosk at the backend under test (SQLite file or a fresh PostgreSQL database)."""
    rig.config.write_text(
        rig.config.read_text(encoding="utf-8") + f'\n[storage]\nurl = "{db_url}"\n', encoding="utf-8"
    )
    init_kiosk(rig.config, force=True)  # the marker now names this database (audit record 1: db.init)


def _bundle(rig: Rig, tmp_path: Path) -> dict[str, str]:
    out = tmp_path / "support.tar.gz"
    code, printed = rig.cli("support-bundle", str(out))
    assert code == 0 and "wrote" in printed, printed
    with tarfile.open(out) as tar:
        return {
            m.name.split("/", 1)[1]: tar.extractfile(m).read().decode("utf-8")
            for m in tar.getmembers()
            if m.isfile()
        }


def test_bundle_with_a_damaged_audit_record_marks_it_unreadable(
    rig: Rig, db_url: str, tmp_path: Path
) -> None:
    _on(rig, db_url)
    app = rig.app()
    try:
        for i in range(1, 5):
            app.audit("staff:1", "door.open", f"A0{i}", outcome="opened", ms=100 + i)
    finally:
        app.close()
    db = Database(db_url)
    # What each backend lets into the column that the kiosk cannot read back (see tests/foundation/test_audit_damage.py):
    # PostgreSQL checks json and timestamptz syntax on write, SQLite takes anything.
    damage = ["detail = 'garbage'"] if db.is_sqlite else ["at = 'infinity'", 'detail = \'{"x": "\\ud800"}\'']
    with db.engine.begin() as conn:
        for i, set_ in enumerate(damage):
            conn.execute(text(f"UPDATE audit_log SET {set_} WHERE seq = {3 + i}"))
    db.dispose()
    files = _bundle(rig, tmp_path)
    audit = {r["seq"]: r for r in map(json.loads, files["db/audit.jsonl"].splitlines())}
    assert {1, 2, 3, 4, 5} <= set(audit)
    if "garbage" in damage[0]:
        assert audit[3]["unreadable"] == "detail is not JSON" and audit[3]["detail"] is None
        assert "garbage" not in files["db/audit.jsonl"]  # named, never shown: it could be anyone's data
    else:
        assert audit[3]["unreadable"] == "at is not a timestamp" and audit[3]["at"] is None
        assert "cannot be hashed" in audit[4]["unreadable"] and audit[4]["detail"] is None
    # The records around it are whole, and support sees where the chain breaks.
    assert audit[2]["detail"] == {"outcome": "opened", "ms": 101} and "unreadable" not in audit[2]
    assert audit[5]["subject"] == "A04" and "unreadable" not in audit[5]
    verify = json.loads(files["db/audit_verify.jsonl"])
    assert verify["ok"] is False and verify["broken_seq"] == 3
    for table in ("device_events", "outbox", "staff_tasks", "compartments"):  # the other tables are all there
        assert '"error"' not in files[f"db/{table}.jsonl"], files[f"db/{table}.jsonl"]


def test_bundle_carries_the_kiosk_logs_masked(rig: Rig, db_url: str, tmp_path: Path) -> None:
    _on(rig, db_url)
    logs = rig.data_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    (logs / "kiosk.log").write_text(
        "2026-11-25 10:00:01 INFO kiosk.cabinet: deposit A03 done\n"
        f"2026-11-25 10:00:02 DEBUG sloppy.plugin: SMS for {ID} pickup code: {CODE} (cabinet CAB-T1 A03)\n",
        encoding="utf-8",
    )
    (logs / "kiosk.log.1").write_text(  # a rotated log: the older lines are support's too
        f'2026-11-24 09:00:00 DEBUG zeep: NotifyApplicant params {{"code": "{CODE2}", "id": "{ID2}"}} 取件码为{CODE}\n',
        encoding="utf-8",
    )
    files = _bundle(rig, tmp_path)
    assert {"logs/kiosk.log", "logs/kiosk.log.1"} <= set(files)
    log, older = files["logs/kiosk.log"], files["logs/kiosk.log.1"]
    assert "deposit A03 done" in log  # the log is there, line for line
    assert f"SMS for 110105********1232 pickup code: {'*' * 6} (cabinet CAB-T1 A03)" in log
    assert f'"code": "{"*" * 8}"' in older and "110105********002X" in older and f"取件码为{'*' * 6}" in older
    everything = "\n".join(files.values())
    for leaked in (ID, ID2, CODE, CODE2):
        assert leaked not in everything, f"{leaked!r} is in the bundle"


def test_bundle_carries_the_journal_masked(rig: Rig, db_url: str, tmp_path: Path, monkeypatch) -> None:
    """Under systemd the log is the journal. journald does not run here: a stand-in journalctl prints what the
    real one would for the kiosk's units (and records the arguments it was given)."""
    _on(rig, db_url)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    args = tmp_path / "args"
    (bin_dir / "journalctl").write_text(
        f'#!/bin/sh\necho "$@" > {args}\n'
        f"echo '2026-11-25T10:00:02+0800 kiosk kiosk[812]: kiosk.demo: SMS for {ID} pickup code: {CODE}'\n"
    )
    (bin_dir / "journalctl").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    files = _bundle(rig, tmp_path)
    journal = files["logs/journal.txt"]
    assert "kiosk.demo: SMS for 110105********1232 pickup code: ******" in journal
    assert ID not in journal and CODE not in journal
    assert "--unit=hall-kiosk.service" in args.read_text() and "-b" in args.read_text().split()
