"""A cabinet belongs to one kiosk (issue 11, item 4, first half): a second kiosk on the same database configured
with the same cabinet id is refused before any lock bus is opened, naming both kiosks and the config key, and the
first kiosk's compartments are left exactly as they were."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from kiosk.storage.db import Database
from kiosk.storage.models import Compartment
from tests.conftest import init_kiosk
from tests.support.cli import run_cli
from tests.support.config import write_config

CAB = {
    "id": "CAB-LOBBY",
    "bus": "sim",
    "family": "kerong-cu",
    "boards": [0],
    "compartments": [{"label": f"A0{i}", "size": "M", "board": 0, "channel": i} for i in range(1, 4)],
}


def _kiosk(tmp: Path, db_url: str, kiosk_id: str, cabinet_id: str) -> Path:
    p = write_config(
        tmp / kiosk_id, kiosk={"id": kiosk_id}, storage={"url": db_url}, cabinets=[{**CAB, "id": cabinet_id}]
    )
    init_kiosk(p)
    return p


def test_second_kiosk_with_the_same_cabinet_id_is_refused(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KIOSK_SECRET_FILE", str(tmp_path / "hall-secret.key"))
    first = _kiosk(tmp_path, db_url, "LOBBY-01", "CAB-LOBBY")
    r = run_cli(first, "cabinet", "disable", "A02", "--reason", "broken hinge")
    assert r.code == 0, r.err
    db = Database(db_url)
    try:

        def compartments() -> list[tuple[str, str, str]]:
            with db.transaction() as s:
                return [
                    (c.cabinet_id, c.label, c.state)
                    for c in s.execute(select(Compartment).order_by(Compartment.label)).scalars()
                ]

        before = compartments()
        assert ("CAB-LOBBY", "A02", "disabled") in before
        clash = _kiosk(tmp_path, db_url, "LOBBY-02", "CAB-LOBBY")
        r = run_cli(clash, "cabinet", "status", own_process=True)
        assert r.code == 17 and "Traceback" not in r.err
        line = r.err.strip().splitlines()[0]
        assert (
            "cabinets[0].id: cabinet CAB-LOBBY belongs to kiosk LOBBY-01 on this database; this is kiosk LOBBY-02"
            in line
        )
        assert compartments() == before  # nothing synced, nothing taken over or disabled
        assert run_cli(first, "cabinet", "status").code == 0  # the first kiosk still drives it
    finally:
        db.dispose()
