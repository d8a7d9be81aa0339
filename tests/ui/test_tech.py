"""Technician door tests (issue #7): one door and the walk of all doors, through real taps, the diag API and the simulator."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from kiosk.storage.models import Flow
from tests.ui.conftest import TECH_PIN, shot
from tests.ui.flows import comp_state, open_doors, slot_of
from tests.ui.harness import Driver
from ui import theme


def _tech(k: Driver) -> Any:
    k.tap_id("btn_staff")
    k.keys(k.app.screen.ids.numpad, TECH_PIN)
    k.tap_id("btn_ok")
    assert k.app.sm.current == "tech" and k.app.session.role == "technician"
    k.settle()
    return k.app.screen


def _is_open(k: Driver, label: str) -> bool:
    sim, b, ch = slot_of(k, label)
    return bool(sim.is_open(b, ch))


def _last_flow_id(k: Driver) -> int:
    with k.rt.app.db.transaction() as s:
        return s.execute(select(func.max(Flow.id))).scalar() or 0


def _settled(k: Driver, first_flow: int) -> dict[int, str]:
    """Technician-open flows from ``first_flow`` on that the kiosk has settled: flow id -> outcome."""
    with k.rt.app.db.transaction() as s:
        rows = s.execute(
            select(Flow.id, Flow.outcome).where(
                Flow.id >= first_flow, Flow.kind == "tech_open", Flow.finished_at.is_not(None)
            )
        ).all()
    return {fid: outcome or "" for fid, outcome in rows}


def test_door_test_reports_timings_and_sensor_changes(k: Driver) -> None:
    tech = _tech(k)
    k.tap_id("mode_test")
    assert tech.mode == "test" and tech.ids.mode_test.selected
    k.tap_text("A03", tech.ids.doors)
    k.wait_for(lambda: _is_open(k, "A03"), what="A03 to open for its test")
    assert tech.testing and tech.test_label == "A03" and tech.progress == k.t("tech.testing", label="A03")
    assert tech.ids.doors.disabled and tech.ids.btn_walk.disabled, "no second test while one runs"
    k.wait_for(lambda: "open after" in tech.progress_detail, what="the diagnostics' progress line")
    shot(k, "tech_door_test")
    k.tap_id("btn_sim_close")  # the yellow "Simulator: close the door", as on the door screen
    k.wait_for(lambda: not tech.testing, what="the test to finish")
    assert open_doors(k) == []
    [row] = tech.ids.door_results.children
    res = row.ref
    assert res.label == "A03" and res.status == "OK" and res.flow_id is not None
    assert res.open_ms is not None and res.closed_after_s is not None
    assert [x["closed"] for x in res.transitions] == [True, False, True], "closed, opened, closed again"
    assert row.title == k.t(
        "tech.result.ok",
        status=k.t("plain.status.OK"),
        label="A03",
        open_ms=f"{res.open_ms:.0f}",
        closed_s=f"{res.closed_after_s:.1f}",
    )
    assert row.detail.count("→") == 2 and k.t("tech.door.open") in row.detail
    assert tech.progress == k.t("tech.test_done", label="A03") and not tech.progress_bad
    assert tuple(tech.ids.progress.color) == tuple(theme.OK)
    shot(k, "tech_door_result")


def test_door_test_of_a_jammed_door_shows_the_fault(k: Driver) -> None:
    tech = _tech(k)
    before = comp_state(k, "A01")
    k.tap_text(k.t("sim.door_jam", target="A01"), tech.ids.switches)
    try:
        k.tap_id("mode_test")
        k.tap_text("A01", tech.ids.doors)
        k.wait_for(lambda: not tech.testing and tech.ids.door_results.children, what="the test's verdict")
        [row] = tech.ids.door_results.children
        assert row.ref.status == "FAULT" and row.ref.flow_id is None and row.ref.closed_after_s is None
        assert row.title == k.t(
            "tech.result.not_opened",
            status=k.t("plain.status.FAULT"),
            label="A01",
            open_ms=f"{row.ref.open_ms:.0f}",
        )
        assert row.detail == k.t("tech.plain.not_opened"), "what happened and what to do, in plain words"
        assert "did not open" in row.technical and "faulty" in row.technical, (
            "the finding and the hint: details"
        )
        assert comp_state(k, "A01") == "faulty", "a door that does not open is taken out of service"
        # Defect 7: no green "测试完成" above a fault: the line says the test failed, in red.
        assert tech.progress == k.t("tech.test_fault", label="A01") and tech.progress_bad
        assert tuple(tech.ids.progress.color) == tuple(theme.DANGER)
        # ... and the device status below is read again: it now lists A01 as faulty.
        k.wait_for(
            lambda: any(
                r.ref.id == "lockboards.CAB-01.faulty" and r.ref.status != "OK" and "A01" in r.ref.finding
                for r in tech.ids.checks.children
            ),
            what="the device status to show A01 faulty",
        )
        assert any(t.kind == "door_fault" and t.label == "A01" for t in k.rt.staff.tasks())
    finally:
        k.tap_text(k.t("sim.door_jam", target="A01"), tech.ids.switches)  # unjam
    # Back in service as staff would after the repair, with its task done: the other tests find the cabinet as it was.
    k.rt.parts.cabinet.enable("A01", actor="test")
    for t in k.rt.staff.tasks():
        if t.label == "A01":
            k.rt.parts.cabinet.resolve_task(t.id, actor="test")
    assert comp_state(k, "A01") in (before, "free", "occupied")


def test_walk_all_doors_reports_each_door_as_it_goes(k: Driver) -> None:
    tech = _tech(k)
    states = {c.label: c.state for c in k.rt.parts.cabinet.status()}
    k.tap_id("btn_walk")
    assert tech.testing
    closed_by_hand = []
    while tech.testing:
        # Shut it only once the board has confirmed it open, as a person would: faster, and it never read open.
        k.wait_for(
            lambda: (
                not tech.testing
                or (
                    tech.test_label
                    and _is_open(k, tech.test_label)
                    and tech.progress_detail.startswith(f"{tech.test_label} open after")
                )
            ),
            what="the next door of the walk to open",
        )
        if not tech.testing:
            break
        label: str = tech.test_label
        done = tech.walk_done
        assert tech.progress == k.t("tech.walking", done=done, n=10, label=label)
        k.tap_id("btn_sim_close")
        closed_by_hand.append(label)
        k.wait_for(
            lambda lbl=label: not tech.testing or tech.test_label != lbl,
            what=f"the walk to move on from {label}",
        )
    results = [row.ref for row in reversed(tech.ids.door_results.children)]
    assert [r.label for r in results] == [f"A{i:02d}" for i in range(1, 11)]
    skipped = [r.label for r in results if r.skipped]
    assert skipped == [lbl for lbl, st in states.items() if st in ("occupied", "reserved")], (
        "occupied doors stay shut"
    )
    assert closed_by_hand == [r.label for r in results if not r.skipped]
    assert all(r.status == "OK" and r.closed_after_s is not None for r in results if not r.skipped)
    assert tech.progress == k.t("tech.walk_finished", n=len(closed_by_hand), bad=0, skipped=len(skipped))
    assert open_doors(k) == []
    shot(k, "tech_walk")


def test_a_door_test_on_a_real_cabinet_asks_first(k: Driver, monkeypatch: Any) -> None:
    tech = _tech(k)
    monkeypatch.setattr(k.rt.tech, "door_test_needs_confirmation", lambda label=None: True)
    k.tap_id("mode_test")
    k.tap_text("A04", tech.ids.doors)
    assert tech.confirm_label == "A04" and not tech.testing and open_doors(k) == []
    k.tap_id("btn_confirm_cancel")
    assert tech.confirm_label == "" and open_doors(k) == []
    k.tap_text("A04", tech.ids.doors)
    k.tap_id("btn_confirm")
    k.wait_for(lambda: _is_open(k, "A04"), what="A04 to open once confirmed")
    k.tap_id("btn_stop")  # the technician stops watching: the door is reported as not closed
    k.wait_for(lambda: not tech.testing, what="the stopped test")
    [row] = tech.ids.door_results.children
    assert row.ref.status == "DEGRADED" and "cancelled" in row.ref.finding
    sim, b, ch = slot_of(k, "A04")
    sim.close_door(b, ch)


def test_exit_to_a_technician_shell_is_audited_then_ends_the_app(k: Driver, monkeypatch: Any) -> None:
    """The real button, tapped; only the app's final stop is intercepted, since this window serves the other tests
    (tests/deploy/test_session.py sees a separate kiosk process end with the exit status)."""
    from kiosk import audit
    from ui.main import TECH_SHELL_EXIT

    stopped: list[int] = []
    monkeypatch.setattr(k.app, "stop", lambda *a: stopped.append(k.app.exit_code))
    _tech(k)
    k.tap_id("btn_shell")
    k.wait_for(lambda: stopped, what="the app to end")
    try:
        assert stopped == [TECH_SHELL_EXIT]
        with k.rt.app.db.transaction() as s:
            last = audit.tail(s, 5)
        rec = next(r for r in reversed(last) if r.action == "technician.exit_to_shell")
        assert rec.actor.startswith("technician") and rec.subject == k.rt.cfg.kiosk.id
    finally:
        k.app.exit_code = 0


def test_open_every_door_asks_first_then_checks_the_sensors(k: Driver) -> None:
    """Issue 10 fault 9: the technician screen's open-all, behind a confirmation; each door a recorded flow."""
    tech = _tech(k)
    labels = [c.label for cab in k.rt.cfg.cabinets for c in cab.compartments]
    k.tap_id("btn_open_all")
    assert tech.confirm_label == "**" and open_doors(k) == []
    assert tech.ids.confirm_text.text == k.t("tech.confirm_open_all")
    k.tap_id("btn_confirm_cancel")
    assert tech.confirm_label == "" and open_doors(k) == []
    first_flow = _last_flow_id(k) + 1
    k.tap_id("btn_open_all")
    k.tap_id("btn_confirm")
    k.wait_for(lambda: sorted(open_doors(k)) == sorted(labels), what="every door to open")
    assert tech.testing and tech.ids.btn_open_all.disabled
    # Shut them only once the board has been read after the unlock-all, as a person takes longer than one poll
    # interval (150 ms): shut at once, the doors were closed before the kiosk ever read them open, and the board
    # rightly said "not opened" (what made this test fail after other tests, when its frames came faster).
    k.wait_for(lambda: len(_settled(k, first_flow)) == len(labels), what="the kiosk to read the doors open")
    assert set(_settled(k, first_flow).values()) == {"opened"}, _settled(k, first_flow)
    for label in labels:  # the technician shuts each door
        sim, b, ch = slot_of(k, label)
        sim.close_door(b, ch)
    k.wait_for(lambda: not tech.testing, timeout=20, what="the sensors to be compared")
    assert tech.info == k.t("tech.opened_all", n=len(labels), bad=0, mismatches=0, still="-"), tech.info
    shot(k, "tech_open_all")
    with k.rt.app.db.transaction() as s:
        n = s.execute(
            select(func.count()).select_from(Flow).where(Flow.kind == "tech_open", Flow.outcome == "opened")
        ).scalar_one()
    assert n >= len(labels)
