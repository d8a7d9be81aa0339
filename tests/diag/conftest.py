"""A kiosk on shipped simulators through the real drivers: lock boards and a GA 467 on ptys, the platform on loopback.

The test owns each simulator (so it can inject faults) and writes a kiosk.toml
pointing the real drivers and client at them; ``kiosk diag`` then runs as the
technician would run it, in-process, through ``hallkiosk.cli.main``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from backend_client.sim import PlatformSim
from drivers.cardreader.ga467_sim import Ga467Sim
from drivers.lockboard.sim import SimLockBoard
from hallkiosk.wiring import App
from kiosk.config import load_config
from tests.conftest import init_kiosk
from tests.support.cli import run_cli

KIOSK_ID = "TEST-HALL-07"
USER = "kiosk-diag"
PASSWORD = "correct horse battery staple 7"
PW_ENV = "KIOSK_DIAG_TEST_PASSWORD"
REPLY_TIMEOUT_S = 0.2
RETRIES = 1
CONNECT_TIMEOUT_S = 1.0
SOAP_TIMEOUT_S = 2.0


@dataclass
class Rig:
    """The simulators, the config file, and helpers to run the CLI against them."""

    tmp: Path
    boards: SimLockBoard
    card: Ga467Sim
    platform: PlatformSim
    config: Path
    data_dir: Path
    capsys: pytest.CaptureFixture[str]
    extra: dict[str, Any] = field(default_factory=dict)

    def write_config(
        self,
        *,
        endpoint: str | None = None,
        data_dir: Path | None = None,
        boards: str = "[0, 1]",
        readers: str | None = None,
        kiosk_extra: str = "",
    ) -> Path:
        d = data_dir or self.data_dir
        ga467 = f'[[card_readers]]\nkind = "ga467"\nname = "id-reader"\nurl = "{self.card.path}"\n'
        reader = readers if readers is not None else ga467
        comps = ",\n".join(
            f'  {{ label = "A{i:02d}", size = "{"SML"[i % 3]}", board = 0, channel = {i} }}'
            for i in range(1, 7)
        )
        comps += ',\n  { label = "B01", size = "M", board = 1, channel = 1 }'
        self.config.write_text(
            f"""
[kiosk]
id = "{KIOSK_ID}"
hall = "测试大厅"
data_dir = "{d}"
{kiosk_extra}

[[cabinets]]
id = "CAB-T1"
bus = "{self.boards.urls[0]}"
family = "kerong-cu"
boards = {boards}
reply_timeout_s = {REPLY_TIMEOUT_S}
retries = {RETRIES}
open_timeout_s = 0.5
open_poll_interval_s = 0.05
close_timeout_s = 5
compartments = [
{comps}
]

{reader}
[platform]
endpoint = "{endpoint or self.platform.url}"
username = "{USER}"
password_env = "{PW_ENV}"
timeout_s = {SOAP_TIMEOUT_S}
connect_timeout_s = {CONNECT_TIMEOUT_S}

[printer]
kind = "none"
""",
            encoding="utf-8",
        )
        return self.config

    def app(self) -> App:
        return App(load_config(self.config))

    def cli(self, *args: str) -> tuple[int, str]:
        """Run ``kiosk -c CONFIG ARGS`` in this process; returns (exit code, stdout)."""
        r = run_cli(self.config, *args)
        return r.code, r.out

    def diag(self, *args: str) -> tuple[int, dict[str, Any]]:
        """``kiosk diag --json ARGS``: exit code and the parsed report."""
        code, out = self.cli("diag", "--json", *args)
        return code, json.loads(out)


def check(report: dict[str, Any], check_id: str) -> dict[str, Any]:
    for c in report["checks"]:
        if c["id"] == check_id:
            return c
    raise AssertionError(f"no check {check_id} in {[c['id'] for c in report['checks']]}")


def problems(report: dict[str, Any]) -> dict[str, str]:
    return {c["id"]: f"{c['status']}: {c['finding']}" for c in report["checks"] if c["status"] != "OK"}


def migrate(config: Path) -> None:
    """``kiosk db init``: migrates the database and writes the data directory's marker."""
    init_kiosk(config)


@pytest.fixture
def rig(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Iterator[Rig]:
    monkeypatch.setenv(PW_ENV, PASSWORD)
    # main() would add a stderr handler bound to this test's captured stream; later tests' threads would log to it closed.
    monkeypatch.setattr("kiosk.logsetup._done", True)
    monkeypatch.delenv("KIOSK_SECRET_FILE", raising=False)
    boards = SimLockBoard("kerong-cu", [0, 1])
    boards.serve_pty()
    card = Ga467Sim().start()
    platform = PlatformSim(users={USER: (PASSWORD, [KIOSK_ID])}).start()
    r = Rig(tmp_path, boards, card, platform, tmp_path / "kiosk.toml", tmp_path / "data", capsys)
    r.write_config()
    migrate(r.config)
    # A started kiosk has its secret; diag reports a missing one.
    from kiosk.secret import load_or_create_secret

    load_or_create_secret(r.data_dir)
    try:
        yield r
    finally:
        platform.stop()
        card.stop()
        boards.stop()
