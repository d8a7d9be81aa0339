"""``kiosk catalog show|search``, ``kiosk case show``, ``kiosk ticket show``, ``kiosk notices remind`` against the
simulator, as staff use them at the desk."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from backend_client.sim import DEMO_APPLICANT, PlatformSim
from kiosk.platform_models import HotlineTicket
from tests.conftest import init_kiosk
from tests.support.cli import run_cli
from tests.support.config import write_config
from tests.support.platform import KIOSK, PASSWORD, USER


@pytest.fixture
def kiosk_toml(tmp_path: Path, sim: PlatformSim, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("KIOSK_TEST_PLATFORM_PW", PASSWORD)
    p = write_config(
        tmp_path,
        kiosk={"id": KIOSK},
        platform={"endpoint": sim.url, "username": USER, "password_env": "KIOSK_TEST_PLATFORM_PW"},
    )
    init_kiosk(p)
    return p


def test_catalog_show_and_search(kiosk_toml: Path) -> None:
    r = run_cli(kiosk_toml, "catalog", "show", "--refresh", "--guides")
    assert r.code == 0
    assert "2 bundle(s)" in r.out and "一件事 新生儿出生一件事" in r.out and "eligibility: age >= 60" in r.out
    assert (
        "instant (秒批)" in r.out and "免费" in r.out and "material:  近期一寸免冠彩色照片 原件 x2" in r.out
    )
    r = run_cli(kiosk_toml, "catalog", "search", "lnr")
    assert r.code == 0
    assert "MZ-ELDER-CARD" in r.out.splitlines()[0]
    assert run_cli(kiosk_toml, "catalog", "search", "qqqzzz").code == 1


def test_case_and_ticket_show(kiosk_toml: Path, sim: PlatformSim, client) -> None:
    mailed = next(c for c in sim.backoffice.cases_of(DEMO_APPLICANT.id_number) if c.delivery_mode == "MAIL")
    r = run_cli(kiosk_toml, "case", "show", mailed.number.lower(), "--json")
    assert r.code == 0
    row = json.loads(r.out)
    assert (row["where"], row["waybill_number"], row["courier"]) == ("mailed", "1190512345678", "EMS")
    n = client.submit_hotline_ticket(
        "0f0b6c2e-5a8d-4f7e-9a51-2b9f1d0c3e11",
        HotlineTicket("COMPLAINT", "13800138000", "电话13800138000，排队太久"),
    )
    sim.backoffice.reply_ticket(n.ticket_number, "已增设窗口")
    r = run_cli(kiosk_toml, "ticket", "show", n.ticket_number)
    assert r.code == 0
    assert (
        "REPLIED" in r.out and "已增设窗口" in r.out and "138****8000" in r.out and "13800138000" not in r.out
    )
    r = run_cli(kiosk_toml, "ticket", "show", "RX2099010100001")
    assert r.code == 1
    assert "UNKNOWN_TICKET" in r.err


def test_notices_remind(kiosk_toml: Path) -> None:
    r = run_cli(kiosk_toml, "notices", "remind")
    assert r.code == 0
    assert "0 reminder(s) queued" in r.out
