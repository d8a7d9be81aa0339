"""Lifting a card: a resident ID card off the GA 467 pad asks for it back; a social security card pulled out ends it.

The resident ID card goes through the shipped GA 467 simulator and the real reader driver on a pty; the social
security card's events are delivered from a reader thread exactly as the PC/SC reader's watcher delivers them.
"""

from __future__ import annotations

import threading

from kiosk.identity import Identity
from kiosk.ports import CardEvent
from tests.ui.conftest import shot
from tests.ui.flows import CARD_PERSON, OTHER_PERSON, open_matter
from tests.ui.harness import Driver
from ui.card_away import CARD_RETURN_S


def _form_with_a_phone_typed(k: Driver) -> object:
    """Identified with the demo ID card, on the job-seeker registration form with part of a phone number typed."""
    k.tap_id("btn_matters")
    k.rt.sims.card_sim().insert_demo_card()
    k.wait_for(lambda: k.app.screen.reader_state == "read", timeout=20, what="the card")
    k.tap_id("btn_continue")
    k.wait_for(lambda: k.app.sm.current == "matters" and k.app.screen.ids.rows.children, what="the catalog")
    open_matter(k, "就业失业登记")
    form = k.app.screen
    k.keys(form.ids.numpad, "1380013")
    assert k.app.session.form.get("phone") == "1380013"
    return form


def _lift(k: Driver) -> object:
    k.rt.sims.card_sim().remove_card()
    return k.wait_for(lambda: k.app.card_away.notice, what="the card-removed notice")


def test_lifting_the_id_card_mid_form_asks_for_it_back_and_the_same_card_resumes(k: Driver) -> None:
    form = _form_with_a_phone_typed(k)
    ident = k.app.session.identity
    notice = _lift(k)
    k.frames(3)
    assert k.app.sm.current == "form" and k.app.session.form.get("phone") == "1380013"
    assert not ident.wiped and notice.seconds_left == CARD_RETURN_S
    assert notice.ids.title.text == k.t("card_away.title") and notice.ids.how.text == k.t("card_away.how")
    shot(k, "card_away")
    k.app.set_language(
        "en"
    )  # the notice covers the header, as any modal does; the language follows the session
    assert notice.ids.how.text == "Put it back on the reader to continue, or tap End."
    shot(k, "card_away")
    k.app.toggle_large_text()
    shot(k, "card_away_large_text")  # the overflow check covers the notice too
    assert notice.ids.title.font_size == k.app.fs_title > k.app.fs_body, (
        "titles stay title-sized in larger text"
    )
    k.app.toggle_large_text()
    k.app.set_language("zh")
    # The idle timer does not run behind the notice; its own countdown does.
    k.idle.advance(20)
    k.wait_for(lambda: notice.seconds_left == CARD_RETURN_S - 20, what="the countdown")
    assert k.app._warning is None and k.app.sm.current == "form"
    # The same card back on the pad: everything is as it was.
    k.rt.sims.card_sim().insert_demo_card()
    k.wait_for(lambda: not k.app.card_away.active, timeout=20, what="the card to be read again")
    k.frames(3)
    assert k.app.card_away.notice is None and notice.get_parent_window() is None
    assert k.app.sm.current == "form" and k.app.session.identity is ident and not ident.wiped
    assert k.app.session.form.get("phone") == "1380013" and form.boxes()[0].value == "1380013"
    k.keys(form.ids.numpad, "8000")
    assert k.app.session.form.get("phone") == "13800138000"


def test_a_card_not_put_back_ends_the_session_and_wipes_it(k: Driver) -> None:
    form = _form_with_a_phone_typed(k)
    ident = k.app.session.identity
    _lift(k)
    k.idle.advance(CARD_RETURN_S + 1)
    k.wait_for(lambda: k.app.sm.current == "start", what="the session to end")
    assert ident.wiped and ident.id_number == "" and k.app.session.is_blank()
    assert not k.app.card_away.active and not form.ids.fields.children


def test_end_on_the_notice_ends_the_session_at_once(k: Driver) -> None:
    _form_with_a_phone_typed(k)
    ident = k.app.session.identity
    notice = _lift(k)
    k.tap(notice.ids.end)
    assert k.app.sm.current == "start" and ident.wiped and k.app.session.is_blank()
    assert k.app.card_away.notice is None


def test_a_different_card_put_down_ends_the_old_session_and_starts_a_new_one(k: Driver) -> None:
    form = _form_with_a_phone_typed(k)
    ident = k.app.session.identity
    _lift(k)
    k.rt.sims.card_sim().insert_card(OTHER_PERSON.name, OTHER_PERSON.id_number)
    k.wait_for(lambda: not k.app.card_away.active, timeout=20, what="the other card to be read")
    k.frames(3)
    assert ident.wiped, "the first person's data is gone"
    assert k.app.sm.current == "start" and not form.ids.fields.children and "phone" not in k.app.session.form
    new = k.app.session.identity
    assert new is not None and new.masked_id == "110105********1232" and new.name == OTHER_PERSON.name
    assert new.id_number != CARD_PERSON.id_number


def _ssc_event(k: Driver, kind: str, identity: Identity | None = None) -> None:
    ev = CardEvent(kind, reader="PC/SC contact reader", identity=identity)  # type: ignore[arg-type]
    t = threading.Thread(target=k.rt._on_card_event, args=(ev,))
    t.start()
    t.join()
    k.frames(3)


def test_a_social_security_card_pulled_out_of_its_slot_ends_the_session_at_once(k: Driver) -> None:
    k.tap_id("btn_matters")
    ssc = Identity.checked(CARD_PERSON.id_number, CARD_PERSON.name, "social_security")
    _ssc_event(k, "inserted")
    _ssc_event(k, "identified", ssc)
    k.wait_for(lambda: k.app.screen.reader_state == "read", what="the card")
    k.tap_id("btn_continue")
    k.wait_for(lambda: k.app.sm.current == "matters" and k.app.screen.ids.rows.children, what="the catalog")
    open_matter(k, "就业失业登记")
    k.keys(k.app.screen.ids.numpad, "138")
    _ssc_event(k, "removed")
    k.wait_for(lambda: k.app.sm.current == "start", what="the session to end")
    assert ssc.wiped and k.app.session.is_blank() and not k.app.card_away.active
