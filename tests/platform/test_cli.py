"""``kiosk platform ping`` and ``kiosk sim platform``, end to end."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from backend_client.client import PlatformClient
from backend_client.sim import DEMO_KIOSK_ID, DEMO_PASSWORD, DEMO_USERNAME, PlatformSim
from kiosk.config import Config
from tests.support.cli import run_cli

REPO = Path(__file__).resolve().parents[2]


def _config_for(cfg: Config, tmp_path: Path, endpoint: str) -> str:
    text = Path(cfg.source).read_text(encoding="utf-8")
    text = text.replace('endpoint = "sim"', f'endpoint = "{endpoint}"\npassword_env = "TEST_PLATFORM_PW"')
    p = tmp_path / "remote.toml"
    p.write_text(text, encoding="utf-8")
    return str(p)


def test_ping_on_the_builtin_simulator(cfg: Config) -> None:
    r = run_cli(cfg.source, "platform", "ping")
    assert r.code == 0
    out = r.out
    assert "SIMULATED" in out and "auth:       ok" in out and "catalog version 2026.11-1" in out
    assert "clock skew: " in out and ": ok" in out.splitlines()[-1]


def test_ping_failures_exit_non_zero(cfg: Config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with PlatformSim() as sim:
        path = _config_for(cfg, tmp_path, sim.url)
        monkeypatch.setenv("TEST_PLATFORM_PW", "wrong-password")
        r = run_cli(path, "platform", "ping")
        assert r.code == 8
        assert "auth:       FAILED" in r.out

        monkeypatch.setenv("TEST_PLATFORM_PW", DEMO_PASSWORD)
        r = run_cli(path, "platform", "ping")
        assert r.code == 0
        sim.clock_offset_s = 150  # beyond max_clock_skew_s (60), inside the token window (300)
        r = run_cli(path, "platform", "ping")
        assert r.code == 9
        assert "TOO FAR OFF" in r.out
        sim.faults.platform_fault("MAINTENANCE", retry_after_s=60)
        r = run_cli(path, "platform", "ping")
        assert r.code == 7
    r = run_cli(path, "platform", "ping")
    assert r.code == 7  # nobody listening any more
    out = r.out
    assert "heartbeat:  FAILED" in out and DEMO_PASSWORD not in out


def test_ping_without_password_names_the_setting(
    cfg: Config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TEST_PLATFORM_PW", raising=False)
    path = _config_for(cfg, tmp_path, "http://127.0.0.1:9/none")
    r = run_cli(path, "platform", "ping")
    assert r.code == 3  # ConfigError's exit code
    assert "platform.password_env" in r.err


def test_sim_cli_serves_until_stopped() -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO), "KIOSK_PLATFORM_PASSWORD": ""}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from backend_client.sim import cli_main; sys.exit(cli_main(['--port', '0']))",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=REPO,
    )
    try:
        first = proc.stdout.readline()
        assert first.startswith("platform simulator on http://127.0.0.1:"), first + proc.stderr.read()
        url = first.split()[3]
        with PlatformClient(url, DEMO_USERNAME, DEMO_PASSWORD, DEMO_KIOSK_ID) as c:
            assert c.heartbeat("1", []).catalog_version
            assert c.query_cases(applicant_id_number="110105195803121232")
    finally:
        proc.terminate()
        proc.wait(timeout=10)
