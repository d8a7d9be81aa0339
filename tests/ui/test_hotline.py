"""12345 from a case: kind, a common topic and typed content, a mobile number; the ticket number on screen and
on the printed receipt; then 我的诉求 shows the department's reply."""

from __future__ import annotations

from tests.ui.conftest import shot
from tests.ui.flows import CARD_PERSON, approved_case
from tests.ui.harness import Driver


def test_a_complaint_about_a_case_is_filed_and_its_reply_shown(k: Driver) -> None:
    bo = k.rt.app.platform.sim.backoffice
    case = approved_case(k)
    k.tap_id("btn_cases")
    k.rt.sims.card_sim().insert_demo_card()
    k.wait_for(lambda: k.app.screen.reader_state == "read", timeout=20, what="the card")
    k.tap_id("btn_continue")
    cases = k.wait_for(
        lambda: k.app.sm.current == "cases" and k.app.screen.ids.rows.children and k.app.screen,
        timeout=20,
        what="my cases",
    )
    k.tap(next(r for r in cases.ids.rows.children if r.ref.case.case_number == case))
    k.tap_id("btn_hotline")
    scr = k.app.screen
    assert k.app.sm.current == "hotline" and scr.case_number == case
    k.tap_text(k.t("ticket.kind.COMPLAINT"), scr.ids.kinds)
    k.tap_text("办事等待时间过长", scr.ids.topics)
    k.tap(scr.ids.text_box)
    kb = scr.ids.keyboard
    if kb.chinese:
        k.keys(kb, ["mode"])
    k.keys(kb, "WINDOW3")
    assert scr.text == "WINDOW3"
    # No phone yet: said in place, nothing sent.
    tickets_before = len(bo.tickets_of(CARD_PERSON.id_number))
    k.tap_id("btn_send")
    k.settle()
    assert scr.error == k.t("error.ticket_phone") and not scr.sent
    k.tap(scr.ids.phone_box)
    k.keys(scr.ids.numpad, "13800138000")
    shot(k, "hotline")
    k.tap_id("btn_send")
    k.wait_for(lambda: scr.sent, timeout=20, what="the ticket to be filed")
    r = scr.receipt
    assert (
        r.state == "done"
        and r.reference
        and k.t("hotline.ticket_number", number=r.reference) in scr.ids.result.text
    )
    t = bo.ticket(r.reference)
    assert (
        t.kind == "COMPLAINT"
        and t.case_number == case
        and "办事等待时间过长" in t.content
        and "WINDOW3" in t.content
    )
    assert len(bo.tickets_of(CARD_PERSON.id_number)) == tickets_before + 1
    k.wait_for(lambda: k.rt.printer.printed and k.rt.printer.printed[-1].exists(), what="the receipt")
    shot(k, "hotline_sent")
    # The department replies; 我的诉求 shows it.
    bo.assign_ticket(r.reference, "区政务服务中心")
    bo.reply_ticket(r.reference, "已增开窗口，等候时间缩短。")
    k.tap_id("btn_mine")
    mine = k.wait_for(
        lambda: k.app.sm.current == "tickets" and k.app.screen.ids.rows.children and k.app.screen,
        timeout=20,
        what="my requests",
    )
    row = next(w for w in mine.ids.rows.children if w.ref.ticket_number == r.reference)
    assert "已增开窗口" in row.detail and k.t("ticket.status.REPLIED") in row.detail
    shot(k, "tickets")
