"""Issue 12 defect 5: staff and technician texts in plain words on the Chinese screen; the core's technical text
(``accepted=false``, ``[outbox 4]``, ``OpenNotDetected``, ``[FAULT]``) only behind each row's "details" toggle.
Real window, real taps, tasks in the real database, a jammed door on the shipped lock-board simulator."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Any

import pytest
from kivy.uix.label import Label

from kiosk.cabinet import store
from kiosk.storage.models import Compartment
from tests.ui.conftest import STAFF_BADGE, TECH_PIN
from tests.ui.flows import badge, comp_state
from tests.ui.harness import Driver, walk

# What a staff member should never have to read on the Chinese screen unless they ask for the details.
JARGON = re.compile(r"[A-Za-z_]+=|\[outbox|\b[A-Z][a-z]+[A-Z]\w*|\b(OK|FAULT|DEGRADED)\b|[A-Za-z]{4,}")
SMS_DETAIL = "NotifyApplicant case 2026-0042: the platform took it but sent no SMS: accepted=false [outbox 4]"
DOOR_DETAIL = "A02 did not open: OpenNotDetected after 3 tries; check the lock"


def _visible_texts(root: Any) -> Iterator[str]:
    for w in walk(root):
        if isinstance(w, Label) and w.text.strip():
            yield w.text


def _jargon(root: Any) -> list[str]:
    return [txt for txt in _visible_texts(root) if JARGON.search(txt)]


@pytest.fixture
def tasks(k: Driver) -> Iterator[list[int]]:
    """Two tasks whose core text is jargon: an SMS the platform did not send, a door that did not open."""
    now = dt.datetime.now(dt.UTC)
    with k.rt.app.db.transaction() as s:
        comp = s.query(Compartment).filter_by(label="A02").one()
        ids = [
            store.add_task(s, now, "sms_not_sent", SMS_DETAIL).id,
            store.add_task(s, now, "door_fault", DOOR_DETAIL, compartment_id=comp.id).id,
        ]
    yield ids
    for tid in ids:  # every test leaves the hall as it found it
        if tid in [t.id for t in k.rt.staff.tasks()]:
            k.rt.parts.cabinet.resolve_task(tid, actor="test")


def test_staff_tasks_in_plain_chinese_with_the_details_behind_a_toggle(k: Driver, tasks: list[int]) -> None:
    badge(k, STAFF_BADGE)
    k.wait_for(lambda: k.app.sm.current == "staff", what="staff mode")
    k.app.set_language("zh")
    staff = k.app.screen
    k.wait_for(lambda: {r.ref for r in staff.ids.tasks.children} >= set(tasks), what="the tasks in the list")
    k.settle()
    assert _jargon(staff) == [], "jargon outside the details"
    sms = next(r for r in staff.ids.tasks.children if r.ref == tasks[0])
    assert sms.title == k.t("task.sms_not_sent") and sms.detail == k.t("task.do.sms_not_sent")
    assert "电话" in sms.detail, "what to do, in plain Chinese"
    assert sms.ids.technical.text == "" and sms.ids.technical.height == 0
    k.tap(sms.ids.btn_details)
    assert sms.ids.technical.text == SMS_DETAIL and sms.ids.technical.height > 0
    assert sms.ids.btn_details.text == k.t("plain.hide_details")
    assert tasks[0] in [t.id for t in k.rt.staff.tasks()], "the toggle does not close the task"
    shown = _jargon(staff)
    assert shown == [SMS_DETAIL], shown  # only the toggled detail shows the core's text
    k.tap(sms.ids.btn_details)
    assert sms.ids.technical.text == "" and _jargon(staff) == []
    door = next(r for r in staff.ids.tasks.children if r.ref == tasks[1])
    assert (
        door.title == k.t("task.door_fault", label="A02")
        and "OpenNotDetected" not in door.title + door.detail
    )
    k.app.set_language("en")  # the same rows in plain English
    k.wait_for(
        lambda: any(r.title == "Pickup text message not sent" for r in staff.ids.tasks.children),
        what="the English titles",
    )
    sms = next(r for r in staff.ids.tasks.children if r.ref == tasks[0])
    assert sms.detail == k.t("task.do.sms_not_sent") and "accepted" not in sms.detail
    k.app.set_language("zh")
    k.go_start()


def _tech(k: Driver) -> Any:
    k.tap_id("btn_staff")
    k.keys(k.app.screen.ids.numpad, TECH_PIN)
    k.tap_id("btn_ok")
    assert k.app.sm.current == "tech"
    k.app.set_language("zh")
    k.settle()
    return k.app.screen


def test_technician_diagnostics_in_plain_chinese(k: Driver) -> None:
    before = comp_state(k, "A01")  # an earlier test of the session may have left a parcel in it
    tech = _tech(k)
    k.wait_for(lambda: tech.ids.checks.children, what="the device status")
    k.settle()
    assert _jargon(tech) == [], "jargon outside the details"
    row = tech.ids.checks.children[-1]
    assert row.ref.finding and row.ref.finding not in row.title + row.detail
    k.tap(row.ids.btn_details)
    assert row.ref.finding in row.ids.technical.text
    k.tap(row.ids.btn_details)
    # A jammed door: the verdict in words, the diagnostics' own finding behind the toggle.
    jam = k.t("sim.door_jam", target="A01")
    k.tap_text(jam, tech.ids.switches)
    try:
        k.tap_id("mode_test")
        k.tap_text("A01", tech.ids.doors)
        k.wait_for(lambda: not tech.testing and tech.ids.door_results.children, what="the test's verdict")
        [res] = tech.ids.door_results.children
        assert res.ref.status == "FAULT"
        assert res.title == k.t(
            "tech.result.not_opened",
            status=k.t("plain.status.FAULT"),
            label="A01",
            open_ms=f"{res.ref.open_ms or 0:.0f}",
        )
        assert res.detail == k.t("tech.plain.not_opened")
        k.settle()
        assert _jargon(tech) == [], "jargon outside the details"
        k.tap(res.ids.btn_details)
        assert "did not open" in res.ids.technical.text
    finally:
        k.tap_text(jam, tech.ids.switches)  # unjam
        k.rt.parts.cabinet.enable("A01", actor="test")
        for t in k.rt.staff.tasks():
            if t.label == "A01":
                k.rt.parts.cabinet.resolve_task(t.id, actor="test")
    assert comp_state(k, "A01") == before
    k.go_start()
