"""Defect 7 (issue 12): "返回首页 / Start again" wipes the person's details but keeps what they chose for reading
the screen (language, larger text, 长辈模式): the same person is still standing there. Only the end of a session
(inactivity, "Finish") gives the next person the defaults."""

from __future__ import annotations

from tests.ui.harness import Driver


def test_start_again_keeps_language_and_text_size_and_wipes_the_rest(k: Driver) -> None:
    k.app.set_language("en")
    k.tap_id("btn_elder", "start")
    assert k.app.elder and k.app.large_text
    k.tap_id("btn_matters")
    assert k.app.sm.current == "identify"
    k.rt.sims.card_sim().insert_demo_card()
    k.wait_for(lambda: k.app.screen.reader_state == "read", timeout=20, what="the card to be read")
    assert k.app.session.identified
    k.tap_id("btn_home")
    k.settle()
    assert k.app.sm.current == "start"
    assert k.app.session.identity is None and not k.app.session.form, "the person's details are wiped"
    assert k.app.lang == "en" and k.app.session.language == "en", "the language stays"
    assert k.app.large_text and k.app.elder and k.app.session.elder and k.rt.voice.slow, (
        "so do text and 长辈模式"
    )
    assert k.app.screen.ids.btn_pickup.text == k.t("start.pickup"), "the start screen is in English"
    k.clear_reader()
    # From a keypad screen too; then the session's end (Finish / inactivity) gives the defaults back.
    k.tap_id("btn_pickup")
    assert k.app.sm.current == "pickup"
    k.tap_id("btn_home")
    assert k.app.sm.current == "start" and k.app.lang == "en" and k.app.elder
    k.app.reset_session()
    k.settle()
    assert k.app.lang == k.app.session.default_language and not k.app.large_text and not k.app.elder
