"""The UI's Kivy-free parts: the session's clock and wipe, the font lookup, the simulated printer, the catalogue."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from drivers.printer.fonts import find_cjk_font
from drivers.printer.sim import SimPrinter
from kiosk.errors import ConfigError
from kiosk.identity import Identity
from kiosk.session import KioskSession
from ui.i18n import Catalogue


def test_session_phases_and_countdown() -> None:
    s = KioskSession(warning_after_s=60, countdown_s=15)
    s.touch(100.0)
    assert s.phase(159.9) == "active"
    assert s.phase(160.0) == "warning" and s.countdown_left(160.0) == 15
    assert s.countdown_left(170.2) == 5
    assert s.phase(175.0) == "expired" and s.countdown_left(175.0) == 0


def test_wipe_forgets_the_person_and_bumps_the_generation() -> None:
    s = KioskSession(default_language="zh")
    ident = Identity("110105199001011232", "张三", "resident_id")
    s.identify(ident, "r1", 1.0)
    s.language, s.large_text = "en", True
    s.form["phone"] = "13800138000"
    s.scratch["receipt"] = object()
    gen = s.generation
    s.wipe(2.0)
    assert s.is_blank() and ident.wiped and ident.id_number == "" and ident.name == ""
    assert s.language == "zh" and not s.large_text and s.generation == gen + 1


def test_another_persons_card_replaces_the_session() -> None:
    s = KioskSession()
    first = Identity("110105199001011232", "张三", "resident_id")
    s.identify(first, "r1", 1.0)
    s.form["phone"] = "1"
    s.identify(Identity("110105195803121232", "李四", "resident_id"), "r1", 2.0)
    assert first.wiped and s.form == {} and s.identity is not None and s.identity.name == "李四"


def test_staff_mode_starts_blank() -> None:
    s = KioskSession()
    s.identify(Identity("110105199001011232", "张三", "resident_id"), "r1", 1.0)
    s.enter_staff("staff", "04A1B2C3D4", 2.0)
    assert s.identity is None and s.is_staff and s.staff_id == "04A1B2C3D4"


def test_missing_font_is_a_clear_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"ui\.font: no Chinese") as err:
        find_cjk_font("", candidates=(str(tmp_path / "none.ttc"),))
    assert "fonts-wqy-microhei" in err.value.hint
    with pytest.raises(ConfigError, match=r"ui\.font: .* does not exist"):
        find_cjk_font(str(tmp_path / "nope.ttf"))


def test_simulated_printer_renders_chinese_and_a_qr(tmp_path: Path) -> None:
    p = SimPrinter(tmp_path, find_cjk_font())
    p.print_receipt(["演示政务服务中心", "办件编号 Case: ZW20261125000001"], "CASE:ZW20261125000001")
    p.print_receipt(["second"], None)
    assert [x.name for x in p.printed] == ["receipt-00001.png", "receipt-00002.png"]
    img = Image.open(p.printed[0]).convert("L")
    # Ink in the text rows and in the QR code below them; a blank page would fail both.
    assert img.crop((0, 0, img.width, 100)).getextrema()[0] < 50
    assert img.crop((0, 120, img.width, img.height)).getextrema()[0] < 50
    assert SimPrinter(tmp_path, find_cjk_font())._seq.__next__() == 3, "numbering continues after a restart"


def test_catalogue_is_complete_and_formats() -> None:
    c = Catalogue()
    assert c.missing() == {}
    assert c.t("door.open_title", "en", label="A07") == "Door A07 is open"
    assert c.t("door.open_title", "zh", label="A07") == "A07 号柜门已打开"
    assert c.t("no.such.key", "en") == "no.such.key"


def test_kv_files_hold_no_literal_text() -> None:
    """Every shown string comes from the catalogue: a kv `text:` is a binding, never a quoted literal."""
    import ast
    import re

    ui = Path(__file__).resolve().parents[2] / "ui"
    bad, seen = [], 0
    for kv in ui.rglob("*.kv"):
        for n, line in enumerate(kv.read_text(encoding="utf-8").splitlines(), 1):
            m = re.match(r"\s*text:\s*(.+)$", line)
            if not m:
                continue
            seen += 1
            try:
                value = ast.literal_eval(m.group(1).strip())
            except (ValueError, SyntaxError):
                continue  # an expression: a binding to the catalogue or to the screen's state
            if isinstance(value, str) and value.strip():
                bad.append(f"{kv.name}:{n}: {line.strip()}")
    assert seen > 50, "the check found the kv files"
    assert not bad, bad
