"""The running kiosk watches its free disk: one staff task (kind ``disk_space_low``) while space is low, resolved
by the kiosk itself once space is back. The heartbeat's device list says DEGRADED meanwhile (the passive
``storage.disk`` check it runs); both read the thresholds from the same diagnostics options.

A kiosk whose disk fills up stops writing its database and the audit: staff must hear of it before that, not
only a technician who happens to run ``kiosk diag``."""

from __future__ import annotations

import logging
import shutil
from typing import TYPE_CHECKING

from sqlalchemy import select

from kiosk.audit import append as audit_append
from kiosk.cabinet.store import add_task
from kiosk.storage.models import StaffTask

if TYPE_CHECKING:
    from hallkiosk.diag.runner import Options
    from hallkiosk.wiring import App

log = logging.getLogger(__name__)
TASK_KIND = "disk_space_low"


def is_low(free: int, total: int, opts: Options) -> bool:
    """The storage.disk check's DEGRADED rule (below the bytes, or below the share free)."""
    return free < opts.disk_degraded_bytes or (total > 0 and free / total < opts.disk_degraded_ratio)


def watch_disk(app: App, opts: Options) -> bool | None:
    """Raise or resolve the task for the data directory's disk; True while low, None when it cannot be read."""
    path = app.cfg.data_dir
    try:
        usage = shutil.disk_usage(path)
    except OSError as err:
        log.warning("free disk of %s not readable: %s", path, err.strerror)
        return None
    low = is_low(usage.free, usage.total, opts)
    with app.db.transaction() as s:
        task = s.execute(
            select(StaffTask)
            .where(StaffTask.kind == TASK_KIND, StaffTask.resolved_at.is_(None))
            .order_by(StaffTask.id)
            .limit(1)
        ).scalar_one_or_none()
        now = app.clock.now()
        if low and task is None:
            free_mib = usage.free // 2**20
            add_task(
                s,
                now,
                TASK_KIND,
                f"free disk low: {free_mib} MiB free of {usage.total // 2**20} MiB in {path}; "
                "delete old backups or logs there, or call the technician",
            )
            log.warning("free disk low in %s: %d MiB: staff task raised", path, free_mib)
        elif not low and task is not None:
            task.resolved_at = now
            task.resolved_by = "kiosk"
            task.detail = f"{task.detail} [space back: {usage.free // 2**20} MiB free]"
            audit_append(
                s,
                now,
                "kiosk",
                "cabinet.task_resolved",
                f"task {task.id}",
                kind=TASK_KIND,
                note="disk space back",
            )
            log.info("free disk back in %s: task %d resolved", path, task.id)
    return low
