"""Case details from each row of 我的办件: status, reason or missing material, next step, where the result is,
courier and waybill, and 去取件 for a result waiting in this kiosk's cabinet (the door opens for the same card)."""

from __future__ import annotations

from tests.ui.conftest import shot
from tests.ui.flows import CARD_PERSON, deposit_ready, open_doors, slot_of
from tests.ui.harness import Driver


def _open_cases(k: Driver) -> object:
    k.tap_id("btn_cases")
    k.rt.sims.card_sim().insert_demo_card()
    k.wait_for(lambda: k.app.screen.reader_state == "read", timeout=20, what="the card")
    k.tap_id("btn_continue")
    return k.wait_for(
        lambda: k.app.sm.current == "cases" and k.app.screen.ids.rows.children and k.app.screen,
        timeout=20,
        what="my cases",
    )


def _row(scr: object, number: str) -> object:
    return next(r for r in scr.ids.rows.children if r.ref.case.case_number == number)  # type: ignore[attr-defined]


def _lines(k: Driver) -> list[str]:
    return [w.text for w in reversed(k.app.screen.ids.lines.children)]


def test_each_case_opens_its_details_and_a_result_here_can_be_picked_up(k: Driver) -> None:
    bo = k.rt.app.platform.sim.backoffice
    _code, label = deposit_ready(k)
    refused = bo.create_case(
        CARD_PERSON, "GA-HUKOU-CERT", "LOCKER", fields={"purpose": "就业", "copies": "1"}
    )
    bo.refuse(refused.number, reason="户籍不在本区", next_step="请到户籍所在地派出所办理")
    missing = bo.create_case(
        CARD_PERSON, "RS-SSC-REISSUE", "MAIL", fields={"reason": "遗失", "phone": "13800138000"}
    )
    bo.request_material(missing.number, reason="近期一寸免冠彩色照片", next_step="请将照片投递到本机材料柜")
    mailed = bo.create_case(
        CARD_PERSON, "RS-SSC-REISSUE", "MAIL", fields={"reason": "损坏", "phone": "13800138000"}
    )
    bo.approve(mailed.number)
    bo.dispatch(mailed.number, "1190012345678", courier="EMS")
    scr = _open_cases(k)
    shot(k, "cases")
    # Refused: the reason and what to do instead.
    k.tap(_row(scr, refused.number))
    assert k.app.sm.current == "case"
    lines = _lines(k)
    assert k.t("case.reason", reason="户籍不在本区") in lines
    assert k.t("case.next_step", step="请到户籍所在地派出所办理") in lines
    assert k.app.screen.ids.btn_pickup.opacity == 0
    shot(k, "case")
    # The list was loaded in Chinese; in English the case names its matter in English (the platform's case
    # carries the Chinese name only), and in Chinese again once switched back.
    assert k.app.lang == "zh"
    hukou = next(m for m in k.rt.parts.catalog.cached().matters if m.code == "GA-HUKOU-CERT")
    assert hukou.name_en and k.app.screen.matter_title == hukou.name
    k.app.set_language("en")
    k.wait_for(lambda: k.app.screen.matter_title == hukou.name_en, what="the English matter name")
    k.app.set_language("zh")
    k.wait_for(lambda: k.app.screen.matter_title == hukou.name, what="the Chinese matter name")
    k.tap_id("btn_back")
    # Missing material: what is missing.
    k.wait_for(lambda: k.app.sm.current == "cases" and scr.ids.rows.children, what="my cases again")
    k.tap(_row(scr, missing.number))
    assert k.t("case.missing", reason="近期一寸免冠彩色照片") in _lines(k)
    k.tap_id("btn_back")
    # Mailed: courier and waybill.
    k.wait_for(lambda: k.app.sm.current == "cases" and scr.ids.rows.children, what="my cases again")
    k.tap(_row(scr, mailed.number))
    assert k.t("case.where.mailed", courier="EMS", waybill="1190012345678") in _lines(k)
    k.tap_id("btn_back")
    # In this kiosk's cabinet: where, and 去取件 opens that door for the card on the reader.
    k.wait_for(lambda: k.app.sm.current == "cases" and scr.ids.rows.children, what="my cases again")
    here = next(r for r in scr.ids.rows.children if r.ref.can_pick_up_here)
    assert here.ref.compartment == label
    k.tap(here)
    case = k.app.screen
    assert case.can_pick_up and any(label in line for line in _lines(k))
    app_lang = k.app.lang
    k.app.set_language("en")
    k.frames(3)
    shot(k, "case_pickup")
    k.app.set_language(app_lang)
    k.tap_id("btn_pickup")
    k.wait_for(lambda: k.app.sm.current == "door", timeout=20, what="the door to open")
    k.wait_for(lambda: label in open_doors(k), what="the compartment to open")
    sim, b, ch = slot_of(k, label)
    sim.take_item(b, ch)
    sim.close_door(b, ch)
    k.wait_for(lambda: k.app.screen.holds_session is False, timeout=20, what="the pickup to finish")
