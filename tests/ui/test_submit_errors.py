"""The platform refuses a submitted form (INVALID_FIELD): the error lands where the citizen can see and fix it.

The platform simulator's fault injection answers SubmitApplication with a real SOAP fault; the client, the outbox
and the core turn it into the ValidationError the review screen gets, exactly as in the hall.
"""

from __future__ import annotations

import pytest

from tests.ui.conftest import shot
from tests.ui.flows import open_matter
from tests.ui.harness import Driver
from ui.screens.form import DELIVERY, form_key_for

KEYS = ("reason", "phone", DELIVERY)


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("phone", "phone"),
        ("applicant.phone", "phone"),
        ("field[reason]", "reason"),
        ("field.reason", "reason"),
        ("fields/reason", "reason"),
        ("deliveryMode", DELIVERY),
        ("delivery_mode", DELIVERY),
        ("applicant.idNumber", None),
        ("idNumber", None),
        ("applicant.name", None),
        ("form", None),
        ("", None),
        ("applicantPhone", None),
        ("field[nosuch]", None),
        ("caseNumber", None),
    ],
)
def test_platform_field_names_map_to_the_form_or_to_no_field(name: str, key: str | None) -> None:
    assert form_key_for(name, KEYS) == key


def test_applicant_phone_maps_only_when_the_form_has_a_phone() -> None:
    assert form_key_for("applicant.phone", ("purpose", "copies", DELIVERY)) is None


def _fill_ssc_form(k: Driver, phone: str = "13800138000") -> object:
    """Identified with the demo card, the social security card replacement form filled in, on the review screen."""
    k.tap_id("btn_matters")
    k.rt.sims.card_sim().insert_demo_card()
    k.wait_for(lambda: k.app.screen.reader_state == "read", timeout=20, what="the card")
    k.tap_id("btn_continue")
    k.wait_for(lambda: k.app.sm.current == "matters" and k.app.screen.ids.rows.children, what="the catalog")
    open_matter(k, "Social Security Card Replacement" if k.app.lang == "en" else "社会保障卡补换")
    form = k.app.screen
    k.tap_text(k.t("choice.遗失"), form.ids.choices)
    k.tap_id("btn_next")
    k.keys(form.ids.numpad, phone)
    k.tap_id("btn_next")
    k.tap_text(k.t("delivery.LOCKER"), form.ids.choices)
    k.tap_id("btn_review")
    assert k.app.sm.current == "review"
    return form


def _submit_refused(k: Driver, field: str, message: str) -> None:
    k.rt.app.platform.sim.faults.platform_fault(
        "INVALID_FIELD", operation="SubmitApplication", field=field, message=message
    )
    k.tap_id("btn_submit")
    k.wait_for(lambda: k.app.sm.current == "form", timeout=20, what="the refused form to come back")
    k.settle()


def test_a_refused_field_named_as_on_the_wire_is_shown_at_that_field(k: Driver) -> None:
    form = _fill_ssc_form(k)
    # The platform names the applicant's phone by its place in the request, not by the form's key.
    _submit_refused(k, "applicant.phone", "该号码已停机")
    reason, phone, delivery = form.boxes()
    assert phone.error == k.t("form.field_rejected", message="该号码已停机") and phone.focused
    assert reason.error == "" and delivery.error == "" and form.error == "", (
        "not pinned on field 0, nor on the form"
    )
    assert form.input_kind == "numpad"
    shot(k, "form_refused_field")
    # Fixed in place and sent again: the platform takes it.
    k.keys(form.ids.numpad, ["clear"])
    k.keys(form.ids.numpad, "13900139000")
    assert phone.error == ""
    k.tap_id("btn_review")
    k.tap_id("btn_submit")
    k.wait_for(lambda: k.app.sm.current == "result", timeout=20, what="the result")
    assert k.app.screen.state == "filed"
    case = k.rt.app.platform.sim.backoffice.case(k.app.screen.number)
    assert case.fields["phone"] == "13900139000"


def test_a_refusal_naming_no_form_field_is_shown_for_the_whole_form_in_english(k: Driver) -> None:
    k.tap(k.app.root.ids.lang_btn)
    assert k.app.lang == "en"
    form = _fill_ssc_form(k)
    # Something the form cannot fix (the card's ID number); the platform's message quotes the number in full.
    _submit_refused(k, "applicant.idNumber", "applicant 110105199001011232 must apply at a counter")
    said = "applicant 110105********1232 must apply at a counter"
    assert form.error == k.t("form.rejected", message=said)
    assert "110105199001011232" not in form.error, "never a full ID number on screen"
    assert all(b.error == "" for b in form.boxes()), "no field is blamed for it"
    assert [b.label for b in form.boxes()] == ["Reason", "Contact phone", "How to receive the result"]
    shot(k, "form_refused_form")
    # The delivery mode, named by its wire element, lands on the delivery field.
    k.tap_id("btn_review")
    _submit_refused(k, "deliveryMode", "LOCKER is full this week")
    delivery = form.boxes()[2]
    assert (
        delivery.error == k.t("form.field_rejected", message="LOCKER is full this week") and delivery.focused
    )
    assert form.error == "" and form.input_kind == "choice"
    shot(k, "form_refused_delivery")
