"""The data directory's marker: a lost, emptied or other database is refused, never silently re-created empty."""

from __future__ import annotations

import json
import shutil
import stat
from pathlib import Path

import pytest
from sqlalchemy import select, text

from hallkiosk.wiring import App
from kiosk.config import Config, load_config
from kiosk.datadir import MARKER_NAME, read_marker
from kiosk.errors import DatabaseLost, DatabaseMismatch, DataNotInitialised
from kiosk.identity import Identity
from kiosk.storage.models import AuditRecord
from tests.conftest import REPO, init_kiosk
from tests.support.cli import CliResult, run_cli


def _config(tmp_path: Path, db_url: str | None = None, kiosk_id: str = "DEMO-HALL-01") -> Path:
    text_ = (REPO / "kiosk" / "default.toml").read_text(encoding="utf-8")
    text_ = text_.replace('data_dir = "~/.local/share/hall-kiosk"', f'data_dir = "{tmp_path / "data"}"')
    text_ = text_.replace('id = "DEMO-HALL-01"', f'id = "{kiosk_id}"', 1)
    if db_url:
        text_ += f'\n[storage]\nurl = "{db_url}"\n'
    tmp_path.mkdir(parents=True, exist_ok=True)
    p = tmp_path / "kiosk.toml"
    p.write_text(text_, encoding="utf-8")
    return p


def _kiosk(config: Path, *args: str) -> CliResult:
    # Its own process: start-up refusals are exit codes and stderr lines, and no traceback may reach them.
    return run_cli(config, *args, own_process=True, timeout_s=120)


def _one_line_error(r: CliResult) -> str:
    assert "Traceback" not in r.err, r.err
    # Log lines (a simulator announcing itself) may come first; the error is one line, then its hint.
    lines = [ln for ln in r.err.strip().splitlines() if " WARNING " not in ln]
    assert len(lines) == 2 and lines[0].startswith("error: ") and lines[1].startswith("hint: "), r.err
    return lines[0]


def _deposit(cfg: Config) -> str:
    """A staff deposit through the real cabinet on the simulated lock board: returns the compartment's label."""
    from kiosk.cabinet import Cabinet

    app = App(cfg)
    try:
        cab = Cabinet(
            app.db,
            app.buses,
            app.cfg.cabinets,
            app.cfg.pickup,
            app.clock,
            app.secret,
            cfg.kiosk.id,
            close_poll_interval_s=0.02,
        )
        cab.start()
        h = cab.start_deposit(
            "LS202600000077",
            actor="staff:test",
            size="S",
            applicant=Identity(id_number="11010519491231002X", name="张三", card_kind="resident_id"),
        )
        cc = next(c for c in cfg.cabinets[0].compartments if c.label == h.label)
        sim = app.sims.boards[cfg.cabinets[0].id]
        sim.put_item(cc.board, cc.channel)
        sim.close_door(cc.board, cc.channel)
        assert cab.wait_closed(h, 10).outcome == "deposited"
        return h.label
    finally:
        app.close()


def _audit(cfg: Config, subject: str) -> None:
    app = App(cfg)
    try:
        app.audit("staff:test", "test.action", subject)
    finally:
        app.close()


def test_without_a_marker_nothing_starts_and_db_init_begins(tmp_path: Path) -> None:
    config = _config(tmp_path)
    r = _kiosk(config, "audit", "verify")
    assert r.code == DataNotInitialised.exit_code == 11
    assert "has no kiosk-data.json" in _one_line_error(r)
    assert not (tmp_path / "data" / "kiosk.db").exists()  # refused before anything was created

    r = _kiosk(config, "db", "init")
    assert r.code == 0 and r.out.startswith("initialised: kiosk DEMO-HALL-01"), r.err
    marker_file = tmp_path / "data" / MARKER_NAME
    assert stat.S_IMODE(marker_file.stat().st_mode) == 0o600
    marker = json.loads(marker_file.read_text())
    assert marker["kiosk_id"] == "DEMO-HALL-01" and marker["audit_seq"] == 1 and len(marker["database"]) == 64
    r = _kiosk(config, "audit", "tail", "--json")
    rec = json.loads(r.out.splitlines()[-1])
    assert (
        rec["action"] == "db.init" and rec["subject"] == "DEMO-HALL-01" and rec["detail"]["forced"] is False
    )
    r = _kiosk(config, "db", "init")  # a second init changes nothing
    assert r.code == 0 and "nothing changed" in r.out
    assert _kiosk(config, "audit", "verify").out.startswith("ok: 1 audit records")


def test_a_deleted_database_with_a_parcel_inside_is_refused(tmp_path: Path) -> None:
    cfg = init_kiosk(_config(tmp_path))
    label = _deposit(cfg)
    db_file = tmp_path / "data" / "kiosk.db"
    for f in tmp_path.glob("data/kiosk.db*"):
        f.unlink()
    r = _kiosk(Path(cfg.source), "cabinet", "status")
    assert r.code == DatabaseLost.exit_code == 12
    assert f"the database {db_file} is missing" in _one_line_error(r)
    assert "kiosk db restore" in r.err and "--force" in r.err
    assert not db_file.exists()  # never re-created empty: the compartment would show as free
    r = _kiosk(Path(cfg.source), "db", "init")
    assert r.code == 12 and "only with --force" in r.err
    r = _kiosk(Path(cfg.source), "db", "init", "--force")
    assert r.code == 0, r.err
    rec = json.loads(_kiosk(Path(cfg.source), "audit", "tail", "--json").out.splitlines()[-1])
    assert (
        rec["action"] == "db.init" and rec["detail"]["forced"] is True and rec["detail"]["replaced_database"]
    )
    assert label  # the parcel's compartment is what the refusal protected


def test_an_emptied_sqlite_file_is_refused(tmp_path: Path) -> None:
    cfg = init_kiosk(_config(tmp_path))
    (tmp_path / "data" / "kiosk.db").write_bytes(b"")
    for f in tmp_path.glob("data/kiosk.db-*"):
        f.unlink()
    with pytest.raises(DatabaseLost, match=r"is empty \(0 bytes\)"):
        App(cfg).db  # noqa: B018


def test_an_emptied_database_is_refused(tmp_path: Path, db_url: str) -> None:
    cfg = init_kiosk(_config(tmp_path, db_url))
    app = App(cfg)
    with (
        app.db.engine.begin() as c
    ):  # every table dropped, as a DROP SCHEMA or a new empty file would leave it
        if app.db.is_sqlite:
            names = [
                r[0]
                for r in c.execute(
                    text("SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'")
                )
            ]
            c.execute(text("PRAGMA foreign_keys=OFF"))
            for n in names:
                c.execute(text(f'DROP TABLE "{n}"'))
        else:
            c.execute(text("DROP SCHEMA public CASCADE"))
            c.execute(text("CREATE SCHEMA public"))
    app.close()
    with pytest.raises(DatabaseLost, match=r"is empty \(no schema\)"):
        App(cfg).db  # noqa: B018


def test_a_database_whose_audit_log_was_emptied_is_refused(tmp_path: Path, db_url: str) -> None:
    cfg = init_kiosk(_config(tmp_path, db_url))
    app = App(cfg)
    with app.db.engine.begin() as c:
        c.execute(text("DELETE FROM audit_log"))
    app.close()
    with pytest.raises(DatabaseLost, match="holds no audit record"):
        App(cfg).db  # noqa: B018


def test_another_kiosks_database_or_a_stale_copy_is_refused(tmp_path: Path) -> None:
    one = init_kiosk(_config(tmp_path / "one"))
    two = init_kiosk(_config(tmp_path / "two"))
    stale = tmp_path / "stale.db"
    shutil.copy(tmp_path / "one" / "data" / "kiosk.db", stale)  # before anything more happened
    _audit(one, "A01")  # now one's head moves on
    # Another kiosk's database in this data directory.
    shutil.copy(tmp_path / "two" / "data" / "kiosk.db", tmp_path / "one" / "data" / "kiosk.db")
    r = _kiosk(Path(one.source), "audit", "verify")
    assert r.code == DatabaseMismatch.exit_code == 13
    assert "is not the database this data directory was initialised with" in _one_line_error(r)
    # A copy taken before the marker was written (re-initialise one, then put back the older copy).
    assert _kiosk(Path(one.source), "db", "init", "--force").code == 0
    _audit(one, "A02")
    shutil.copy(stale, tmp_path / "one" / "data" / "kiosk.db")
    with pytest.raises(DatabaseMismatch):
        App(one).db  # noqa: B018
    del two


def test_a_stale_copy_of_the_same_database_is_refused(tmp_path: Path) -> None:
    cfg = init_kiosk(_config(tmp_path))
    db_file = tmp_path / "data" / "kiosk.db"
    _audit(cfg, "A01")
    old = tmp_path / "old.db"
    shutil.copy(db_file, old)
    _audit(cfg, "A02")
    # A marker re-written later (as `kiosk db restore` does after a restore) names the newer head.
    from kiosk.datadir import stamp
    from kiosk.storage.db import Database

    db = Database(cfg.storage_url)
    stamp(cfg, db, "restore")
    db.dispose()
    shutil.copy(old, db_file)
    with pytest.raises(
        DatabaseMismatch, match=r"ends at audit record 2, before the marker's 3 \(a stale copy\?\)"
    ):
        App(cfg).db  # noqa: B018


def test_a_changed_kiosk_id_is_refused(tmp_path: Path) -> None:
    init_kiosk(_config(tmp_path))
    cfg = load_config(_config(tmp_path, kiosk_id="DEMO-HALL-02"))
    with pytest.raises(
        DatabaseMismatch, match=r"initialised for kiosk DEMO-HALL-01, but the config says kiosk\.id"
    ):
        App(cfg).db  # noqa: B018


def test_a_second_kiosk_joins_a_shared_database(tmp_path: Path, db_url: str) -> None:
    """On one PostgreSQL (or one file) a fleet's kiosks each have their own marker naming the same database."""
    one = init_kiosk(_config(tmp_path / "one", db_url, kiosk_id="KIOSK-A"))
    two = init_kiosk(_config(tmp_path / "two", db_url, kiosk_id="KIOSK-B"))
    m1, m2 = read_marker(one.data_dir), read_marker(two.data_dir)
    assert m1 and m2 and m1.database == m2.database and m2.audit_seq == m1.audit_seq + 1
    for cfg in (one, two):
        app = App(cfg)
        with app.db.transaction() as s:
            inits = (
                s.execute(select(AuditRecord.subject).where(AuditRecord.action == "db.init")).scalars().all()
            )
        app.close()
        assert inits == ["KIOSK-A", "KIOSK-B"]


def test_db_init_in_process(cfg: Config) -> None:
    """The shared ``cfg`` fixture is initialised (tests.conftest.init_kiosk): commands just work on it."""
    r = run_cli(cfg.source, "db", "init")
    assert r.code == 0 and "already initialised" in r.out


def test_diag_names_a_lost_database_without_creating_it(tmp_path: Path) -> None:
    cfg = init_kiosk(_config(tmp_path))
    db_file = tmp_path / "data" / "kiosk.db"
    r = _kiosk(Path(cfg.source), "diag", "--json", "--only", "storage")
    mark = next(c for c in json.loads(r.out)["checks"] if c["id"] == "storage.marker")
    assert mark["status"] == "OK" and mark["data"]["audit_seq"] == 1
    for f in tmp_path.glob("data/kiosk.db*"):
        f.unlink()
    r = _kiosk(Path(cfg.source), "diag", "--json", "--only", "storage")
    rep = json.loads(r.out)
    mark = next(c for c in rep["checks"] if c["id"] == "storage.marker")
    assert r.code == 2 and mark["status"] == "FAULT" and "is missing" in mark["finding"]
    assert "kiosk db restore" in mark["hint"]
    assert not db_file.exists()
    r = _kiosk(Path(cfg.source), "diag", "--json")  # every area: none may create an empty file either
    assert "Traceback" not in r.err and json.loads(r.out)["checks"]
    assert not db_file.exists()


def test_the_heartbeat_diag_checks_the_marker_on_the_kiosks_own_database(
    cfg: Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every heartbeat runs the passive diagnostics: a new engine each minute would be a new SQLite connection and
    page cache to allocate and free for months (bench/bench_soak.py). The running app's database is used."""
    from hallkiosk.diag import storage
    from hallkiosk.diag.runner import Ctx, Options

    app = App(cfg)
    try:
        app.db  # noqa: B018 - open, as in the running kiosk
        monkeypatch.setattr("kiosk.datadir.Database", lambda *a, **k: pytest.fail("opened a second database"))
        check = storage.marker(Ctx(app, Options(), ("storage",)))
        assert check.status == "OK" and check.data["audit_seq"] == 1, check
    finally:
        app.close()
