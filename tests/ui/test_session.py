"""The session's end: the inactivity warning and reset, and what is wiped."""

from __future__ import annotations

from tests.ui.conftest import TECH_PIN, shot
from tests.ui.flows import open_matter
from tests.ui.harness import Driver


def test_inactivity_warns_then_resets_and_wipes_everything(k: Driver) -> None:
    k.tap(k.app.root.ids.lang_btn)
    assert k.app.lang == "en"
    k.tap_id("btn_matters")
    k.rt.sims.card_sim().insert_demo_card()
    k.wait_for(lambda: k.app.screen.reader_state == "read", timeout=20, what="the card")
    ident = k.app.session.identity
    k.tap_id("btn_continue")
    k.wait_for(lambda: k.app.sm.current == "matters" and k.app.screen.ids.rows.children, what="the catalog")
    open_matter(k, "Job-seeker Registration")
    form = k.app.screen
    k.keys(form.ids.numpad, "1380013")
    assert k.app.session.form.get("phone") == "1380013"
    # 9 s idle: nothing yet. 10 s: the warning with its countdown.
    k.idle.advance(9)
    k.frames(3)
    k.wait_for(lambda: True)
    assert k.app._warning is None
    k.idle.advance(2)
    warning = k.wait_for(lambda: k.app._warning, what="the inactivity warning")
    k.frames(3)
    assert warning.seconds_left == 4
    shot(k, "inactivity_warning")
    # "I'm here" keeps everything.
    k.tap(warning.ids.stay)
    assert (
        k.app._warning is None and k.app.sm.current == "form" and k.app.session.form.get("phone") == "1380013"
    )
    # Then nobody answers: back to the start, everything gone, default language again.
    k.idle.advance(11)
    k.wait_for(lambda: k.app._warning, what="the warning again")
    k.idle.advance(5)
    k.wait_for(lambda: k.app.sm.current == "start", what="the reset")
    assert k.app.session.is_blank() and ident.wiped and ident.id_number == ""
    assert k.app.lang == "zh"
    assert not k.app.get_screen("form").ids.fields.children
    assert k.app.get_screen("identify").masked_id == ""
    assert k.app.get_screen("matters").ids.rows.children == []


def test_technician_pin(k: Driver) -> None:
    k.tap_id("btn_staff")
    pin = k.app.screen
    k.keys(pin.ids.numpad, "000000")
    k.tap_id("btn_ok")
    assert pin.error == k.t("pin.wrong", n=k.rt.pin_tries_left(), minutes=5) and k.app.sm.current == "pin"
    k.keys(pin.ids.numpad, TECH_PIN)
    assert pin.ids.pin_display.text.count("*") == len(TECH_PIN)
    k.tap_id("btn_ok")
    assert k.app.sm.current == "tech" and k.app.session.role == "technician"
    k.wait_for(lambda: k.app.screen.ids.checks.children, what="device status")
    k.tap_text("A03", k.app.screen.ids.doors)
    k.wait_for(lambda: k.app.screen.info, what="the door to open")
    sim = k.rt.sims.door_sim("CAB-01")
    assert sim.is_open(0, 3)
    sim.close_door(0, 3)


def test_platform_down_shows_the_notice_and_pickup_still_works(k: Driver) -> None:
    from tests.ui.flows import deposit_ready, open_doors

    code, label = deposit_ready(k)
    assert k.rt.sims.flip("platform_down") is True  # the simulator now resets every connection
    try:
        k.tap_id("btn_cases")
        k.rt.sims.card_sim().insert_demo_card()
        k.wait_for(lambda: k.app.screen.reader_state == "read", timeout=20, what="the card")
        k.tap_id("btn_continue")
        k.wait_for(lambda: k.app.screen.error, timeout=30, what="the lookup to fail")
        # No personal result is cached: the lookup says it cannot be answered now, and when the platform last did.
        last = k.t("error.query_unavailable", when="").split("{")[0]
        assert k.app.screen.error.startswith(last.split("。")[0]) and k.app.platform_down
        assert k.app.screen.error != k.t("error.query_unavailable_never"), "the platform answered before"
        k.rt.sims.card_sim().remove_card()  # lifted off the pad: asked to put it back, or to end
        notice = k.wait_for(lambda: k.app.card_away.notice, what="the card-removed notice")
        k.tap(notice.ids.end)
        k.wait_for(lambda: k.app.sm.current == "start", what="the reset")
        notice = k.app.screen.ids.platform_notice
        k.settle()
        assert notice.text == k.t("start.platform_down") and notice.height > 0
        shot(k, "start_platform_down")
        # Pick-up is local: it works with the platform down.
        k.tap_id("btn_pickup")
        k.keys(k.app.screen.ids.numpad, code)
        k.tap_id("btn_open")
        k.wait_for(lambda: k.app.sm.current == "door", what="the door")
        assert open_doors(k) == [label]
        k.tap_id("btn_sim_close")
        k.wait_for(lambda: k.app.screen.closed, what="the door to close")
    finally:
        k.rt.sims.flip("platform_down")
    k.rt.run(k.rt.beat)
    k.wait_for(lambda: not k.app.platform_down, timeout=20, what="the notice to go when the platform is back")


def test_too_many_wrong_pins_lock_pin_sign_in(k: Driver) -> None:
    """Five wrong PINs refuse every PIN, the right one included, for a while; the lockout is audited."""
    from hallkiosk.runtime import PIN_MAX_WRONG

    try:
        k.tap_id("btn_staff")
        pin = k.app.screen
        for _ in range(PIN_MAX_WRONG):
            k.keys(pin.ids.numpad, "000000")
            k.tap_id("btn_ok")
        assert k.rt.pin_locked_for() is not None
        assert pin.error == k.t("pin.locked", minutes=5)
        k.keys(pin.ids.numpad, TECH_PIN)
        k.tap_id("btn_ok")
        assert k.app.sm.current == "pin" and pin.error == k.t("pin.locked", minutes=5)
        from kiosk import audit

        k.wait_for(lambda: any(r.action == "pin_lockout" for r in _tail(k)), what="the lockout audited")
        with k.rt.app.db.transaction() as s:
            assert [r.action for r in audit.tail(s, 200)].count("pin_wrong") >= PIN_MAX_WRONG
    finally:
        k.rt.clear_pin_lockout()  # the app is shared by every test in this session


def _tail(k: Driver) -> list:
    from kiosk import audit

    with k.rt.app.db.transaction() as s:
        return audit.tail(s, 20)
