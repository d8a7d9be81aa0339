"""The matters screen (一件事 first, a search box) and 办事指南 with the eligibility check before the form."""

from __future__ import annotations

from tests.ui.conftest import shot
from tests.ui.harness import Driver, walk
from ui.screens.matters import SectionLabel


def _to_matters(k: Driver) -> object:
    k.tap_id("btn_matters")
    k.rt.sims.card_sim().insert_demo_card()  # 张三, born 1990-01-01
    k.wait_for(lambda: k.app.screen.reader_state == "read", timeout=20, what="the card")
    k.tap_id("btn_continue")
    return k.wait_for(
        lambda: (
            k.app.sm.current == "matters"
            and k.app.screen.offer is not None
            and k.app.screen.ids.rows.children
            and k.app.screen
        ),
        what="the catalog",
    )


def _titles(scr: object) -> list[str]:
    return [getattr(r, "title", getattr(r, "text", "")) for r in scr.rows()]  # type: ignore[attr-defined]


def test_bundles_come_first_and_the_search_box_finds_by_initials_and_english(k: Driver) -> None:
    scr = _to_matters(k)
    rows = scr.rows()
    assert isinstance(rows[0], SectionLabel) and rows[0].text == k.t("matters.bundles")
    titles = _titles(scr)
    assert titles[1] == k.t("matters.bundle_tag") + "新生儿出生一件事"
    assert titles[2] == k.t("matters.bundle_tag") + "退休一件事"
    assert titles[3] == k.t("matters.single") and titles[4] == "老年人优待证办理"
    assert (
        "出生医学证明首次签发" in rows[1].detail and "免费" in rows[4].detail and "0.00" not in rows[4].detail
    )
    shot(k, "matters")
    # Pinyin initials in Chinese mode: the letters still pending on the candidate bar already search.
    k.tap_id("btn_keyboard")
    kb = scr.ids.keyboard
    assert scr.typing and kb.chinese and scr.bar.parent == scr.ids.input_area
    k.keys(kb, "LNR")
    assert scr.pending == "lnr" and scr.hits >= 1
    assert _titles(scr)[0] == "老年人优待证办理"
    assert scr.ids.hint.text == k.t("matters.hits", n=scr.hits)
    shot(k, "matters_search")
    # English words in ABC mode find a bundle by its English name.
    k.tap(scr.ids.btn_clear_search)
    assert (
        scr.query == "" and scr.pending == "" and scr.hits == -1 and isinstance(scr.rows()[0], SectionLabel)
    )
    k.keys(kb, ["mode"])
    assert not kb.chinese
    k.keys(kb, "BABY")
    assert scr.query == "baby" and _titles(scr)[0] == k.t("matters.bundle_tag") + "新生儿出生一件事"
    k.keys(kb, "QQ")
    assert scr.hits == 0 and scr.ids.hint.text == k.t("matters.no_hits", query="babyqq")
    k.keys(kb, ["clear"])
    assert scr.hits == -1


def test_a_citizen_under_60_learns_before_the_form_why_the_senior_card_is_not_for_them(k: Driver) -> None:
    scr = _to_matters(k)
    bo = k.rt.app.platform.sim.backoffice
    cases_before = len(bo.cases_of("110105199001011232"))
    k.tap_text("老年人优待证办理", scr.ids.rows)
    guide = k.app.screen
    assert k.app.sm.current == "guide"
    k.wait_for(lambda: guide.check != "checking", timeout=20, what="the eligibility check")
    assert guide.check == "refused"
    assert k.t("eligibility.too_young", min=60, age=36) in guide.refusal
    assert k.t("eligibility.what_instead") in guide.refusal
    assert guide.ids.btn_start.disabled and guide.ids.btn_start.opacity == 0
    texts = [getattr(w, "text", "") for w in walk(guide.ids.body)]
    assert any("年满60周岁" in t for t in texts), "the guide still says who qualifies"
    shot(k, "guide_refused")

    assert k.app.sm.current == "guide"
    assert len(bo.cases_of("110105199001011232")) == cases_before
    k.app.set_language("en")
    k.frames(3)
    assert k.t("eligibility.too_young", min=60, age=36) in guide.refusal
    shot(k, "guide_refused")
    k.tap_id("btn_back")
    assert k.app.sm.current == "matters"


def test_the_guide_says_free_materials_and_working_days_then_starts_the_form(k: Driver) -> None:
    scr = _to_matters(k)
    k.tap_text("户籍证明开具", scr.ids.rows)
    guide = k.app.screen
    k.wait_for(lambda: guide.check != "checking", timeout=20, what="the guide")
    assert guide.check == "ok" and guide.refusal == ""
    texts = [getattr(w, "text", "") for w in walk(guide.ids.body)]
    assert k.t("guide.fee_label", fee="免费") in texts and not any("0.00" in t for t in texts)
    assert k.t("guide.time_label", time=k.t("guide.promised", days=3)) in texts
    assert any(t.startswith("· 户口簿") and t.endswith(k.t("guide.original", copies=1)) for t in texts)
    shot(k, "guide")
    k.tap_id("btn_start")
    assert k.app.sm.current == "form" and k.app.screen.matter.code == "GA-HUKOU-CERT"
    k.tap_id("btn_back")
    assert k.app.sm.current == "guide"
