"""Staff mode end to end: badge (and badge + PIN), collect a drop-off and an overdue result, disable and enable a door,
resolve the task a citizen's "the door did not open" raised. Real touches, the real core, the simulators."""

from __future__ import annotations

from typing import Any

import pytest

from tests.ui.conftest import STAFF_BADGE, TECH_PIN, shot
from tests.ui.flows import (
    badge,
    comp_state,
    deposit_ready,
    dropped_off,
    open_doors,
    overdue_result,
    parcel_state,
    slot_of,
)
from tests.ui.harness import Driver

STAFF_PIN = "246802"


def _staff(k: Driver) -> None:
    badge(k, STAFF_BADGE)
    k.wait_for(lambda: k.app.sm.current == "staff", what="staff mode")
    k.settle()


def _row(rows: Any, ref: Any) -> Any:
    return next(r for r in rows.children if r.ref == ref)


def _collect(k: Driver, parcel_id: int, label: str, kind_key: str) -> None:
    _staff(k)
    k.tap_id("btn_collect")
    screen = k.app.screen
    k.wait_for(
        lambda: any(r.ref.id == parcel_id for r in screen.ids.rows.children), what="the parcel in the list"
    )
    row = next(r for r in screen.ids.rows.children if r.ref.id == parcel_id)
    assert row.title == f"{label}  {k.t(kind_key)}"
    assert "*" in row.detail, "the owner is shown masked"
    if row.ref.matter_name:
        assert row.ref.matter_name in row.detail, "the collect list names the matter"
    k.tap(row)
    k.wait_for(lambda: k.app.sm.current == "door", what="the door to open")
    door = k.app.screen
    assert door.purpose == "collect" and door.label == label and open_doors(k) == [label]
    assert parcel_state(k, parcel_id) == "collecting"
    k.tap_id("btn_sim_close")  # the simulator takes the item out and shuts the door
    k.wait_for(lambda: door.closed, what="the door to read closed")
    assert door.ids.instruction.text == k.t("door.done.collect")
    k.tap_id("btn_next")
    assert k.app.sm.current == "staff"


def test_staff_collect_a_dropoff(k: Driver) -> None:
    pid, label = dropped_off(k)
    view = next(p for p in k.rt.staff.collectable() if p.id == pid)
    assert view.matter_name == "社会保障卡补换"
    _collect(k, pid, label, "collect.kind.dropoff")
    assert parcel_state(k, pid) == "collected" and comp_state(k, label) == "free"
    assert pid not in [p.id for p in k.rt.staff.collectable()]


def test_staff_collect_an_overdue_result(k: Driver) -> None:
    pid, label = overdue_result(k)
    _collect(k, pid, label, "collect.kind.overdue")
    assert parcel_state(k, pid) == "returned" and comp_state(k, label) == "free"
    assert pid not in [v.id for v in k.rt.parts.cabinet.overdue()]


def test_staff_disable_and_enable_a_door(k: Driver) -> None:
    label = next(c.label for c in reversed(k.rt.parts.cabinet.status()) if c.state == "free")
    _staff(k)
    k.tap_id("btn_compartments")
    screen = k.app.screen

    def row() -> Any:
        return next((r for r in screen.ids.rows.children if r.ref.label == label), None)

    k.wait_for(row, what="the compartments")
    assert row().title == f"{label}  {k.t('size.' + row().ref.size)}  {k.t('comp.state.free')}"
    assert row().detail == k.t("comp.disable")
    k.tap(row())
    k.wait_for(
        lambda: row() is not None and row().ref.state == "disabled", what="the list to show it disabled"
    )
    assert comp_state(k, label) == "disabled" and row().detail == k.t("comp.enable")
    shot(k, "staff_compartments_disabled")
    k.tap(row())
    k.wait_for(lambda: row() is not None and row().ref.state == "free", what="the list to show it free again")
    assert comp_state(k, label) == "free"


def test_staff_resolve_the_task_a_citizen_raised(k: Driver) -> None:
    code, label = deposit_ready(k)
    # The citizen: the door "did not open" (they say), the button raises a real staff task.
    k.tap_id("btn_pickup")
    k.keys(k.app.screen.ids.numpad, code)
    k.tap_id("btn_open")
    k.wait_for(lambda: k.app.sm.current == "door", what="the door")
    k.tap_id("btn_not_open")
    door = k.app.screen
    assert door.help_shown and door.ids.help.text == k.t("door.help")
    task = k.wait_for(
        lambda: next(
            (t for t in k.rt.staff.tasks() if t.kind == "reported_problem" and t.label == label), None
        ),
        what="the staff task",
    )
    # The door is shut with the parcel still inside (it never worked for them): the task stays for staff. (A door
    # that then works settles its own task: tests/ui/test_door_screen_after.py.)
    sim, b, ch = slot_of(k, label)
    sim.close_door(b, ch)
    k.wait_for(lambda: door.closed, what="the door to close")
    assert door.result.outcome != "picked_up"
    k.go_start()
    # Staff see it and resolve it.
    _staff(k)
    staff = k.app.screen
    k.wait_for(lambda: any(r.ref == task.id for r in staff.ids.tasks.children), what="the task in the list")
    row = _row(staff.ids.tasks, task.id)
    assert row.title == k.t("task.reported_problem", label=label)
    n = staff.n_tasks
    # Defect 7: one tap only asks; "keep it" keeps it, and only the row's own "yes" closes the task.
    k.tap(row)
    assert row.confirming and row.ids.hint.text == k.t("staff.task_confirm_ask")
    k.tap(row.ids.btn_keep)
    assert not row.confirming
    k.frames(5)
    assert task.id in [t.id for t in k.rt.staff.tasks()], "a tap on the row closes nothing"
    k.tap(row)
    k.tap(row.ids.btn_confirm)
    k.wait_for(
        lambda: all(r.ref != task.id for r in staff.ids.tasks.children) and staff.n_tasks == n - 1,
        what="the task to go from the list",
    )
    assert task.id not in [t.id for t in k.rt.staff.tasks()]
    done = next(t for t in k.rt.parts.cabinet.tasks(open_only=False) if t.id == task.id)
    assert done.resolved_at is not None and done.resolved_by == f"staff:{STAFF_BADGE[-4:]}"


def test_badge_and_pin_when_a_staff_pin_is_set(k: Driver, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(k.rt.cfg.kiosk.staff_pin_env, STAFF_PIN)
    # The staff PIN alone (on the start screen's sign-in) is not enough: it is not the technician's.
    k.tap_id("btn_staff")
    pin = k.app.screen
    k.keys(pin.ids.numpad, STAFF_PIN)
    k.tap_id("btn_ok")
    assert k.app.sm.current == "pin" and pin.error == k.t("pin.wrong", n=k.rt.pin_tries_left(), minutes=5)
    # Nor a staff PIN screen reached without a badge.
    k.app.go("pin", role="staff", badge="")
    k.keys(pin.ids.numpad, STAFF_PIN)
    k.tap_id("btn_ok")
    assert k.app.sm.current == "pin" and pin.error == k.t("pin.badge_first") and not k.app.session.is_staff
    k.go_start()
    # The badge, then the PIN.
    badge(k, STAFF_BADGE)
    k.wait_for(lambda: k.app.sm.current == "pin", what="the PIN screen after the badge")
    assert pin.role == "staff" and pin.badge == STAFF_BADGE and not k.app.session.is_staff
    assert pin.ids.numpad.parent is not None
    shot(k, "pin_staff")
    k.keys(pin.ids.numpad, TECH_PIN)
    k.tap_id("btn_ok")
    wrong = k.t("pin.wrong", n=k.rt.pin_tries_left(), minutes=5)
    assert k.app.sm.current == "pin" and pin.error == wrong, "the technician's PIN is not the staff PIN"
    k.keys(pin.ids.numpad, STAFF_PIN)
    k.tap_id("btn_ok")
    assert (
        k.app.sm.current == "staff"
        and k.app.session.role == "staff"
        and k.app.session.staff_id == STAFF_BADGE
    )
    k.tap_id("btn_exit")
    assert k.app.sm.current == "start" and not k.app.session.is_staff


def test_badge_alone_when_no_staff_pin_is_set(k: Driver, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(k.rt.cfg.kiosk.staff_pin_env, raising=False)
    badge(k, STAFF_BADGE.lower())  # readers report the UID in either case
    k.wait_for(lambda: k.app.sm.current == "staff", what="staff mode on the badge alone")
    assert k.app.session.staff_id == STAFF_BADGE.lower()


def test_demo_staff_badge_button_on_a_simulated_reader(k: Driver, monkeypatch: pytest.MonkeyPatch) -> None:
    """With a simulated reader, the PIN screen offers the configured staff badge, so the demo reaches staff mode."""
    monkeypatch.delenv(k.rt.cfg.kiosk.staff_pin_env, raising=False)
    k.tap_id("btn_staff")
    assert k.app.sm.current == "pin"
    k.tap_id("btn_sim_badge")
    k.wait_for(lambda: k.app.sm.current == "staff", what="staff mode from the simulated badge")
    assert k.app.session.role == "staff" and k.app.session.staff_id == STAFF_BADGE
