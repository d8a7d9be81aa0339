"""The running kiosk (the runtime's own background loop, not `kiosk diag`) raises one `disk_space_low` staff task
and reports the storage DEGRADED in its heartbeat while free disk is below the threshold, and resolves the task
when space is back. The threshold is moved instead of filling this machine's disk: the free space measured is
real, only the line it is compared with moves."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable

import pytest

from hallkiosk import diag
from hallkiosk.disk_watch import TASK_KIND, is_low
from hallkiosk.runtime import Runtime
from kiosk.config import Config

pytestmark = pytest.mark.slow


def _wait(cond: Callable[[], object], what: str, timeout: float = 30) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return
        time.sleep(0.2)
    pytest.fail(f"timed out waiting for {what}")


def test_low_disk_raises_a_task_and_degrades_the_heartbeat(
    cfg: Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    normal = diag.HEARTBEAT_OPTIONS
    monkeypatch.setattr(diag, "HEARTBEAT_OPTIONS", dataclasses.replace(normal, disk_degraded_bytes=2**62))
    rt = Runtime(cfg)
    rt.start()
    try:
        assert rt.wait_ready(60) and rt.start_error is None

        def tasks() -> list[object]:
            return [t for t in rt.staff.tasks() if t.kind == TASK_KIND]

        _wait(lambda: tasks(), "the disk_space_low task")
        [task] = tasks()
        assert "free disk low" in task.detail
        time.sleep(cfg.console.status_interval_s + 1)
        assert len(tasks()) == 1, "one task while it stays low, not one per round"

        assert rt.beat()
        seen = rt.app.platform.sim.backoffice.heartbeats[cfg.kiosk.id]["devices"]
        assert any(
            name == "storage" and state == "DEGRADED" and "disk space low" in (detail or "")
            for name, state, detail in seen
        ), seen

        monkeypatch.setattr(diag, "HEARTBEAT_OPTIONS", normal)
        _wait(lambda: not tasks(), "the task to be resolved once space is back")
        assert rt.beat()
        seen = rt.app.platform.sim.backoffice.heartbeats[cfg.kiosk.id]["devices"]
        assert not any(name == "storage" and state != "OK" for name, state, _ in seen), seen
    finally:
        rt.stop()


def test_threshold_rule_matches_the_diagnostics() -> None:
    opts = diag.HEARTBEAT_OPTIONS
    assert is_low(opts.disk_degraded_bytes - 1, 10**15, opts)
    assert is_low(10**12, 10**15, opts)  # 0.1 % free: the share rule
    assert not is_low(10**12, 2 * 10**12, opts)
