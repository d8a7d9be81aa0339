"""一件事 end to end in the real window: guide, one form (shared fields once), a refused member field landing on
that field, one review, SubmitBundle through the outbox, one receipt with every member's case number."""

from __future__ import annotations

from sqlalchemy import select

from kiosk.storage.models import OutboxMessage
from tests.ui.conftest import shot
from tests.ui.flows import CARD_PERSON
from tests.ui.harness import Driver

BUNDLE_ROW = "新生儿出生一件事"


def _type(k: Driver, form: object, text: str) -> None:
    kb = form.ids.keyboard  # type: ignore[attr-defined]
    if kb.chinese:
        k.keys(kb, ["mode"])  # letters as they are (ABC), no candidate bar
    k.keys(kb, text)


def test_a_bundle_filed_end_to_end_with_one_receipt_listing_every_case(k: Driver) -> None:
    k.tap_id("btn_matters")
    k.rt.sims.card_sim().insert_demo_card()
    k.wait_for(lambda: k.app.screen.reader_state == "read", timeout=20, what="the card")
    k.tap_id("btn_continue")
    k.wait_for(lambda: k.app.sm.current == "matters" and k.app.screen.ids.rows.children, what="the catalog")
    k.tap_text(k.t("matters.bundle_tag") + BUNDLE_ROW, k.app.screen.ids.rows)
    guide = k.app.screen
    k.wait_for(lambda: guide.check != "checking", timeout=20, what="the bundle's guide")
    assert guide.check == "ok" and guide.title == BUNDLE_ROW
    shot(k, "guide_bundle")
    k.tap_id("btn_start")
    form = k.app.screen
    assert k.app.sm.current == "form" and form.bundle is not None
    keys = [s.key for s in form.specs()]
    # The shared fields once, then each member's own, then how to receive the results.
    assert keys == [
        "babyName",
        "birthDate",
        "WJ-BIRTH-CERT.hospital",
        "HK-006.hukouAddress",
        "YB-NEWBORN-ENROL.payer",
        "delivery_mode",
    ]
    assert form.boxes()[3].label.startswith("出生登记（新生儿入户）")
    _type(k, form, "WANGXIAOBAO")
    k.tap_id("btn_next")
    k.keys(form.ids.numpad, "20261120")
    assert k.app.session.form["birthDate"] == "2026-11-20"
    k.tap_id("btn_next")
    _type(k, form, "FUYOU")
    k.tap_id("btn_next")
    _type(k, form, "JIANSHEROAD8")
    k.tap_id("btn_next")
    k.tap_text("母亲", form.ids.choices)
    k.tap_id("btn_next")
    k.tap_text(k.t("delivery.LOCKER"), form.ids.choices)
    shot(k, "form_bundle")
    k.tap_id("btn_review")
    assert k.app.sm.current == "review"
    review = k.app.screen
    shown = [w.text for w in review.ids.summary.children]
    assert k.t("bundle.shared") in shown and shown.count("出生登记（新生儿入户）") == 1
    shot(k, "review_bundle")
    # The platform refuses one member's field: the form comes back at that very field, nothing is filed.
    bo = k.rt.app.platform.sim.backoffice
    filings = len(bo.bundle_filings)
    k.rt.app.platform.sim.faults.platform_fault(
        "INVALID_FIELD", operation="SubmitBundle", field="HK-006.hukouAddress", message="入户地址不在本区"
    )
    k.tap_id("btn_submit")
    k.wait_for(lambda: k.app.sm.current == "form", timeout=20, what="the refused form")
    k.settle()
    box = form.boxes()[3]
    assert box.focused and "入户地址不在本区" in box.error and len(bo.bundle_filings) == filings
    k.keys(form.ids.keyboard, ["clear"])
    k.keys(form.ids.keyboard, "RENMINROAD1")
    k.tap_id("btn_review")
    k.tap_id("btn_submit")
    k.wait_for(lambda: k.app.sm.current == "bundle_result", timeout=20, what="the bundle's receipt")
    res = k.app.screen
    k.wait_for(lambda: res.state == "done", timeout=20, what="the bundle to be filed")
    r = res.receipt
    assert r.receipt_number.startswith("B") and res.ids.number.text == r.receipt_number
    cases = bo.bundle_filings[r.reference]
    assert len(cases) == 3 and len(bo.bundle_filings) == filings + 1
    lines = [w.text for w in res.ids.cases.children]
    for number in cases:
        assert any(number in line for line in lines), f"case {number} not on the receipt screen"
    assert bo.case(cases[1]).applicant.id_number == CARD_PERSON.id_number
    assert bo.case(cases[1]).fields.get("hukouAddress") == "RENMINROAD1"
    k.wait_for(lambda: res.printed == "printed", what="the receipt to print")
    shot(k, "bundle_result")
    with k.rt.app.db.transaction() as s:
        states = (
            s.execute(
                select(OutboxMessage.state)
                .where(OutboxMessage.operation == "SubmitBundle")
                .order_by(OutboxMessage.id.desc())
                .limit(2)
            )
            .scalars()
            .all()
        )
    assert states == ["sent", "dead"], "the refused filing and the filed one both went through the outbox"
    k.tap_id("btn_done")
    assert k.app.sm.current == "start" and k.app.session.is_blank()
