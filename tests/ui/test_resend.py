"""A lost pickup SMS: identify with the card, ask for a new code; the old one is dead at once, the new one goes by
SMS only (never on screen), and the resend is audited."""

from __future__ import annotations

import pytest

from kiosk import audit
from kiosk.errors import KioskError
from tests.ui.conftest import shot
from tests.ui.flows import CARD_PERSON, deposit_ready, slot_of
from tests.ui.harness import Driver, walk


def test_a_citizen_who_lost_the_sms_gets_a_new_code_and_the_old_one_dies(k: Driver) -> None:
    old_code, label = deposit_ready(k)
    bo = k.rt.app.platform.sim.backoffice
    k.tap_id("btn_pickup")
    assert k.app.sm.current == "pickup"
    k.tap_id("btn_lost_code")
    assert k.app.sm.current == "identify", "the card first: the code goes only to the card holder's phone"
    k.rt.sims.card_sim().insert_demo_card()
    k.wait_for(lambda: k.app.screen.reader_state == "read", timeout=20, what="the card")
    k.tap_id("btn_continue")
    scr = k.wait_for(
        lambda: k.app.sm.current == "resend" and k.app.screen.ids.rows.children and k.app.screen,
        timeout=20,
        what="the results waiting here",
    )
    (row,) = scr.ids.rows.children
    assert label in row.title
    shot(k, "resend")
    sms_before = len(bo.sms)
    k.tap(row)
    k.wait_for(lambda: scr.done, timeout=20, what="the new code to be sent")
    assert k.t("resend.done") in scr.done and label in scr.done
    # What the kiosk shows; the simulator strip's phone stands for the citizen's own phone, so it may show the SMS
    # (the sender can deliver the new code before this line runs).
    band = set(walk(k.app.root.ids.band))
    texts = " ".join(getattr(w, "text", "") for w in walk(k.app.root) if w not in band)
    assert old_code not in texts
    shot(k, "resend_done")
    # The old code is dead at once; the new one reaches the platform's SMS, with the cabinet and the expiry.
    with pytest.raises(KioskError):
        k.rt.citizen.pickup_by_code(old_code)
    k.rt.parts.sender.poke()
    sms = k.wait_for(
        lambda: [m for m in bo.sms[sms_before:] if m.template == "PICKUP_CODE_RESEND"],
        timeout=20,
        what="the PICKUP_CODE_RESEND SMS",
    )
    new_code = sms[-1].params["code"]
    assert new_code != old_code and new_code not in texts and label in sms[-1].params["cabinet"]
    with k.rt.app.db.transaction() as s:
        recs = [r for r in audit.tail(s, 50) if r.action == "cabinet.code_resent"]
    assert recs and old_code not in str(recs[-1].detail) and new_code not in str(recs[-1].detail)
    assert CARD_PERSON.id_number not in str(recs[-1].detail)
    # The new code opens the door (and leaves the cabinet as the next test expects it: empty of this result).
    h = k.rt.citizen.pickup_by_code(new_code)
    assert h.label == label
    sim, b, ch = slot_of(k, label)
    sim.take_item(b, ch)
    sim.close_door(b, ch)
    assert k.rt.doors.wait_closed(h, 10).outcome == "picked_up"
