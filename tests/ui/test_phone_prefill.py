"""Defect 7 (issue 12): a phone number the citizen already gave in this session fills every later phone field
(another matter's form, the 12345 request) instead of being asked again; the next person starts with none."""

from __future__ import annotations

from tests.ui.flows import open_matter
from tests.ui.harness import Driver

PHONE = "13912345678"


def _matters(k: Driver) -> None:
    k.app.go("matters")
    k.wait_for(lambda: k.app.screen.ids.rows.children, what="the catalog")


def test_a_phone_given_once_fills_the_next_phone_fields(k: Driver) -> None:
    k.tap_id("btn_matters")
    k.rt.sims.card_sim().insert_demo_card()
    k.wait_for(lambda: k.app.screen.reader_state == "read", timeout=20, what="the card to be read")
    k.tap_id("btn_continue")
    k.wait_for(lambda: k.app.sm.current == "matters" and k.app.screen.ids.rows.children, what="the catalog")
    open_matter(k, "社会保障卡补换")
    form = k.app.screen
    phone_box = next(b for b in form.boxes() if b.key == "phone")
    assert phone_box.value == "", "nothing known yet: asked"
    k.tap_text("遗失", form.ids.choices)
    k.tap_id("btn_next")
    assert form.input_kind == "numpad"
    k.keys(form.ids.numpad, PHONE)
    k.tap_id("btn_next")
    k.tap_text(k.t("delivery.LOCKER"), form.ids.choices)
    k.tap_id("btn_review")
    assert k.app.sm.current == "review"
    # Another matter in the same session: its phone field starts with the number already given.
    _matters(k)
    open_matter(k, "就业失业登记")
    form = k.app.screen
    phone_box = next(b for b in form.boxes() if b.key == "phone")
    assert phone_box.value == PHONE and k.app.session.form["phone"] == PHONE
    # The 12345 request too.
    k.app.go("hotline")
    k.settle()
    assert k.app.screen.ids.phone_box.value == PHONE
    # The next person: nothing of it.
    k.app.reset_session()
    k.settle()
    assert k.app.known_phone() == ""
    k.app.go("hotline")
    k.settle()
    assert k.app.screen.ids.phone_box.value == ""
    k.app.reset_session()
