"""Every screen in both languages: no text overflows its widget; screenshots for the artefacts and docs/screenshots/."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PIL import Image

from tests.ui.conftest import shot
from tests.ui.flows import deposit_ready, slot_of
from tests.ui.harness import REPO, Driver

DOCS = REPO / "docs" / "screenshots"
SCREENS = [
    "start",
    "identify",
    "matters",
    "form",
    "review",
    "result",
    "cases",
    "pickup",
    "door",
    "dropoff",
    "rate",
    "pin",
    "staff",
    "staff_deposit",
    "staff_collect",
    "staff_compartments",
    "tech",
    "tech_door_test",
    "tech_door_result",
    "inactivity_warning",
    "start_large_text",
]


def _doc(src: Path) -> None:
    """A half-size copy for the README (the full-size one stays in the test artefacts).

    Only with UPDATE_SCREENSHOTS=1: the header shows the clock, so refreshing docs/ on every run would
    leave the work tree dirty after each `make test`."""
    if os.environ.get("UPDATE_SCREENSHOTS") != "1":
        return
    DOCS.mkdir(parents=True, exist_ok=True)
    img = Image.open(src)
    img.resize((img.width // 2, img.height // 2), Image.Resampling.LANCZOS).save(
        DOCS / src.name, optimize=True
    )


def _snap(k: Driver, name: str) -> None:
    _doc(shot(k, name))


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_screen(k: Driver, lang: str) -> None:
    app, rt = k.app, k.rt
    app.set_language(lang)
    _snap(k, "start")
    # A citizen with a card.
    app.go("identify", next_screen="matters")
    rt.sims.card_sim().insert_demo_card()
    k.wait_for(lambda: app.screen.reader_state == "read", timeout=20, what="the card")
    _snap(k, "identify")
    ident = app.session.identity
    app.go("matters")
    k.wait_for(lambda: app.screen.ids.rows.children, what="the catalog")
    _snap(k, "matters")
    elder = next(m for m in rt.filing.matters() if m.code == "MZ-ELDER-CARD")
    app.go("form", matter=elder)
    form = app.screen
    k.keys(form.ids.numpad, "13800138000")
    k.tap_id("btn_next")  # the address: the letter keyboard, with pinyin typed and the candidate bar above it
    k.wait_for(lambda: app.pinyin_lexicon.ready, timeout=90, what="the pinyin index")
    if not form.ids.keyboard.chinese:
        k.keys(form.ids.keyboard, ["mode"])
    k.keys(form.ids.keyboard, "BEIJINGSHI")
    _snap(k, "form")
    k.tap(next(b for b in form.bar.cand_box.children if b.text == "北京市"))
    assert app.session.form["address"] == "北京市"
    app.session.form.update({"phone": "13800138000", "delivery_mode": "LOCKER"})
    app.go("review", matter=elder)
    _snap(k, "review")
    receipt = rt.filing.submit_application(
        ident, "GA-HUKOU-CERT", {"purpose": "就业", "copies": "1"}, "LOCKER"
    )
    app.go("result", receipt=receipt)
    k.wait_for(lambda: app.screen.printed in ("printed", "no_printer", "failed"), what="the receipt")
    _snap(k, "result")
    app.go("cases")
    k.wait_for(lambda: app.screen.ids.rows.children, what="the cases")
    _snap(k, "cases")
    app.go("dropoff")
    k.wait_for(lambda: app.screen.ids.matters.children, what="the drop-off choices")
    _snap(k, "dropoff")
    app.go("pickup")
    k.keys(app.screen.ids.numpad, "2580")
    _snap(k, "pickup")
    code, label = deposit_ready(k)
    handle = rt.citizen.pickup_by_code(code)
    app.go("door", handle=handle, purpose="pickup")
    _snap(k, "door")
    sim, b, ch = slot_of(k, label)
    sim.take_item(b, ch)
    sim.close_door(b, ch)
    k.wait_for(lambda: app.screen.closed, what="the door to close")
    app.go("rate", case_number="", matter_code="", context="pickup")
    k.tap_id("r2")
    _snap(k, "rate")
    # Staff and technician. On the rating screen the card's job is done: lifting it wipes the identity only.
    rt.sims.card_sim().remove_card()
    k.wait_for(lambda: ident.wiped, what="the card's removal to wipe the identity")
    app.reset_session()
    app.set_language(lang)
    app.go("pin", role="technician")
    k.keys(app.screen.ids.numpad, "1234")
    _snap(k, "pin")
    app.enter_staff("staff", "04A1B2C3D4")
    app.set_language(lang)
    k.wait_for(lambda: app.sm.current == "staff")
    _snap(k, "staff")
    app.go("staff_deposit")
    k.keys(app.screen.ids.keyboard, "ZW2026112500")
    _snap(k, "staff_deposit")
    app.go("staff_collect")
    k.settle()
    _snap(k, "staff_collect")
    app.go("staff_compartments")
    k.wait_for(lambda: app.screen.ids.rows.children, what="the compartments")
    _snap(k, "staff_compartments")
    app.enter_staff("technician", "pin")
    app.set_language(lang)
    k.wait_for(lambda: app.screen.ids.checks.children, what="the device status")
    _snap(k, "tech")
    # A door test (issue #7): running, with the simulator's "close the door", then its result.
    tech = app.screen
    free = next(c.label for c in rt.parts.cabinet.status() if c.state == "free")
    k.tap_id("mode_test")
    k.tap_text(free, tech.ids.doors)
    k.wait_for(
        lambda: tech.progress_detail.startswith(f"{free} open after"), what="the door under test to open"
    )
    _snap(k, "tech_door_test")
    k.tap_id("btn_sim_close")
    k.wait_for(lambda: not tech.testing, what="the door test's result")
    _snap(k, "tech_door_result")
    # The inactivity warning over a screen, then the older-readers text size on the start screen.
    k.idle.advance(11)
    k.wait_for(lambda: app._warning, what="the warning")
    _snap(k, "inactivity_warning")
    app.stay()
    k.go_start()
    app.set_language(lang)
    app.toggle_large_text()
    assert app.fs_body > 1.25 * 7.5 / 25.4 * app.cfg.ui.screen_dpi, (
        "older readers get text at least 25 % larger"
    )
    _snap(k, "start_large_text")
    k.go_start()


def test_the_catalogue_has_every_key_in_both_languages(kiosk: Driver) -> None:
    from kiosk.evaluations import LOW_RATING, REASONS
    from ui.screens import rate

    assert kiosk.app.catalogue.missing() == {}
    assert rate.LOW_RATING == LOW_RATING
    assert all(kiosk.app.catalogue.strings[lang].get(f"reason.{c}") for c in REASONS for lang in ("zh", "en"))
