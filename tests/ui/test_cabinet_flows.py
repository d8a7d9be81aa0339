"""Drop-off and staff deposit end to end, through real touches, the cabinet core and the lock-board simulator."""

from __future__ import annotations

from tests.ui.conftest import STAFF_BADGE, shot
from tests.ui.flows import OTHER_PERSON, approved_case, badge, open_doors, parcel_state, slot_of
from tests.ui.harness import Driver


def test_dropoff_for_a_matter_opens_a_door_and_gives_a_receipt(k: Driver) -> None:
    k.tap_id("btn_dropoff")
    assert k.app.sm.current == "identify"
    k.rt.sims.card_sim().insert_demo_card()
    k.wait_for(lambda: k.app.screen.reader_state == "read", timeout=20, what="the card")
    shot(k, "identify")
    k.tap_id("btn_continue")
    k.wait_for(
        lambda: k.app.sm.current == "dropoff" and k.app.screen.ids.matters.children, what="the choices"
    )
    shot(k, "dropoff")
    k.tap_text("社会保障卡补换")
    # Defect 7: nothing opens yet; the matter and the size are shown to confirm.
    drop = k.app.screen
    k.settle()
    assert k.app.sm.current == "dropoff" and open_doors(k) == []
    assert drop.ids.confirm_matter.text == k.t("dropoff.confirm_matter", name="社会保障卡补换")
    shot(k, "dropoff_confirm")
    k.tap_id("btn_change")  # choose again: the panel goes, still nothing open
    assert drop.choice is None and open_doors(k) == []
    k.tap_text("社会保障卡补换")
    k.tap_text(k.t("dropoff.size.L"), drop.ids.sizes)
    assert drop.door_size == "L"
    k.tap_id("btn_open_door")
    k.wait_for(lambda: k.app.sm.current == "door", what="a door to open")
    door = k.app.screen
    label = door.label
    assert open_doors(k) == [label]
    assert next(c.size for cab in k.rt.cfg.cabinets for c in cab.compartments if c.label == label) == "L"
    sim, b, ch = slot_of(k, label)
    sim.put_item(b, ch)
    sim.close_door(b, ch)
    k.wait_for(lambda: door.closed, what="the door to read closed")
    assert door.result.receipt_number and door.result.receipt_number in door.ids.instruction.text
    assert parcel_state(k, door.handle.parcel_id) == "dropped_off"
    k.wait_for(lambda: any("DROPOFF" in p.name or p.exists() for p in k.rt.printer.printed), what="a receipt")
    assert "事项 Matter: 社会保障卡补换" in door.receipt_lines, "the receipt names the matter"
    k.tap_id("btn_next")
    assert k.app.sm.current == "rate"
    k.tap_id("btn_skip")
    assert k.app.sm.current == "start" and k.app.session.identity is None


def test_staff_deposit_by_case_number(k: Driver) -> None:
    case = approved_case(
        k, OTHER_PERSON
    )  # not the demo card's holder: the pickup tests must find only their own
    badge(k, "DEADBEEF00")
    k.frames(3)
    assert k.app.sm.current == "start" and k.app.screen.error == k.t("staff.badge_unknown")
    badge(k, STAFF_BADGE)
    k.wait_for(lambda: k.app.sm.current == "staff", what="staff mode")
    assert k.app.session.role == "staff"
    shot(k, "staff")
    k.tap_id("btn_deposit")
    dep = k.app.screen
    k.keys(dep.ids.keyboard, case)
    assert dep.ids.case_display.text == case
    k.tap_id("size_S")
    shot(k, "staff_deposit")
    k.tap_id("btn_deposit")
    k.wait_for(lambda: k.app.sm.current == "door", what="the door to open")
    door = k.app.screen
    label = door.label
    assert open_doors(k) == [label]
    assert label in ("A01", "A02", "A03", "A04"), "a small parcel goes in a small compartment"
    k.tap_id("btn_sim_close")  # the demo's own "close the door" switch: puts the item in and shuts it
    k.wait_for(lambda: door.closed, what="the door to read closed")
    assert parcel_state(k, door.handle.parcel_id) == "ready"
    bo = k.rt.app.platform.sim.backoffice
    k.wait_for(
        lambda: any(s.case_number == case and s.template == "PICKUP_READY" for s in bo.sms),
        timeout=20,
        what="the pickup SMS through the outbox",
    )
    assert "code" not in door.ids.instruction.text.lower()
    k.tap_id("btn_next")
    assert k.app.sm.current == "staff"
    k.tap_id("btn_exit")
    assert k.app.sm.current == "start" and k.app.session.role == "citizen" and k.app.session.staff_id is None


def test_staff_deposit_shut_empty_is_cancelled_and_says_so(k: Driver) -> None:
    case = approved_case(k, OTHER_PERSON)
    badge(k, STAFF_BADGE)
    k.wait_for(lambda: k.app.sm.current == "staff", what="staff mode")
    k.tap_id("btn_deposit")
    k.keys(k.app.screen.ids.keyboard, case)
    k.tap_id("size_S")
    k.tap_id("btn_deposit")
    k.wait_for(lambda: k.app.sm.current == "door", what="the door to open")
    door = k.app.screen
    sim, b, ch = slot_of(k, door.label)
    sim.close_door(b, ch)  # changed their mind: nothing put in
    k.wait_for(lambda: door.closed, what="the door to read closed")
    assert door.result.outcome == "cancelled_empty" and door.result.code is None
    assert door.ids.instruction.text == k.t("door.done.cancelled_empty.deposit", label=door.label)
    assert parcel_state(k, door.handle.parcel_id) == "cancelled"
    shot(k, "door_deposit_cancelled")
    k.app.set_language("en")
    assert "deposit is cancelled" in door.ids.instruction.text
    shot(k, "door_deposit_cancelled")
    k.tap_id("btn_next")
    k.tap_id("btn_exit")
