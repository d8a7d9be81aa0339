"""A mailed application with the address pickers (政务快递): recipient and phone prefilled, province / city /
district picked from the bundled division data, detail typed, a missing part said at that part, the address on
the review and in the platform's case; a platform refusal of one part lands on that part."""

from __future__ import annotations

from tests.ui.conftest import shot
from tests.ui.flows import CARD_PERSON, open_matter
from tests.ui.harness import Driver


def test_a_mailed_application_with_the_address_pickers(k: Driver) -> None:
    k.tap_id("btn_matters")
    k.rt.sims.card_sim().insert_demo_card()
    k.wait_for(lambda: k.app.screen.reader_state == "read", timeout=20, what="the card")
    k.tap_id("btn_continue")
    k.wait_for(lambda: k.app.sm.current == "matters" and k.app.screen.ids.rows.children, what="the catalog")
    open_matter(k, "社会保障卡补换")
    form = k.app.screen
    k.tap_text(k.t("choice.遗失"), form.ids.choices)
    k.tap_id("btn_next")
    k.keys(form.ids.numpad, "13800138000")
    k.tap_id("btn_next")
    k.tap_text(k.t("delivery.MAIL"), form.ids.choices)
    k.tap_id("btn_review")
    assert k.app.sm.current == "mail"
    mail = k.app.screen
    boxes = mail._boxes
    # Prefilled from what the kiosk knows: the card's name (shown masked) and the form's phone.
    assert mail.address()["recipient"] == CARD_PERSON.name and boxes["recipient"].value == "张*"
    assert boxes["phone"].value == "13800138000"
    assert mail.focus == "province" and mail.input_kind == "choice"
    shot(k, "mail_pickers")
    k.tap_text("湖南省", mail.ids.choices)
    assert mail.focus == "city" and "株洲市" in mail._options("city")
    k.tap_text("株洲市", mail.ids.choices)
    k.tap_text("芦淞区", mail.ids.choices)
    assert mail.focus == "street" and mail.input_kind == "keyboard"
    # The detail is required: said at that part.
    k.tap_id("btn_done")
    assert mail.focus == "detail" and boxes["detail"].error == k.t("error.mail_detail")
    kb = mail.ids.keyboard
    if kb.chinese:
        k.keys(kb, ["mode"])
    k.keys(kb, "JIANSHE8")
    shot(k, "mail")
    # A new province empties the city and district picked under the old one.
    k.tap(boxes["province"])
    k.tap_text("北京市", mail.ids.choices)
    assert not mail.address().get("city") and not mail.address().get("district")
    k.tap_text("北京市", mail.ids.choices)
    k.tap_text("朝阳区", mail.ids.choices)
    k.tap_id("btn_done")
    assert k.app.sm.current == "review"
    shown = [w.text for w in k.app.screen.ids.summary.children]
    assert any("北京市北京市朝阳区JIANSHE8" in t and "张*" in t and "张三" not in t for t in shown)
    shot(k, "review_mail")
    # The platform refuses the detail: back at that part of the address, with its words.
    k.rt.app.platform.sim.faults.platform_fault(
        "INVALID_FIELD", operation="SubmitApplication", field="mailAddress.detail", message="详细地址不完整"
    )
    k.tap_id("btn_submit")
    k.wait_for(lambda: k.app.sm.current == "mail", timeout=20, what="the address to come back")
    assert mail.focus == "detail" and "详细地址不完整" in mail._boxes["detail"].error
    if kb.chinese:
        k.keys(kb, ["mode"])
    k.keys(kb, "HAO")
    k.tap_id("btn_done")
    k.tap_id("btn_submit")
    k.wait_for(lambda: k.app.sm.current == "result", timeout=20, what="the result")
    res = k.app.screen
    case = k.rt.app.platform.sim.backoffice.case(res.number)
    a = case.mail_address
    assert (a.province, a.city, a.district, a.detail) == ("北京市", "北京市", "朝阳区", "JIANSHE8HAO")
    assert a.recipient == CARD_PERSON.name and a.phone == "13800138000" and case.delivery_mode == "MAIL"
