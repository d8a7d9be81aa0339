"""The interface-1.1 screens in both languages: no text overflows; screenshots for docs/screenshots/ (the README).

Each screen is reached through the real core and the simulators, as in test_tour; the flows themselves are
tested in test_matters_guide, test_bundle, test_mail, test_case_details, test_hotline, test_ratings,
test_resend and test_assist.
"""

from __future__ import annotations

import pytest

from tests.ui.conftest import ASSIST_STAFF_ID
from tests.ui.flows import CARD_PERSON, approved_case, deposit_ready, slot_of
from tests.ui.harness import Driver
from tests.ui.test_tour import _snap

NEWBORN = {
    "babyName": "王小宝",
    "birthDate": "2026-11-20",
    "WJ-BIRTH-CERT.hospital": "株洲市妇幼保健院",
    "HK-006.hukouAddress": "芦淞区建设南路8号",
    "YB-NEWBORN-ENROL.payer": "母亲",
}


def _guide(k: Driver, kind: str, code: str) -> None:
    app = k.app
    offer = k.rt.filing.matter_offer()
    subject = offer.bundle(code) if kind == "bundle" else offer.matter(code)
    app.go("matters")  # the guide fills itself on entry: from the list, as a citizen comes to it
    app.go("guide", kind=kind, code=code, subject=subject)
    k.wait_for(lambda: app.screen.check != "checking", timeout=20, what="the guide")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_service_screen(k: Driver, lang: str) -> None:
    app, rt = k.app, k.rt
    bo = rt.app.platform.sim.backoffice
    app.set_language(lang)
    app.go("identify", next_screen="matters")
    rt.sims.card_sim().insert_demo_card()
    k.wait_for(lambda: app.screen.reader_state == "read", timeout=20, what="the card")
    ident = app.session.identity
    # The matters screen's search box.
    app.go("matters")
    scr = k.wait_for(lambda: app.screen.ids.rows.children and app.screen, what="the catalog")
    k.tap_id("btn_keyboard")
    k.keys(scr.ids.keyboard, "LNR")
    _snap(k, "matters_search")
    scr.clear_search()
    scr.open_keyboard()
    # 办事指南, and the eligibility refusal before the form.
    _guide(k, "matter", "GA-HUKOU-CERT")
    _snap(k, "guide")
    _guide(k, "matter", "MZ-ELDER-CARD")
    assert app.screen.check == "refused"
    _snap(k, "guide_refused")
    # 一件事: its guide, its form (shared fields once), its receipt with every member's case number.
    _guide(k, "bundle", "YJS-NEWBORN")
    _snap(k, "guide_bundle")
    k.tap_id("btn_start")
    app.session.form.update({**NEWBORN, "_matter": "YJS-NEWBORN"})
    app.go("matters")  # the form fills itself on entry
    app.go("form")
    _snap(k, "form_bundle")
    receipt = rt.filing.submit_bundle(ident, "YJS-NEWBORN", NEWBORN, "LOCKER")
    app.go("bundle_result", receipt=receipt, bundle=rt.filing.bundle_form("YJS-NEWBORN"))
    k.wait_for(lambda: app.screen.ids.cases.children, timeout=20, what="the member cases")
    _snap(k, "bundle_result")
    # 政务快递: the address with the division pickers.
    app.session.form.clear()
    app.session.form.update(
        {"_matter": "RS-SSC-REISSUE", "reason": "遗失", "phone": "13800138000", "delivery_mode": "MAIL"}
    )
    review = app.get_screen("review")
    review.matter, review.bundle = rt.filing.matter_offer().matter("RS-SSC-REISSUE"), None
    app.go("mail")
    mail = app.screen
    k.settle()
    assert mail.focus == "province" and mail.input_kind == "choice"
    k.tap_text("湖南省", mail.ids.choices)
    _snap(k, "mail")
    # Case details.
    refused = bo.create_case(
        CARD_PERSON, "GA-HUKOU-CERT", "LOCKER", fields={"purpose": "就业", "copies": "1"}
    )
    bo.refuse(refused.number, reason="户籍不在本区", next_step="请到户籍所在地派出所办理")
    app.go("cases")
    cases = k.wait_for(lambda: app.screen.ids.rows.children and app.screen, timeout=20, what="my cases")
    k.tap(next(r for r in cases.ids.rows.children if r.ref.case.case_number == refused.number))
    _snap(k, "case")
    # 12345 and 我的诉求.
    app.go("hotline")
    hot = app.screen
    k.tap_text(k.t("ticket.kind.COMPLAINT"), hot.ids.kinds)
    k.tap(hot.ids.topics.children[-3])
    hot.phone = "13800138000"
    _snap(k, "hotline")
    r = rt.feedback.submit_ticket("CONSULT", "13800138000", ["progress"], "", identity=ident)
    bo.assign_ticket(r.reference)
    bo.reply_ticket(r.reference)
    app.go("tickets")
    k.wait_for(lambda: app.screen.ids.rows.children, timeout=20, what="my requests")
    _snap(k, "tickets")
    # 好差评: named or anonymous; 我的评价 with a reply to answer.
    app.go("rate", case_number=approved_case(k), matter_code="")
    k.tap_id("r2")
    _snap(k, "rate_named")
    rt.feedback.rate(2, ["too_slow"], case_number=refused.number, identity=ident)
    rt.parts.sender.poke()
    k.wait_for(
        lambda: any(e["case_number"] == refused.number and e["applicant"] for e in bo.evaluations),
        timeout=20,
        what="the rating",
    )
    ev = next(e for e in reversed(bo.evaluations) if e["case_number"] == refused.number and e["applicant"])
    bo.reply_evaluation(ev["id"])
    app.go("ratings")
    rat = k.wait_for(lambda: app.screen.ids.rows.children and app.screen, timeout=20, what="my ratings")
    k.tap(next(w for w in rat.ids.rows.children if w.ref.evaluation_id == ev["id"]))
    _snap(k, "ratings")
    # A lost SMS: a new code.
    code, label = deposit_ready(k)
    app.go("resend")
    k.wait_for(lambda: app.screen.ids.rows.children, timeout=20, what="the results waiting")
    _snap(k, "resend")
    h = rt.citizen.pickup_by_code(code)
    sim, b, ch = slot_of(k, label)
    sim.take_item(b, ch)
    sim.close_door(b, ch)
    rt.doors.wait_closed(h, 10)
    # 帮办代办: the citizen's consent on the review screen.
    app.session.scratch["assist"] = {"staff_id": ASSIST_STAFF_ID, "mode": "PROXY"}
    app.session.form.clear()
    app.session.form.update(
        {"_matter": "GA-HUKOU-CERT", "purpose": "就业", "copies": "1", "delivery_mode": "LOCKER"}
    )
    app.go("review", matter=rt.filing.matter_offer().matter("GA-HUKOU-CERT"), bundle=None)
    k.tap_id("btn_submit")
    assert app.screen.asking_consent
    _snap(k, "assist_consent")
    app.screen.decline()
    k.go_start()
