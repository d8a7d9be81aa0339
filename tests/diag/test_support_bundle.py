"""The support bundle holds what support needs and no secret or full ID number, even where one leaked into a log."""

from __future__ import annotations

import json
import stat
import tarfile
from pathlib import Path

from sqlalchemy import text

from kiosk.config import load_config
from kiosk.storage.db import Database

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
        f"2026-11-25 ERROR storage: cannot connect to postgresql://kiosk:{DB_PW}@db.hall/kiosk\n", encoding="utf-8")
    app = rig.app()
    try:
        app.audit("technician", "test.action", "card", id_number=ID)  # the chain scrubs this itself
    finally:
        app.close()
    db = Database(load_config(rig.config).storage_url)
    with db.engine.begin() as conn:  # as if a bug or an attacker had written personal data past the scrubber
        conn.execute(text("UPDATE audit_log SET subject = :s WHERE seq = 1"), {"s": f"person {ID} {PHONE}"})
        conn.execute(text("INSERT INTO staff_tasks (kind, detail, created_at) VALUES ('x', :d, '2026-11-25 00:00:00')"),
                     {"d": f"call {PHONE} about {ID2}"})
    db.dispose()
    out = tmp_path / "bundle" / "support.tar.gz"
    code, printed = rig.cli("support-bundle", str(out))
    assert code == 0 and "wrote" in printed
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    with tarfile.open(out) as tar:
        files = {m.name.split("/", 1)[1]: tar.extractfile(m).read().decode("utf-8") for m in tar.getmembers() if m.isfile()}
    everything = "\n".join(files.values())
    secret_key = (rig.data_dir / "secret.key").read_bytes().hex()
    for leaked in (ID, ID2, ID2[:-1], PHONE, PASSWORD, BADGE, PIN, DB_PW, secret_key, secret_key.upper()):
        assert leaked not in everything, f"{leaked!r} is in the bundle"
    # What support needs is there, in masked form.
    for name in ("versions.json", "config.json", "diag.json", "db/audit.jsonl", "db/audit_verify.jsonl",
                 "db/device_events.jsonl", "db/outbox.jsonl", "db/staff_tasks.jsonl", "db/compartments.jsonl",
                 "logs/kiosk.log", "README.txt", "platform_history.jsonl"):
        assert name in files, name
    assert "110105********1232" in files["logs/kiosk.log"] and "138****5678" in files["logs/kiosk.log"]
    assert "postgresql://kiosk:[redacted]@db.hall/kiosk" in files["logs/kiosk.log"]
    diag = json.loads(files["diag.json"])
    assert diag["schema"] == "hall-kiosk/diag" and diag["kiosk_id"] == "TEST-HALL-07"
    cfg = json.loads(files["config.json"])
    assert cfg["kiosk"]["staff_badges"] == ["[redacted badge ending D4]"] and cfg["platform"]["username"] == "kiosk-diag"
    audit = [json.loads(line) for line in files["db/audit.jsonl"].splitlines()]
    assert audit[0]["subject"] == "person 110105********1232 138****5678"
    verify = json.loads(files["db/audit_verify.jsonl"])
    assert verify["ok"] is False and verify["broken_seq"] == 1  # the tampering shows in the bundle too
    assert json.loads(files["versions.json"])["kiosk"]
