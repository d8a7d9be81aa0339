"""Staff take back any parcel, see a collect that changed nothing, and read what a task asks of them.

Real touches through the real core, the lock-board simulator and the platform simulator: a result still waiting
for its owner taken back (behind "show all parcels", a confirmation and a reason; its code then opens nothing), a
door shut on the item it was opened to collect, and a dead pickup SMS turned into a task whose text is on screen.
"""

from __future__ import annotations

from typing import Any

from kiosk.audit import tail
from tests.ui.conftest import STAFF_BADGE, shot
from tests.ui.flows import (
    OTHER_PERSON,
    badge,
    comp_state,
    deposit_ready,
    dropped_off,
    open_doors,
    parcel_state,
    slot_of,
)
from tests.ui.harness import Driver


def _staff(k: Driver) -> Any:
    badge(k, STAFF_BADGE)
    k.wait_for(lambda: k.app.sm.current == "staff", what="staff mode")
    k.settle()
    return k.app.screen


def _row(k: Driver, screen: Any, parcel_id: int) -> Any:
    return k.wait_for(
        lambda: next((r for r in screen.ids.rows.children if r.ref.id == parcel_id), None),
        what=f"parcel {parcel_id} in the list",
    )


def _take_out(k: Driver, parcel_id: int, label: str) -> None:
    """Empty a compartment through the core, as a clerk with the CLI would: later tests need free doors."""
    h = k.rt.parts.cabinet.start_collect(parcel_id, actor="test:clerk")
    sim, b, ch = slot_of(k, label)
    sim.take_item(b, ch)
    sim.close_door(b, ch)
    assert k.rt.parts.cabinet.wait_closed(h, 10).outcome in ("collected", "returned")


def test_staff_take_back_a_result_not_yet_overdue_and_its_code_stops_working(k: Driver) -> None:
    code, label = deposit_ready(k, OTHER_PERSON)
    view = next(v for v in k.rt.parts.cabinet.collectable(include_ready=True) if v.label == label)
    pid, case = view.id, view.case_number
    assert view.state == "ready" and not view.overdue
    _staff(k)
    k.tap_id("btn_collect")
    screen = k.app.screen
    k.settle()
    assert all(r.ref.id != pid for r in screen.ids.rows.children), "by default only what is due to come out"
    # "Show all parcels": the result still waiting for its owner joins the list, marked as such.
    k.tap_id("btn_show_all")
    row = _row(k, screen, pid)
    assert screen.show_all and screen.ids.btn_show_all.selected
    assert row.title == f"{label}  {k.t('collect.kind.ready')}" and case in row.detail
    shot(k, "staff_collect_all")
    k.tap(k.app.root.ids.lang_btn)  # the rows follow the language like the rest of the screen
    assert _row(k, screen, pid).title == f"{label}  Waiting for its owner (code valid)"
    shot(k, "staff_collect_all")
    k.tap(k.app.root.ids.lang_btn)
    # Tapping it asks first: the applicant's code dies. Cancel changes nothing.
    k.tap(_row(k, screen, pid))
    dialog = k.wait_for(lambda: screen.dialog, what="the confirmation")
    assert dialog.ids.title.text == k.t("collect.confirm_title", label=label)
    assert case in dialog.ids.case.text and dialog.ids.warning.text == k.t("collect.confirm_warning")
    assert dialog.ids.btn_confirm.disabled, "no take-back without a reason"
    k.tap(dialog.ids.btn_cancel)
    assert screen.dialog is None and k.app.sm.current == "staff_collect"
    assert parcel_state(k, pid) == "ready" and open_doors(k) == []
    # Again, with a reason this time.
    k.tap(_row(k, screen, pid))
    dialog = k.wait_for(lambda: screen.dialog, what="the confirmation again")
    k.tap(dialog.ids.reason_citizen_at_desk)
    assert dialog.reason == "citizen_at_desk" and dialog.ids.reason_citizen_at_desk.selected
    assert not dialog.ids.btn_confirm.disabled
    shot(k, "staff_take_back_confirm")
    k.app.set_language(
        "en"
    )  # the header's language button is under the dialog: as a staff member's tap would do
    assert (
        "stops working" in dialog.ids.warning.text
        and dialog.ids.title.text == f"Take back the result in {label}?"
    )
    shot(k, "staff_take_back_confirm")
    k.app.set_language("zh")
    k.tap(dialog.ids.btn_confirm)
    k.wait_for(lambda: k.app.sm.current == "door", what="the door to open")
    door = k.app.screen
    assert door.purpose == "collect" and door.label == label and open_doors(k) == [label]
    assert parcel_state(k, pid) == "collecting"
    with k.rt.app.db.transaction() as s:
        asked = next(e for e in reversed(tail(s, 30)) if e.action == "cabinet.collect_requested")
    assert asked.detail["parcel"] == pid and asked.detail["reason"] == "citizen_at_desk"
    assert asked.actor == f"staff:{STAFF_BADGE[-4:]}"
    k.tap_id("btn_sim_close")  # the simulator takes the parcel out and shuts the door
    k.wait_for(lambda: door.closed, what="the door to read closed")
    assert door.ids.instruction.text == k.t("door.done.collect")
    assert parcel_state(k, pid) == "returned" and comp_state(k, label) == "free"
    bo = k.rt.app.platform.sim.backoffice
    k.wait_for(
        lambda: any(d.case_number == case and d.event == "RETURNED_TO_CENTRE" for d in bo.deliveries),
        timeout=20,
        what="the platform to hear it went back to the centre",
    )
    k.tap_id("btn_next")
    k.tap_id("btn_exit")
    # The citizen comes with the code from their text message: it opens nothing any more.
    k.tap_id("btn_pickup")
    pickup = k.app.screen
    k.keys(pickup.ids.numpad, code)
    k.tap_id("btn_open")
    k.wait_for(lambda: pickup.error, what="the code to be refused")
    assert pickup.error == k.t("error.wrong_code_left", n=2, wait=k.app.wait_text(30))
    assert k.app.sm.current == "pickup" and open_doors(k) == []
    k.rt.parts.cabinet.clear_lockout(
        actor="test:clerk"
    )  # the wrong code must not count against the next test


def test_a_collect_shut_on_its_item_says_nothing_was_collected(k: Driver) -> None:
    pid, label = dropped_off(k)
    _staff(k)
    k.tap_id("btn_collect")
    k.tap(_row(k, k.app.screen, pid))  # a drop-off: no question asked, the door opens
    k.wait_for(lambda: k.app.sm.current == "door", what="the door to open")
    door = k.app.screen
    sim, b, ch = slot_of(k, label)
    sim.close_door(b, ch)  # pushed shut with the materials still inside
    k.wait_for(lambda: door.closed, what="the door to read closed")
    assert door.result.outcome == "item_still_inside" and door.nothing_taken
    assert door.ids.instruction.text == k.t("door.done.collect_still_inside", label=label)
    assert door.ids.instruction.text != k.t("door.done.collect")
    assert parcel_state(k, pid) == "dropped_off" and comp_state(k, label) == "occupied"
    shot(k, "door_collect_still_inside")
    k.tap(k.app.root.ids.lang_btn)
    assert (
        door.ids.instruction.text == f"The item is still inside compartment {label}; nothing was collected."
    )
    shot(k, "door_collect_still_inside")
    k.tap_id("btn_next")
    assert k.app.sm.current == "staff"
    # Still on the list, so staff can try again.
    k.tap_id("btn_collect")
    _row(k, k.app.screen, pid)
    _take_out(k, pid, label)


def test_a_task_shows_what_to_do_with_its_case_number(k: Driver) -> None:
    # The platform refuses the pickup SMS for good: the outbox's dead letter becomes a staff task.
    faults = k.rt.app.platform.sim.faults
    fault = faults.platform_fault("UNKNOWN_CASE", operation="NotifyApplicant", times=1)
    try:
        _code, label = deposit_ready(k, OTHER_PERSON)
        k.rt.parts.sender.poke()
        task = k.wait_for(
            lambda: next((t for t in k.rt.staff.tasks() if t.kind == "sms_not_sent"), None),
            timeout=20,
            what="the dead SMS's staff task",
        )
    finally:
        faults.disarm(fault)
    view = next(v for v in k.rt.parts.cabinet.collectable(include_ready=True) if v.label == label)
    assert view.case_number in task.detail
    staff = _staff(k)

    def task_row() -> Any:
        return k.wait_for(
            lambda: next((r for r in staff.ids.tasks.children if r.ref == task.id), None),
            what="the task in the list",
        )

    row = task_row()
    assert row.title == k.t("task.sms_not_sent")
    # In plain words: the case number and what to do; the core's own text, in full, behind the details toggle.
    assert row.detail == k.t("plain.task_number", number=view.case_number, todo=k.t("task.do.sms_not_sent"))
    k.tap(row.ids.btn_details)
    technical = row.ids.technical
    assert technical.text == task.detail and "hand it over at the desk" in technical.text
    k.frames(3)
    assert technical.texture_size[1] > 2 * technical.font_size, "several lines, not one cut-off line"
    assert technical.width <= row.width
    assert task.id in [t.id for t in k.rt.staff.tasks()], "the toggle does not resolve the task"
    shot(k, "staff_task_detail")
    k.tap(k.app.root.ids.lang_btn)
    row = task_row()
    assert row.title == "Pickup text message not sent" and view.case_number in row.detail
    shot(k, "staff_task_detail")
    k.tap(row)  # asks first (defect 7: no task closes on one stray tap)
    k.tap(row.ids.btn_confirm)
    k.wait_for(lambda: task.id not in [t.id for t in k.rt.staff.tasks()], what="the task to be resolved")
    _take_out(k, view.id, label)


def _held(k: Driver, code: str, label: str) -> int:
    """A pickup whose door was shut on its parcel: held in attention (item_left)."""
    h = k.rt.parts.cabinet.start_pickup_by_code(code)
    sim, b, ch = slot_of(k, label)
    sim.close_door(b, ch)
    assert k.rt.parts.cabinet.wait_closed(h, 10).outcome == "item_left"
    assert h.parcel_id is not None and parcel_state(k, h.parcel_id) == "attention"
    return h.parcel_id


def test_a_held_parcel_is_put_back_or_handed_over_at_the_desk(k: Driver) -> None:
    code, label = deposit_ready(k, OTHER_PERSON)
    pid = _held(k, code, label)
    case = next(v.case_number for v in k.rt.parts.cabinet.collectable() if v.id == pid)
    _staff(k)
    k.tap_id("btn_collect")
    screen = k.app.screen
    k.tap(_row(k, screen, pid))
    dialog = k.wait_for(lambda: screen.dialog, what="the attention choices")
    assert dialog.ids.title.text == k.t("attention.title", label=label) and case in dialog.ids.case.text
    assert not dialog.ids.btn_handover.disabled  # a result: it can be handed to its owner
    shot(k, "staff_attention")
    k.tap(dialog.ids.btn_putback)
    k.wait_for(lambda: parcel_state(k, pid) == "ready", what="the parcel to be ready again")
    assert open_doors(k) == [] and comp_state(k, label) == "occupied"  # no door opened for it
    k.wait_for(lambda: all(r.ref.id != pid for r in screen.ids.rows.children), what="the list to drop it")
    # Held again; this time staff hand it over at the desk.
    _held(k, code, label)
    screen.refresh()
    k.tap(_row(k, screen, pid))
    dialog = k.wait_for(lambda: screen.dialog, what="the attention choices again")
    k.tap(dialog.ids.btn_handover)
    k.wait_for(lambda: parcel_state(k, pid) == "picked_up", what="the parcel to be handed over")
    assert open_doors(k) == [] and comp_state(k, label) == "free"
    with k.rt.app.db.transaction() as s:
        rec = next(e for e in reversed(tail(s, 30)) if e.action == "cabinet.handed_over")
    assert rec.actor == f"staff:{STAFF_BADGE[-4:]}" and rec.detail["parcel"] == pid
    bo = k.rt.app.platform.sim.backoffice
    k.wait_for(
        lambda: [d.event for d in bo.deliveries if d.case_number == case].count("PICKED_UP") == 1,
        timeout=40,
        what="the platform to hear it was picked up, once",
    )
    sim, b, ch = slot_of(k, label)
    sim.take_item(b, ch)  # what staff took out to hand over: later tests need the compartment empty
