"""kiosk db backup / restore: consistent while the kiosk writes, verified against the manifest, sensors compared."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import sqlite3
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from drivers.lockboard.sim import SimLockBoard
from hallkiosk.wiring import App
from kiosk import audit
from kiosk.backup import BackupError, backup, restore
from kiosk.cabinet import Cabinet
from kiosk.cabinet import states as S
from kiosk.config import Config
from kiosk.datadir import read_marker
from kiosk.identity import Identity
from kiosk.storage.models import StaffTask
from tests.conftest import REPO, init_kiosk

TOML = """
[kiosk]
id = "BK-HALL-01"
hall = "测试大厅"
data_dir = "{data}"

[[cabinets]]
id = "CAB-B"
bus = "{bus}"
family = "kerong-cu"
boards = [0]
open_timeout_s = 1
close_timeout_s = 10
compartments = [
  {{ label = "A01", size = "S", board = 0, channel = 1 }},
  {{ label = "A02", size = "S", board = 0, channel = 2 }},
  {{ label = "A03", size = "S", board = 0, channel = 3 }},
]

[platform]
endpoint = "sim"
"""


@pytest.fixture
def kiosk(tmp_path: Path) -> tuple[Config, SimLockBoard]:
    """A kiosk whose lock board is a simulator on a real pty: its doors and items outlive the kiosk's database."""
    sim = SimLockBoard("kerong-cu", [0])
    path = sim.serve_pty()
    p = tmp_path / "kiosk.toml"
    p.write_text(TOML.format(data=tmp_path / "data", bus=path), encoding="utf-8")
    yield init_kiosk(p), sim
    sim.stop()


def _cabinet(app: App) -> Cabinet:
    return Cabinet(
        app.db,
        app.buses,
        app.cfg.cabinets,
        app.cfg.pickup,
        app.clock,
        app.secret,
        app.cfg.kiosk.id,
        close_poll_interval_s=0.02,
    )


def _deposit(cab: Cabinet, sim: SimLockBoard, case: str) -> tuple[str, str]:
    h = cab.start_deposit(
        case,
        actor="staff:test",
        size="S",
        applicant=Identity(id_number="11010519491231002X", name="张三", card_kind="resident_id"),
    )
    ch = int(h.label[1:])
    sim.put_item(0, ch)
    sim.close_door(0, ch)
    r = cab.wait_closed(h, 10)
    assert r.outcome == "deposited" and r.code, r
    return h.label, r.code


def _pickup(cab: Cabinet, sim: SimLockBoard, code: str) -> str:
    h = cab.start_pickup_by_code(code)
    ch = int(h.label[1:])
    sim.take_item(0, ch)
    sim.close_door(0, ch)
    assert cab.wait_closed(h, 10).outcome == "picked_up"
    return h.label


def _kiosk(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hallkiosk.cli", "--config", str(config), *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_restore_after_the_cabinet_moved_on_raises_one_task_per_mismatch(
    kiosk: tuple[Config, SimLockBoard], tmp_path: Path
) -> None:
    cfg, sim = kiosk
    app = App(cfg)
    try:
        cab = _cabinet(app)
        cab.start()
        a, code_a = _deposit(cab, sim, "LS202600000001")
        b, _ = _deposit(cab, sim, "LS202600000002")
    finally:
        app.close()
    r = _kiosk(Path(cfg.source), "db", "backup", str(tmp_path / "bk"))
    assert r.returncode == 0 and "backed up: kiosk BK-HALL-01" in r.stdout, r.stderr
    manifest = json.loads((tmp_path / "bk" / "manifest.json").read_text())
    assert stat.S_IMODE((tmp_path / "bk").stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "bk" / "kiosk.db").stat().st_mode) == 0o600
    # Life goes on after the backup: a third parcel goes into the free compartment, A's is picked up.
    app = App(cfg)
    try:
        cab = _cabinet(app)
        cab.start()
        c, _ = _deposit(cab, sim, "LS202600000003")
        assert _pickup(cab, sim, code_a) == a
    finally:
        app.close()
    assert {a, b, c} == {"A01", "A02", "A03"}

    r = _kiosk(Path(cfg.source), "db", "restore", str(tmp_path / "bk"))
    assert r.returncode == 0 and "chain verified" in r.stdout, r.stderr
    assert read_marker(cfg.data_dir).reason == "restore"  # type: ignore[union-attr]
    assert len(list(cfg.data_dir.glob("kiosk.db.replaced-*"))) == 1  # the replaced database is kept

    for _ in range(2):  # a second start raises nothing new
        app = App(cfg)
        try:
            _cabinet(app).start()
            with app.db.transaction() as s:
                tasks = (
                    s.execute(
                        select(StaffTask)
                        .where(StaffTask.kind == S.TASK_SENSOR_MISMATCH)
                        .order_by(StaffTask.id)
                    )
                    .scalars()
                    .all()
                )
                details = [t.detail for t in tasks]
                entries = [e for e in audit.tail(s, 50) if e.action == "db.restore"]
        finally:
            app.close()
        assert len(details) == 2, details
        assert details[0].startswith(
            f"{a}: after the restore from backup the records say occupied, the item sensor reads empty"
        )
        assert details[1].startswith(
            f"{c}: after the restore from backup the records say free, the item sensor reads an item inside"
        )
        assert entries and entries[0].detail["backup_audit_seq"] == manifest["audit_seq"]


def test_backup_is_consistent_while_the_kiosk_writes(cfg: Config, tmp_path: Path) -> None:
    app = App(cfg)
    stop = threading.Event()

    written = [0]

    def writer() -> None:
        while not stop.is_set():
            app.audit("staff:test", "test.action", f"A{written[0] % 100:02d}", n=written[0], pad="x" * 500)
            written[0] += 1

    def after_more_records(n: int) -> None:  # a loaded machine may starve the writer between two backups
        goal, deadline = written[0] + n, time.monotonic() + 30
        while written[0] < goal and time.monotonic() < deadline:
            time.sleep(0.01)

    t = threading.Thread(target=writer)
    t.start()
    try:
        manifests = []
        for n in range(3):
            after_more_records(3)
            manifests.append(backup(cfg, tmp_path / f"bk{n}"))
    finally:
        stop.set()
        t.join()
        app.close()
    from kiosk.backup import read_manifest, verify

    for n, m in enumerate(manifests):
        assert verify(tmp_path / f"bk{n}" / "kiosk.db", read_manifest(tmp_path / f"bk{n}")) == m.audit_seq
    assert manifests[0].audit_seq < manifests[-1].audit_seq  # taken while records were being added


def _tamper(src: Path, dst: Path, sql: str) -> None:
    shutil.copytree(src, dst)
    con = sqlite3.connect(dst / "kiosk.db")
    con.execute(sql)
    con.commit()
    con.close()


def test_restore_refuses_a_backup_that_is_not_whole(cfg: Config, tmp_path: Path) -> None:
    app = App(cfg)
    for i in range(5):
        app.audit("staff:test", "test.action", f"A0{i}")
    app.close()
    m = backup(cfg, tmp_path / "bk")
    live = cfg.data_dir / "kiosk.db"
    before = live.read_bytes()
    now = dt.datetime.now(dt.UTC)

    # Newest records removed, manifest left alone: the size/SHA-256 differ.
    _tamper(tmp_path / "bk", tmp_path / "cut", f"DELETE FROM audit_log WHERE seq = {m.audit_seq}")
    with pytest.raises(BackupError, match="does not match its manifest"):
        restore(cfg, tmp_path / "cut", now)
    # The same with the manifest "fixed" to the new file: the head is not the manifest's.
    import hashlib

    man = json.loads((tmp_path / "cut" / "manifest.json").read_text())
    data = (tmp_path / "cut" / "kiosk.db").read_bytes()
    man.update(size=len(data), sha256=hashlib.sha256(data).hexdigest())
    (tmp_path / "cut" / "manifest.json").write_text(json.dumps(man))
    with pytest.raises(BackupError, match=rf"audit head \(record {m.audit_seq - 1}\) is not the manifest's"):
        restore(cfg, tmp_path / "cut", now)
    # A record altered inside, manifest re-made to match the file and head: the chain itself is broken.
    _tamper(tmp_path / "bk", tmp_path / "alt", "UPDATE audit_log SET subject = 'A09' WHERE seq = 3")
    man = json.loads((tmp_path / "alt" / "manifest.json").read_text())
    data = (tmp_path / "alt" / "kiosk.db").read_bytes()
    man.update(size=len(data), sha256=hashlib.sha256(data).hexdigest())
    (tmp_path / "alt" / "manifest.json").write_text(json.dumps(man))
    with pytest.raises(BackupError, match="audit chain broken at record 3"):
        restore(cfg, tmp_path / "alt", now)
    # Another kiosk's backup.
    man = json.loads((tmp_path / "bk" / "manifest.json").read_text())
    shutil.copytree(tmp_path / "bk", tmp_path / "other")
    (tmp_path / "other" / "manifest.json").write_text(json.dumps({**man, "kiosk_id": "OTHER-01"}))
    with pytest.raises(BackupError, match="is a backup of kiosk OTHER-01"):
        restore(cfg, tmp_path / "other", now)
    assert live.read_bytes() == before  # nothing was changed by any refusal
    assert not list(cfg.data_dir.glob("kiosk.db.restoring*"))


def test_cli_refusals_are_one_line(cfg: Config, tmp_path: Path) -> None:
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    r = _kiosk(Path(cfg.source), "db", "backup", str(tmp_path / "full"))
    assert r.returncode == 15 and r.stderr.startswith("error: ") and "not an empty directory" in r.stderr
    r = _kiosk(Path(cfg.source), "db", "restore", str(tmp_path / "full"))
    assert r.returncode == 15 and "is not a kiosk backup: no manifest.json" in r.stderr
    assert "Traceback" not in r.stderr


def test_postgresql_is_backed_up_with_pg_dump(tmp_path: Path, db_url: str) -> None:
    if db_url.startswith("sqlite"):
        pytest.skip("the PostgreSQL refusal")
    p = tmp_path / "kiosk.toml"
    text_ = (REPO / "kiosk" / "default.toml").read_text(encoding="utf-8")
    text_ = text_.replace('data_dir = "~/.local/share/hall-kiosk"', f'data_dir = "{tmp_path / "data"}"')
    p.write_text(text_ + f'\n[storage]\nurl = "{db_url}"\n', encoding="utf-8")
    init_kiosk(p)
    r = _kiosk(p, "db", "backup", str(tmp_path / "bk"))
    assert r.returncode == 4 and "uses PostgreSQL" in r.stderr and "pg_dump" in r.stderr


def test_dated_backups_keep_the_newest_n(cfg: Config, tmp_path: Path) -> None:
    """The daily timer's form: `--into PARENT --keep N` names each backup by its UTC time and deletes the oldest
    backups beyond N, never anything in PARENT that is not a backup."""
    parent = tmp_path / "backups"
    r = _kiosk(Path(cfg.source), "db", "backup", "--into", str(parent), "--label", "before-1.0 rc/1")
    assert r.returncode == 0, r.stderr
    (first,) = parent.iterdir()
    assert first.name.startswith("kiosk-20") and first.name.endswith("-before-1.0_rc_1"), first.name
    for old in ("kiosk-20200101T000000Z", "kiosk-20200102T000000Z"):  # two older backups, whole
        shutil.copytree(first, parent / old)
    (parent / "kiosk-technicians-copy").mkdir()  # no manifest: not a backup of this command's, kept
    (parent / "notes.txt").write_text("x")
    r = _kiosk(Path(cfg.source), "db", "backup", "--into", str(parent), "--keep", "2")
    assert r.returncode == 0, r.stderr
    names = sorted(p.name for p in parent.iterdir())
    assert "kiosk-20200101T000000Z" not in names and "kiosk-20200102T000000Z" not in names, names
    assert {first.name, "kiosk-technicians-copy", "notes.txt"} <= set(names) and len(names) == 4, names
    assert r.stdout.count("deleted the older backup") == 2
    newest = max(n for n in names if (parent / n / "manifest.json").is_file())
    assert json.loads((parent / newest / "manifest.json").read_text())["kiosk_id"] == cfg.kiosk.id
    r = _kiosk(Path(cfg.source), "db", "backup", str(tmp_path / "x"), "--keep", "2")
    assert r.returncode == 15 and r.stderr.startswith("error: ") and "--keep N needs --into" in r.stderr
    assert "Traceback" not in r.stderr
