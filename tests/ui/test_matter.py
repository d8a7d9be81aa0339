"""Submit a simple matter end to end: card, catalog, generated form with keypads, errors in place, review, result, receipt."""

from __future__ import annotations

from sqlalchemy import select

from kiosk.storage.models import OutboxMessage, Submission
from tests.ui.conftest import shot
from tests.ui.flows import CARD_PERSON, open_matter
from tests.ui.harness import Driver


def _identify(k: Driver, then: str) -> None:
    k.tap_id(then)
    assert k.app.sm.current == "identify"
    k.rt.sims.card_sim().insert_demo_card()
    k.wait_for(lambda: k.app.screen.reader_state == "read", timeout=20, what="the card to be read")
    who = k.app.screen.ids.who.text
    assert "110105********1232" in who and "张*" in who and CARD_PERSON.id_number not in who
    k.tap_id("btn_continue")


def test_submit_a_matter_with_local_error_then_result_and_receipt(k: Driver) -> None:
    _identify(k, "btn_matters")
    k.wait_for(lambda: k.app.sm.current == "matters" and k.app.screen.ids.rows.children, what="the catalog")
    shot(k, "matters")
    open_matter(k, "户籍证明开具")
    form = k.app.screen
    assert k.app.sm.current == "form"
    # Field 1, purpose (CHOICE): big choice buttons.
    assert form.input_kind == "choice"
    k.tap_text("就业", form.ids.choices)
    k.tap_id("btn_next")
    # Field 2, copies (NUMBER, pattern [1-5]): the numeric pad; 7 is refused in place, not by the platform.
    assert form.input_kind == "numpad"
    keys = [key.key for key in form.ids.numpad.children]
    assert "." not in keys and "clear" in keys, "a count (份数) takes no decimal point: the pad offers none"
    k.keys(form.ids.numpad, "7")
    k.tap_id("btn_next")
    assert form.input_kind == "choice"  # delivery mode
    k.tap_text(k.t("delivery.LOCKER"), form.ids.choices)
    k.tap_id("btn_review")
    assert k.app.sm.current == "form", "a bad field keeps the form up"
    copies = form.boxes()[1]
    # The error says what is allowed, not only that the format is wrong (defect 7).
    assert copies.focused and copies.error == k.t("error.field_range", lo="1", hi="5")
    assert "1–5" in copies.error
    shot(k, "form")
    k.keys(form.ids.numpad, ["back"])
    k.keys(form.ids.numpad, "2")
    assert copies.value == "2" and copies.error == ""
    k.tap_id("btn_review")
    assert k.app.sm.current == "review"
    shot(k, "review")
    k.tap_id("btn_submit")
    k.wait_for(lambda: k.app.sm.current == "result", timeout=20, what="the result")
    res = k.app.screen
    assert res.state == "filed"
    case = res.number
    sim_case = k.rt.app.platform.sim.backoffice.case(case)
    assert sim_case.applicant.id_number == CARD_PERSON.id_number and sim_case.fields == {
        "purpose": "就业",
        "copies": "2",
    }
    assert sim_case.delivery_mode == "LOCKER"
    assert res.ids.qr.texture is not None and res.qr == f"CASE:{case}"
    k.wait_for(lambda: res.printed == "printed", what="the receipt to print")
    receipt = k.rt.printer.printed[-1]
    assert receipt.exists() and receipt.stat().st_size > 1000
    with k.rt.app.db.transaction() as s:
        sub = s.execute(select(Submission).where(Submission.case_number == case)).scalar_one()
        assert sub.applicant_id_masked == "110105********1232"
    shot(k, "result")
    # Rate it: 2 stars needs a reason; the rating goes through the outbox to the platform.
    k.tap_id("btn_rate")
    assert k.app.sm.current == "rate"
    rate = k.app.screen
    k.tap_id("r2")
    k.tap_id("btn_send")
    assert rate.error == k.t("error.rating_reason")
    k.tap_text(k.t("reason.too_slow"), rate.ids.reasons)
    shot(k, "rate")
    k.tap_id("btn_send")
    k.wait_for(lambda: rate.thanked, what="the rating to be queued")
    with k.rt.app.db.transaction() as s:
        ops = s.execute(select(OutboxMessage.operation)).scalars().all()
    assert "SubmitEvaluation" in ops
    bo = k.rt.app.platform.sim.backoffice
    k.wait_for(
        lambda: (
            any(e.get("case_number") == case for e in bo.evaluations if isinstance(e, dict))
            or any(getattr(e, "case_number", None) == case for e in bo.evaluations)
        ),
        timeout=20,
        what="the evaluation to reach the platform",
    )
    k.tap_id("btn_skip")
    assert k.app.sm.current == "start" and k.app.session.is_blank()
