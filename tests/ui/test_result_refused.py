"""Defect 7 (issue 12): a refused application's result screen, through the real form and the platform simulator.

The simulator refuses 社会保障卡补换 for 信息变更 at once (backend_client/sim/operations.py REFUSE_AT_KIOSK). The
screen must say so without contradicting itself (no "the case number follows later" under 平台不予受理), show the
platform's reason, and say what to do next; the voice says the same."""

from __future__ import annotations

from tests.ui.flows import open_matter
from tests.ui.harness import Driver, walk


def _texts(k: Driver) -> list[str]:
    return [w.text for w in walk(k.app.screen) if getattr(w, "text", "")]


def test_a_refused_application_says_why_and_what_next(k: Driver) -> None:
    k.tap_id("btn_matters")
    k.rt.sims.card_sim().insert_demo_card()
    k.wait_for(lambda: k.app.screen.reader_state == "read", timeout=20, what="the card to be read")
    k.tap_id("btn_continue")
    k.wait_for(lambda: k.app.sm.current == "matters" and k.app.screen.ids.rows.children, what="the catalog")
    open_matter(k, "社会保障卡补换")
    form = k.app.screen
    k.tap_text("信息变更", form.ids.choices)
    k.tap_id("btn_next")
    assert form.input_kind == "numpad"
    if not form.boxes()[1].value:
        k.keys(form.ids.numpad, "13800138000")
    k.tap_id("btn_next")
    k.tap_text(k.t("delivery.LOCKER"), form.ids.choices)
    k.tap_id("btn_review")
    assert k.app.sm.current == "review"
    k.tap_id("btn_submit")
    k.wait_for(lambda: k.app.sm.current == "result", timeout=20, what="the result")
    res = k.app.screen
    k.wait_for(lambda: res.state == "refused", timeout=20, what="the refusal")
    k.settle()
    shown = _texts(k)
    assert k.t("result.title.refused") in shown
    assert k.t("result.receipt_label") not in shown, "no 'case number follows later' under a refusal"
    assert res.ids.number_label.text == k.t("result.refused_number_label")
    assert "信息变更须本人持户口簿到窗口办理" in res.ids.reason.text, "the platform's reason is shown"
    assert res.ids.reason.height > 0 and res.ids.next_step.text == k.t("result.refused_next")
    said = res.spoken()
    assert said[0] == k.t("result.title.refused") and "信息变更须本人持户口簿到窗口办理" in said[1]
    k.app.set_language("en")
    k.settle()
    assert res.ids.number_label.text == "Case number (refused):"
    assert res.ids.reason.text.startswith("The platform's reason:")
    k.app.set_language("zh")
