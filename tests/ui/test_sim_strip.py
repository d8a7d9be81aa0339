"""Issue 12: the simulator strip's demo ID cards are the platform simulator's demo applicants (a senior with a
phone, a younger person without), and its simulated phone shows the pickup text the platform would send. Real
window, real taps on the strip, the shipped card-reader, lock-board and platform simulators."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from backend_client.sim import DEMO_APPLICANT, DEMO_APPLICANT_2
from kiosk.privacy import mask_name, mask_phone
from tests.ui.conftest import shot
from tests.ui.flows import deposit_ready, slot_of
from tests.ui.harness import Driver
from ui.sim_strip import age_on


def _strip(k: Driver) -> Any:
    strip = k.app.root.ids.band
    k.wait_for(lambda: strip.demo, what="the demo row of the simulator strip")
    return strip


def _take_out(k: Driver, code: str, label: str) -> None:
    """The parcel collected through the core, so the cabinet is left as the test found it."""
    h = k.rt.parts.cabinet.start_pickup_by_code(code, actor="test")
    sim, b, ch = slot_of(k, label)
    sim.take_item(b, ch)
    sim.close_door(b, ch)
    assert k.rt.parts.cabinet.wait_closed(h, 10).outcome == "picked_up"


def test_demo_cards_are_the_platform_simulators_applicants(k: Driver) -> None:
    strip = _strip(k)
    today = dt.date.today()
    senior, young = DEMO_APPLICANT, DEMO_APPLICANT_2
    assert age_on(senior.id_number, today) >= 60 and senior.phone
    assert age_on(young.id_number, today) < 60 and not young.phone
    assert strip.ids.btn_demo_senior.text == k.t(
        "sim.demo_card.phone", name=mask_name(senior.name), age=age_on(senior.id_number, today)
    )
    assert strip.ids.btn_demo_young.text == k.t(
        "sim.demo_card.no_phone", name=mask_name(young.name), age=age_on(young.id_number, today)
    )
    assert senior.name not in strip.ids.btn_demo_senior.text, "the name is masked"
    assert strip.ids.btn_lift_card.disabled, "no card to lift yet"
    bo = k.rt.app.platform.sim.backoffice
    for person, btn in ((senior, "btn_demo_senior"), (young, "btn_demo_young")):
        k.tap_id("btn_cases")
        k.tap(strip.ids[btn])  # the demo user lays this person's card on the reader
        k.wait_for(lambda: k.app.screen.reader_state == "read", timeout=20, what="the card")
        k.tap_id("btn_continue")
        scr = k.wait_for(
            lambda: k.app.sm.current == "cases" and k.app.screen.ids.rows.children and k.app.screen,
            timeout=20,
            what="my cases",
        )
        shown = {r.ref.case.case_number for r in scr.ids.rows.children}
        theirs = {c.number for c in bo.cases_of(person.id_number)}
        assert shown and shown <= theirs, "the demo card's cases are the simulator applicant's own"
        if person is senior:
            shot(k, "sim_strip_demo_cards")
        k.wait_for(lambda: not strip.ids.btn_lift_card.disabled, what="the lift button")
        k.tap(strip.ids.btn_lift_card)
        k.wait_for(lambda: not k.rt.sims.card_sim().has_card, what="the card lifted")
        k.go_start()


def test_the_simulated_phone_shows_the_pickup_text(k: Driver) -> None:
    strip = _strip(k)
    code, label = deposit_ready(k, DEMO_APPLICANT)
    k.rt.parts.sender.poke()  # the pickup text was queued by the deposit (the staff screen's deposit pokes the same way)
    try:
        phone = strip.ids.phone
        k.wait_for(lambda: code in phone.text, timeout=20, what="the pickup text on the simulated phone")
        assert mask_phone(DEMO_APPLICANT.phone) in phone.text and DEMO_APPLICANT.phone not in phone.text
        assert phone.text.startswith(
            k.t("sim.phone.code", phone=mask_phone(DEMO_APPLICANT.phone), code=code, cabinet="", expires="")[
                :8
            ]
        )
        shot(k, "sim_strip_phone")
        k.app.set_language("en")  # the strip in English fits too (shot checks every label for overflow)
        k.wait_for(
            lambda: code in phone.text and phone.text.startswith("Phone "), what="the English phone text"
        )
        shot(k, "sim_strip_phone")
        k.app.set_language("zh")
    finally:
        _take_out(k, code, label)
    code2, label2 = deposit_ready(k, DEMO_APPLICANT_2)  # no phone: nobody can be texted his code
    k.rt.parts.sender.poke()
    try:
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:  # the strip polls twice a second: give the sender time to go out
            k.frames(5)
            assert code2 not in strip.ids.phone.text
        assert all(s.params.get("code") != code2 for s in k.rt.app.platform.sim.backoffice.sms if s.phone)
    finally:
        _take_out(k, code2, label2)
