"""好差评 closed loop in the real window: the citizen chooses anonymous or named; a named 差评 gets the department's
reply under 我的评价, and the citizen answers whether it solved the problem (ConfirmEvaluationReply)."""

from __future__ import annotations

from tests.ui.conftest import shot
from tests.ui.flows import CARD_PERSON, approved_case
from tests.ui.harness import Driver


def _identified_on_cases(k: Driver) -> None:
    k.tap_id("btn_cases")
    k.rt.sims.card_sim().insert_demo_card()
    k.wait_for(lambda: k.app.screen.reader_state == "read", timeout=20, what="the card")
    k.tap_id("btn_continue")
    k.wait_for(lambda: k.app.sm.current == "cases" and not k.app.busy, timeout=20, what="my cases")


def _rate(k: Driver, case: str, *, named: bool) -> dict:
    bo = k.rt.app.platform.sim.backoffice
    before = len(bo.evaluations)
    k.app.go("rate", case_number=case, matter_code="")
    rate = k.app.screen
    assert rate.can_identify and rate.anonymous, "anonymous unless the citizen chooses otherwise"
    if named:
        k.tap_id("btn_identified")
        assert not rate.anonymous
    k.tap_id("r2")
    k.tap_text(k.t("reason.too_slow"), rate.ids.reasons)
    if named:
        shot(k, "rate_named")
    k.tap_id("btn_send")
    k.wait_for(lambda: rate.thanked, what="the rating to be queued")
    k.rt.parts.sender.poke()
    k.wait_for(lambda: len(bo.evaluations) > before, timeout=20, what="the rating to reach the platform")
    return bo.evaluations[-1]


def test_a_named_bad_rating_gets_a_reply_and_the_citizen_answers_it(k: Driver) -> None:
    bo = k.rt.app.platform.sim.backoffice
    case = approved_case(k)
    _identified_on_cases(k)
    anon = _rate(k, case, named=False)
    assert anon["applicant"] is None
    k.app.go("cases")  # back from the thanks, to rate the case again, this time with the name
    ev = _rate(k, case, named=True)
    assert ev["applicant"] is not None and ev["applicant"].id_number == CARD_PERSON.id_number
    bo.reply_evaluation(ev["id"], "已核实：加派窗口人员，缩短等候时间。")
    k.app.go("cases")
    k.wait_for(lambda: not k.app.busy, what="my cases")
    k.tap_id("btn_ratings")
    scr = k.wait_for(
        lambda: k.app.sm.current == "ratings" and k.app.screen.ids.rows.children and k.app.screen,
        timeout=20,
        what="my ratings",
    )
    rows = [r for r in scr.ids.rows.children if r.ref.evaluation_id == ev["id"]]
    assert len(rows) == 1, "only the named rating is listed"
    assert "加派窗口人员" in rows[0].detail and k.t("evaluation.status.REPLIED") in rows[0].detail
    k.tap(rows[0])
    assert scr.chosen is not None and "加派窗口人员" in scr.reply
    shot(k, "ratings")
    k.tap_id("btn_not_solved")
    k.wait_for(lambda: scr.answered, timeout=20, what="the answer to be sent")
    assert k.t("receipt.confirmation.done") in scr.answered
    # Not solved: a second round, supervised by the district office.
    after = bo.evaluation(ev["id"])
    assert after is not None and after["status"] == "RECTIFYING" and after["round"] == 2
    shot(k, "ratings_answered")
