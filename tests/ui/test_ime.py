"""Chinese input in the form: the 中文/ABC key, pinyin on the on-screen keys, the candidate bar, submit, and the wipe.

All by real touches on the real form (the senior card's "Home address" TEXT field), on the full pinyin index the app
loads at start-up into its data directory's cache.
"""

from __future__ import annotations

from typing import Any

from tests.ui.conftest import shot
from tests.ui.flows import open_matter
from tests.ui.harness import Driver

ELDER = "MZ-ELDER-CARD"
# The senior card is for people aged 60 or over (interface 1.1 eligibility, checked before the form): a senior's
# card, masked on screen exactly as the demo card is.
SENIOR_ID = "110105195801011232"


def _identify_senior(k: Driver) -> None:
    k.tap_id("btn_matters")
    assert k.app.sm.current == "identify"
    k.rt.sims.card_sim().insert_card("张三", SENIOR_ID)
    k.wait_for(lambda: k.app.screen.reader_state == "read", timeout=20, what="the card to be read")
    k.tap_id("btn_continue")


def _wait_for_index(k: Driver) -> None:
    k.wait_for(
        lambda: k.app.pinyin_lexicon.ready, timeout=90, what="the pinyin index (built once per data dir)"
    )


def _to_address(k: Driver, *, via_card: bool = False) -> Any:
    """The senior card's form with its address field focused (phone typed first); returns the form screen."""
    _wait_for_index(k)
    if via_card:
        _identify_senior(k)
        k.wait_for(
            lambda: k.app.sm.current == "matters" and k.app.screen.ids.rows.children, what="the catalog"
        )
        open_matter(k, "老年人优待证办理" if k.app.lang == "zh" else "Senior Citizen Preferential Card")
    else:
        matter = next(m for m in k.rt.filing.matters() if m.code == ELDER)
        k.app.go("form", matter=matter)
    form = k.app.screen
    assert k.app.sm.current == "form" and form.input_kind == "numpad"
    k.keys(form.ids.numpad, "13800138000")
    k.tap_id("btn_next")
    assert form.current_spec().key == "address" and form.input_kind == "keyboard"
    return form


def _candidate(k: Driver, bar: Any, text: str) -> Any:
    k.frames(3)
    shown = [b.text for b in reversed(bar.cand_box.children)]
    assert text in shown, f"{text} is not on the bar's first page for {bar.letters!r}: {shown}"
    return next(b for b in bar.cand_box.children if b.text == text)


def _address(k: Driver) -> str:
    return k.app.session.form.get("address", "")


def test_type_a_chinese_address_and_submit_it(k: Driver) -> None:
    form = _to_address(k, via_card=True)
    kb, bar = form.ids.keyboard, form.bar
    # The Chinese UI starts in Chinese mode: the bar sits just above the keys.
    assert kb.chinese and bar.parent == form.ids.input_area
    assert bar.y >= kb.top - 1 and bar.preparing_text == k.t("ime.preparing")
    mode = next(w for w in kb.children if getattr(w, "key", "") == "mode")
    assert mode.text == k.t("key.mode_zh")
    k.keys(kb, "BEIJING")
    assert bar.letters == "beijing" and _address(k) == ""
    assert bar.letters_label.text == "bei'jing" and k.t("ime.preparing") not in bar.letters_label.text
    shot(k, "form_pinyin")
    k.tap(_candidate(k, bar, "北京"))  # the harness checks every tap is at least 15 mm
    assert _address(k) == "北京" and bar.letters == ""
    k.keys(kb, "SHI")
    k.tap(_candidate(k, bar, "市"))
    assert _address(k) == "北京市"
    # A digit with pinyin pending takes the first candidate, then is typed; with nothing pending it is just typed.
    k.keys(kb, "LU")
    first = bar.candidates[0]
    k.keys(kb, "8")
    k.keys(kb, "8")
    assert _address(k) == f"北京市{first}88" and bar.letters == ""
    k.keys(kb, "HAO")
    k.tap(_candidate(k, bar, "号"))
    expected = f"北京市{first}88号"
    assert _address(k) == expected and form.boxes()[1].value == expected
    # Space with nothing pending is a space.
    k.keys(kb, ["space", "back"])
    assert _address(k) == expected
    # Submit: delivery mode, review, the platform.
    k.tap_id("btn_next")
    k.tap_text(k.t("delivery.LOCKER"), form.ids.choices)
    assert bar.parent is None, "the bar goes with the keyboard"
    k.tap_id("btn_review")
    assert k.app.sm.current == "review"
    k.tap_id("btn_submit")
    k.wait_for(lambda: k.app.sm.current == "result", timeout=20, what="the result")
    bo = k.rt.app.platform.sim.backoffice
    cases = [c for c in bo.cases_of(SENIOR_ID) if c.matter_code == ELDER]
    assert cases and cases[-1].fields == {"phone": "13800138000", "address": expected}, cases[-1].fields


def test_mode_key_switches_between_chinese_and_letters(k: Driver) -> None:
    form = _to_address(k)
    kb, bar = form.ids.keyboard, form.bar
    mode = next(w for w in kb.children if getattr(w, "key", "") == "mode")
    assert kb.chinese and bar.parent is not None
    # Pinyin pending when switching to ABC goes in as typed; the bar goes away; letters go straight to the field.
    k.keys(kb, "XIAN")
    assert bar.letters == "xian" and _address(k) == ""
    k.tap(mode)
    assert not kb.chinese and bar.parent is None and mode.text == k.t("key.mode_abc")
    assert _address(k) == "xian" and bar.letters == ""
    k.keys(kb, "AB")
    assert _address(k) == "xianAB"
    k.tap(mode)
    assert kb.chinese and bar.parent == form.ids.input_area and mode.text == k.t("key.mode_zh")
    # The apostrophe breaks syllables: xi'an → 西安 first.
    k.keys(kb, ["clear"])
    assert _address(k) == ""
    k.keys(kb, ["X", "I", "'", "A", "N"])
    assert bar.letters == "xi'an" and bar.candidates[0] == "西安"
    k.keys(kb, ["space"])
    assert _address(k) == "西安"
    # Leaving the field keeps what was typed for it, as letters.
    k.keys(kb, "LU")
    k.tap(form.boxes()[0])
    assert (
        _address(k) == "西安lu" and bar.letters == "" and form.input_kind == "numpad" and bar.parent is None
    )
    # The English UI starts in ABC; the key is labelled in English.
    k.app.set_language("en")
    k.tap(form.boxes()[1])
    assert not kb.chinese and bar.parent is None and mode.text == "ABC"
    k.tap(mode)
    assert kb.chinese and mode.text == k.t("key.mode_zh") == "Chinese"
    shot(k, "form_pinyin_mode")
    k.app.set_language("zh")


def test_backspace_and_clear_edit_the_pending_letters_first(k: Driver) -> None:
    form = _to_address(k)
    kb, bar = form.ids.keyboard, form.bar
    k.keys(kb, "SHI")
    k.tap(_candidate(k, bar, "市"))
    k.keys(kb, "BEIJ")
    assert bar.letters == "beij" and bar.letters_label.text == "bei'j"
    k.keys(kb, ["back"])
    assert bar.letters == "bei" and _address(k) == "市"
    k.keys(kb, ["back", "back", "back"])
    assert bar.letters == "" and not bar.candidates and _address(k) == "市"
    k.keys(kb, ["back"])  # nothing pending: the field itself
    assert _address(k) == ""
    k.keys(kb, "SHI")
    k.keys(kb, ["space"])  # the first candidate
    assert _address(k) == bar.engine.candidates("shi")[0]
    k.keys(kb, "LU")
    k.keys(kb, ["clear"])  # pending letters only
    assert bar.letters == "" and len(_address(k)) == 1
    k.keys(kb, ["clear"])  # then the field
    assert _address(k) == ""
    # A full field takes no more than its length allows.
    k.app.session.form["address"] = "路" * 79
    k.keys(kb, "BEIJING")
    k.tap(_candidate(k, bar, "北京"))
    assert _address(k) == "路" * 79 + "北"


def test_inactivity_wipe_clears_pending_letters_and_the_bar(k: Driver) -> None:
    form = _to_address(k)
    kb, bar = form.ids.keyboard, form.bar
    k.keys(kb, "BEIJ")
    assert bar.letters == "beij" and bar.candidates
    k.keys(kb, ["mode"])
    k.keys(kb, ["mode"])  # toggled off and on: the letters went into the field
    assert _address(k) == "beij"
    k.keys(kb, "ZHANGSAN")
    assert bar.letters == "zhangsan"
    k.idle.advance(11)
    k.wait_for(lambda: k.app._warning, what="the inactivity warning")
    k.idle.advance(5)
    k.wait_for(lambda: k.app.sm.current == "start", what="the reset")
    assert k.app.session.is_blank()
    assert bar.letters == "" and bar.candidates == [] and not bar.cand_box.children
    assert bar.letters_label.text == k.t("ime.hint") and bar.raw_button.text == "" and bar.parent is None
    assert form.input_kind == "" and kb.chinese  # the default language's mode again
