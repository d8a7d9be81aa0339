"""A healthy kiosk on the simulators: every check OK, exit 0, and the JSON shape is the documented one."""

from __future__ import annotations

import json

from hallkiosk.diag import run_checks
from kiosk.diag_model import AREAS, SCHEMA_VERSION, Report

from .conftest import Rig, check, problems

TOP_KEYS = {
    "schema",
    "schema_version",
    "kiosk_id",
    "software_version",
    "started_at",
    "duration_ms",
    "status",
    "exit_code",
    "counts",
    "areas",
    "simulated",
    "checks",
}
CHECK_KEYS = {"id", "area", "title", "status", "finding", "hint", "device", "data", "duration_ms", "waited_s"}


def test_healthy_kiosk_is_all_ok(rig: Rig) -> None:
    code, rep = rig.diag()
    assert problems(rep) == {}
    assert code == 0 and rep["status"] == "OK" and rep["exit_code"] == 0
    assert rep["areas"] == list(AREAS)
    # Every area contributed, each layer of the platform separately.
    ids = {c["id"] for c in rep["checks"]}
    for want in (
        "card.reader.0",
        "lockboards.CAB-T1.board.0",
        "lockboards.CAB-T1.board.1",
        "lockboards.CAB-T1.doors",
        "lockboards.CAB-T1.faulty",
        "platform.dns",
        "platform.tcp",
        "platform.tls",
        "platform.soap",
        "platform.auth",
        "platform.clock",
        "platform.outbox",
        "platform.dead_letters",
        "platform.outbox_fleet",
        "storage.integrity",
        "storage.marker",
        "storage.permissions",
        "storage.schema",
        "storage.disk",
        "storage.audit",
        "system.version",
        "system.config",
        "system.uptime",
        "system.memory",
        "printer.none",
    ):
        assert want in ids, want
    assert "SAM answers OK" in check(rep, "card.reader.0")["finding"]


def test_json_schema_is_the_documented_one(rig: Rig) -> None:
    _code, rep = rig.diag("--only", "storage", "--only", "system")
    assert set(rep) == TOP_KEYS
    assert rep["schema"] == "hall-kiosk/diag" and rep["schema_version"] == SCHEMA_VERSION
    assert rep["areas"] == ["storage", "system"]
    assert {c["area"] for c in rep["checks"]} == {"storage", "system"}
    for c in rep["checks"]:
        assert set(c) == CHECK_KEYS
        assert c["status"] in ("OK", "DEGRADED", "FAULT")
        assert "\n" not in c["finding"]
    assert sum(rep["counts"].values()) == len(rep["checks"])
    # The document round-trips through the model unchanged.
    assert json.loads(Report.from_dict(rep).to_json()) == rep


def test_text_output_and_unknown_area(rig: Rig) -> None:
    code, out = rig.cli("diag", "--only", "system")
    assert code == 0
    assert "SYSTEM" in out and "result: OK" in out
    try:
        rig.cli("diag", "--only", "scanner")
    except ValueError as err:
        assert "unknown diagnostics area scanner" in str(err)
    else:
        raise AssertionError("an unknown area must be refused")


def test_device_health_sends_no_heartbeat_and_scans_nothing(rig: Rig) -> None:
    from hallkiosk.diag import device_health

    before = len(rig.platform.requests()) if hasattr(rig.platform, "requests") else None
    app = rig.app()
    try:
        health = {h.name: h for h in device_health(app)}
    finally:
        app.close()
    assert health["lockboard.CAB-T1.0"].state == "OK"
    assert health["storage"].state == "OK" and health["cardreader.id-reader"].state == "OK"
    assert "platform" not in health  # the heartbeat itself proves the platform
    if before is not None:
        assert len(rig.platform.requests()) == before


def test_run_checks_api_for_the_ui(rig: Rig) -> None:
    app = rig.app()
    try:
        rep = run_checks(app, only="lockboards")
    finally:
        app.close()
    assert rep.areas == ("lockboards",) and rep.exit_code == 0
    doors = rep.get("lockboards.CAB-T1.doors").data["doors"]
    assert [d["label"] for d in doors] == ["A01", "A02", "A03", "A04", "A05", "A06", "B01"]
    assert all(d["closed"] for d in doors)
