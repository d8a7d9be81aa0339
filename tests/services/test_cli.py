"""``kiosk catalog show|search``, ``kiosk case show``, ``kiosk ticket show``, ``kiosk notices remind`` against the
simulator, as staff use them at the desk."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from backend_client.sim import DEMO_APPLICANT, PlatformSim
from hallkiosk.cli import main
from kiosk.platform_models import HotlineTicket
from tests.conftest import init_kiosk

from .conftest import KIOSK, PASSWORD, USER


@pytest.fixture
def kiosk_toml(tmp_path: Path, sim: PlatformSim, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("KIOSK_TEST_PLATFORM_PW", PASSWORD)
    p = tmp_path / "kiosk.toml"
    p.write_text(f"""
[kiosk]
id = "{KIOSK}"
hall = "测试大厅"
data_dir = "{tmp_path / 'data'}"
[platform]
endpoint = "{sim.url}"
username = "{USER}"
password_env = "KIOSK_TEST_PLATFORM_PW"
""", encoding="utf-8")
    init_kiosk(p)
    return str(p)


def test_catalog_show_and_search(kiosk_toml: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--config", kiosk_toml, "catalog", "show", "--refresh", "--guides"]) == 0
    out = capsys.readouterr().out
    assert "2 bundle(s)" in out and "一件事 新生儿出生一件事" in out and "eligibility: age >= 60" in out
    assert "instant (秒批)" in out and "免费" in out and "material:  近期一寸免冠彩色照片 原件 x2" in out
    assert main(["--config", kiosk_toml, "catalog", "search", "lnr"]) == 0
    assert "MZ-ELDER-CARD" in capsys.readouterr().out.splitlines()[0]
    assert main(["--config", kiosk_toml, "catalog", "search", "qqqzzz"]) == 1


def test_case_and_ticket_show(kiosk_toml: str, sim: PlatformSim, client, capsys: pytest.CaptureFixture[str]) -> None:
    mailed = next(c for c in sim.backoffice.cases_of(DEMO_APPLICANT.id_number) if c.delivery_mode == "MAIL")
    assert main(["--config", kiosk_toml, "case", "show", mailed.number.lower(), "--json"]) == 0
    row = json.loads(capsys.readouterr().out)
    assert (row["where"], row["waybill_number"], row["courier"]) == ("mailed", "1190512345678", "EMS")
    n = client.submit_hotline_ticket("0f0b6c2e-5a8d-4f7e-9a51-2b9f1d0c3e11",
                                     HotlineTicket("COMPLAINT", "13800138000", "电话13800138000，排队太久"))
    sim.backoffice.reply_ticket(n.ticket_number, "已增设窗口")
    assert main(["--config", kiosk_toml, "ticket", "show", n.ticket_number]) == 0
    out = capsys.readouterr().out
    assert "REPLIED" in out and "已增设窗口" in out and "138****8000" in out and "13800138000" not in out
    assert main(["--config", kiosk_toml, "ticket", "show", "RX2099010100001"]) == 1
    assert "UNKNOWN_TICKET" in capsys.readouterr().err


def test_notices_remind(kiosk_toml: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--config", kiosk_toml, "notices", "remind"]) == 0
    assert "0 reminder(s) queued" in capsys.readouterr().out
