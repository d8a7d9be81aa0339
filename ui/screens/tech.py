"""Technician mode: open or test any door, walk all doors, the simulators' fault switches, device status, diagnostics."""

from __future__ import annotations

import threading
from typing import Any

from kivy.properties import BooleanProperty, NumericProperty, StringProperty

from kiosk.cabinet.labels import name_for, shown
from ui import plain
from ui.plain_row import PlainRow
from ui.screens import KioskScreen
from ui.widgets import ChoiceButton, KButton

WALK = "*"  # confirm_label of a pending walk (a door label otherwise)
OPEN_ALL = "**"  # confirm_label of a pending open-all (always asked: every door of the cabinet opens)


class TechScreen(KioskScreen):
    screen_name = "tech"
    info = StringProperty("")
    summary = StringProperty("")
    mode = StringProperty("open")  # what tapping a door does: open / test
    testing = BooleanProperty(False)  # a door test or a walk is running
    test_label = StringProperty("")  # the door being tested now (the simulator's "close the door" shuts it)
    progress = StringProperty("")  # what the test is doing, in the screen's language
    progress_bad = BooleanProperty(False)  # the finished test or walk found a door not OK (the text is red)
    progress_detail = StringProperty("")  # the diagnostics' own last line (technical, English)
    show_progress_detail = BooleanProperty(False)  # that line shown (the "details" toggle)
    confirm_label = StringProperty("")  # a test on a real cabinet waiting for "confirm" (WALK for the walk)
    can_simulate = BooleanProperty(False)
    walk_done = NumericProperty(0)

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self._cancel: threading.Event | None = None
        self._walk_labels: list[str] = []
        self._results: list[Any] = []

    def on_kv_post(self, _base: Any) -> None:
        # The switches' names are texts of the current language: a language change redraws them.
        self.app.bind(lang=lambda *_: self._fill_switches() if self.ids.switches.children else None)

    def refresh(self) -> None:
        self.info = ""
        self.can_simulate = any(self.app.rt.sims.door_sim(c.id) is not None for c in self.app.cfg.cabinets)
        self._fill_doors()
        self._fill_switches()
        self.app.call(self.app.rt.tech.device_status, on_done=self._show_checks)

    def _fill_doors(self) -> None:
        box = self.ids.doors
        box.clear_widgets()
        cabs = [cab.id for cab in self.app.cfg.cabinets]
        for cab in self.app.cfg.cabinets:
            for c in cab.compartments:
                # Two cabinets may both have an A01 (kiosk.cabinet.labels): the button names its cabinet then.
                name = name_for(cab.id, c.label, cabs)
                btn = KButton(text=shown(cab.id, c.label, cabs))
                btn.bind(on_release=lambda b, n=name: self.door_tapped(n))
                box.add_widget(btn)

    def _fill_switches(self) -> None:
        box = self.ids.switches
        box.clear_widgets()
        for sw in self.app.rt.sims.switches():
            btn = ChoiceButton(
                text=self.app.t(f"sim.{sw.key}", target=sw.target), value=sw.key, selected=sw.on
            )
            btn.bind(on_release=lambda b, sw=sw: self.flip(sw))
            box.add_widget(btn)

    def _show_checks(self, checks: list[Any]) -> None:
        box = self.ids.checks
        box.clear_widgets()
        bad = 0
        for c in checks:
            bad += c.status != "OK"
            box.add_widget(PlainRow.of(plain.check(self.app.t, c), ref=c))
        self.summary = self.app.t("tech.summary", n=len(checks), bad=bad)

    def exit_to_shell(self) -> None:
        """Leave the kiosk for a technician shell: audited first, then the app ends with TECH_SHELL_EXIT (the kiosk
        session's script opens a terminal on it; run by hand, the kiosk just quits)."""
        self.app.call(
            self.app.rt.tech.exit_to_shell, self._actor(), on_done=lambda _r: self.app.quit_to_shell()
        )

    def run_diagnostics(self) -> None:
        self.app.call(self.app.rt.tech.diagnostics, on_done=self._show_checks)

    # --- doors: open, or test ---------------------------------------------------------
    def set_mode(self, mode: str) -> None:
        self.mode = mode
        self.confirm_label = ""

    def door_tapped(self, label: str) -> None:
        if self.mode == "test":
            self.ask_test(label)
        else:
            self.open_door(label)

    def open_door(self, label: str) -> None:
        self.app.call(
            self.app.rt.tech.open,
            label,
            self._actor(),
            on_done=lambda _r: setattr(self, "info", self.app.t("tech.opened", label=label)),
        )

    def ask_test(self, label: str) -> None:
        """Test one door; on a real cabinet the door opens only after "confirm" (the simulators need none)."""
        if self.app.rt.tech.door_test_needs_confirmation(label):
            self.confirm_label = label
        else:
            self.test_door(label)

    def ask_walk(self) -> None:
        if self.app.rt.tech.door_test_needs_confirmation():
            self.confirm_label = WALK
        else:
            self.walk(confirmed=False)

    def ask_open_all(self) -> None:
        self.confirm_label = OPEN_ALL

    def open_all(self) -> None:
        """Every door of every board opens (refused while a flow is open); once all are shut, the item sensors
        are compared with the records (one staff task per mismatch). The wait runs off the UI thread."""
        self.info, self.testing = self.app.t("tech.opening_all"), True
        self.app.call(
            self.app.rt.tech.open_all,
            self._actor(),
            busy=False,
            on_done=self._opened_all,
            on_error=self._failed,
        )

    def _opened_all(self, r: Any) -> None:
        self.testing = False
        self.info = self.app.t(
            "tech.opened_all",
            n=r.opened,
            bad=r.not_opened,
            mismatches=r.mismatches,
            still=", ".join(r.still_open) or "-",
        )

    def confirm(self) -> None:
        label, self.confirm_label = self.confirm_label, ""
        if label == OPEN_ALL:
            self.open_all()
        elif label == WALK:
            self.walk(confirmed=True)
        elif label:
            self.test_door(label, confirmed=True)

    def test_door(self, label: str, *, confirmed: bool = False) -> None:
        self._begin([label])
        self.progress = self.app.t("tech.testing", label=label)
        self.app.call(
            self.app.rt.tech.door_test,
            label,
            self._actor(),
            confirmed=confirmed,
            cancel=self._cancel,
            on_progress=self._on_progress,
            busy=False,
            on_done=self._one_done,
            on_error=self._failed,
        )

    def walk(self, *, confirmed: bool) -> None:
        labels = [c.label for cab in self.app.cfg.cabinets for c in cab.compartments]
        self._begin(labels)
        self._update_walk()
        self.app.call(
            self.app.rt.tech.walk_doors,
            self._actor(),
            confirmed=confirmed,
            cancel=self._cancel,
            on_progress=self._on_progress,
            on_result=self._walk_result,
            busy=False,
            on_done=self._walk_finished,
            on_error=self._failed,
        )

    def _begin(self, labels: list[str]) -> None:
        self.info = self.error = self.confirm_label = self.progress_detail = ""
        self.progress_bad = False
        self.ids.door_results.clear_widgets()
        self._results = []
        self._walk_labels = labels
        self.test_label = labels[0] if labels else ""
        self.walk_done = 0
        self._cancel = threading.Event()
        self.testing = True

    def _on_progress(self, line: str) -> None:
        if self.testing:
            self.progress_detail = line.strip()

    def _walk_result(self, res: Any) -> None:
        if not self.testing:
            return
        self._add_result(res)
        self.walk_done = len(self._results)
        rest = self._walk_labels[self.walk_done :]
        self.test_label = rest[0] if rest else ""
        self._update_walk()

    def _update_walk(self) -> None:
        self.progress = self.app.t(
            "tech.walking", done=self.walk_done, n=len(self._walk_labels), label=self.test_label or "-"
        )

    def _one_done(self, res: Any) -> None:
        self._add_result(res)
        ok = res.status == "OK"
        self._end(self.app.t("tech.test_done" if ok else "tech.test_fault", label=res.label), bad=not ok)

    def _walk_finished(self, results: list[Any]) -> None:
        tested = [r for r in results if not r.skipped]
        bad = sum(r.status != "OK" for r in tested)
        self._end(
            self.app.t("tech.walk_finished", n=len(tested), bad=bad, skipped=len(results) - len(tested)),
            bad=bad > 0,
        )

    def _failed(self, err: BaseException) -> None:
        self._end("")
        self.app.show_error(err)

    def _end(self, text: str, *, bad: bool = False) -> None:
        self.testing = False
        self.test_label = ""
        self.progress = text
        self.progress_bad = bad
        self._cancel = None
        self._fill_switches()  # a jammed door's test may have changed what the switches show
        # A test can take a door out of service (faulty): the device status below says so at once.
        self.app.call(self.app.rt.tech.device_status, busy=False, on_done=self._show_checks)

    def stop_test(self) -> None:
        if self._cancel is not None:
            self._cancel.set()

    def sim_close(self) -> None:
        if self.test_label:
            self.app.rt.sims.close_door_of(self.test_label)

    def _add_result(self, res: Any) -> None:
        self._results.append(res)
        self.ids.door_results.add_widget(
            PlainRow.of(plain.door_test(self.app.t, res, self._transition), ref=res)
        )

    def _transition(self, x: dict[str, Any]) -> str:
        t = self.app.t
        item = {True: "present", False: "empty", None: "na"}[x.get("item_present")]
        door = {True: "closed", False: "open", None: "na"}[x.get("closed")]
        return t(
            "tech.sensor", t_s=f"{x['t_s']:.2f}", door=t(f"tech.door.{door}"), item=t(f"tech.item.{item}")
        )

    def _actor(self) -> str:
        return self.app.session.staff_id or "technician"

    # --- simulators ------------------------------------------------------------------
    def flip(self, sw: Any) -> None:
        self.app.rt.sims.flip(sw.key)
        self._fill_switches()

    def wipe(self) -> None:
        super().wipe()
        self.stop_test()  # a test must not go on watching a door for a session that has ended
        for box in ("checks", "doors", "switches", "door_results"):
            self.ids[box].clear_widgets()
        self.info = self.summary = self.progress = self.progress_detail = self.confirm_label = (
            self.test_label
        ) = ""
        self.testing = self.show_progress_detail = self.progress_bad = False
        self.mode = "open"
        self._results = []
