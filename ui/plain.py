"""Staff and technician texts in plain words, with the technical part kept apart for the "details" toggle.

Kivy-free. The core writes task details and diagnostics in English for logs and support (``accepted=false``,
``[outbox 4]``, ``OpenNotDetected``); a staff member on the Chinese screen should read what happened and what to
do in their own language first, and see the technical text only when they ask for it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Translate = Callable[..., str]  # KioskApp.t: (key, **params) -> text in the screen's language


@dataclass(frozen=True)
class Plain:
    title: str  # what it is, in plain words
    explain: str  # what it means / what to do, in plain words ("" when the title says it all)
    technical: str  # the core's own text, shown behind "details" ("" when there is none)


def status_word(t: Translate, status: str) -> str:
    """OK / DEGRADED / FAULT as a word of the screen's language."""
    return t(f"plain.status.{status}")


def task(t: Translate, kind: str, label: str | None, detail: str | None, number: str | None = None) -> Plain:
    """A staff task: its kind's title, its parcel's case or receipt number (what staff look up or phone about),
    what to do about it, and the core's detail behind the toggle."""
    todo = t(f"task.do.{kind}")
    return Plain(
        title=t(f"task.{kind}", label=label or "").strip(),
        explain=t("plain.task_number", number=number, todo=todo) if number else todo,
        technical=(detail or "").strip(),
    )


def check(t: Translate, c: Any) -> Plain:
    """A diagnostics check (kiosk.diag_model.Check): the device and its state in words; the finding as details."""
    title = t("plain.check", area=t(f"plain.area.{c.area}"), status=status_word(t, c.status))
    explain = "" if c.status == "OK" else t(f"plain.check_do.{c.area}")
    technical = " ".join(x for x in (f"{c.title}:", c.finding, c.hint) if x).strip()
    return Plain(title=title, explain=explain, technical=technical)


def door_test(t: Translate, res: Any, transition: Callable[[dict[str, Any]], str]) -> Plain:
    """A door test's result (hallkiosk.diag DoorTestResult); ``transition`` words one sensor change."""
    technical = " ".join(x for x in (res.finding, res.hint) if x).strip()
    if res.skipped:
        return Plain(t("tech.result.skipped", label=res.label), t("tech.plain.skipped"), technical)
    status = status_word(t, res.status)
    if res.closed_after_s is not None:
        title = t(
            "tech.result.ok",
            status=status,
            label=res.label,
            open_ms=f"{res.open_ms:.0f}",
            closed_s=f"{res.closed_after_s:.1f}",
        )
        return Plain(title, "  →  ".join(transition(x) for x in res.transitions), technical)
    key = "not_opened" if res.flow_id is None else "not_closed"
    title = t(f"tech.result.{key}", status=status, label=res.label, open_ms=f"{res.open_ms or 0:.0f}")
    return Plain(title, t(f"tech.plain.{key}"), technical)
