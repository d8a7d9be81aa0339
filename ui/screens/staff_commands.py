"""Staff: door commands sent from the hall console to this kiosk, waiting for someone here to confirm them.

The console cannot open a door by itself (issue 14): a take-back or an inspection it asks for is listed here, and
runs only when a staff member signed in at this kiosk taps it and confirms. A take-back then follows the door like
any staff collection (the door screen); an inspection opens the door and says so. The list comes from the
runtime's :class:`hallkiosk.console_link.ConsoleLink`, refreshed while this screen is shown.
"""

from __future__ import annotations

import logging
from typing import Any

from kivy.app import App
from kivy.clock import Clock
from kivy.properties import BooleanProperty, ObjectProperty, StringProperty

from ui.screens import KioskScreen
from ui.widgets import KButton, ListRow

log = logging.getLogger(__name__)
REFRESH_S = 1.0


class StaffCommandsScreen(KioskScreen):
    screen_name = "staff_commands"
    card_removal = "keep"
    empty = BooleanProperty(True)
    chosen = ObjectProperty(None, allownone=True)  # the command tapped, waiting for "confirm"
    info = StringProperty("")
    _ev: Any = None
    _shown: tuple[int, ...] = ()

    def on_kv_post(self, _base: Any) -> None:
        self.app.bind(lang=lambda *_: self._show(force=True))

    def on_enter(self, *_: Any) -> None:
        self._ev = Clock.schedule_interval(lambda _dt: self._show(), REFRESH_S)

    def on_leave(self, *_: Any) -> None:
        if self._ev is not None:
            self._ev.cancel()
            self._ev = None

    def refresh(self) -> None:
        self.chosen = None
        self.info = ""
        self.app.call(self.app.rt.parts.console_link.poll, on_done=lambda _v: self._show(force=True))

    def _show(self, force: bool = False) -> None:
        waiting = list(self.app.rt.parts.console_link.waiting)
        ids = tuple(c.id for c in waiting)
        if ids == self._shown and not force:
            return
        self._shown = ids
        if self.chosen is not None and self.chosen.id not in ids:
            self.chosen = None  # it expired or another kiosk screen took it
        box = self.ids.rows
        box.clear_widgets()
        self.empty = not waiting
        t = self.app.t
        for c in waiting:
            row = ListRow(
                title=t("commands.row", label=c.label, kind=t(f"commands.kind.{c.kind}")),
                detail=t(
                    "commands.detail",
                    reason=t(f"commands.reason.{c.reason}"),
                    staff=c.requested_by,
                    until=c.expires_at.astimezone(self.app.rt.cfg.kiosk.tz).strftime("%H:%M"),
                ),
                ref=c,
            )
            row.bind(on_release=self._tapped)
            box.add_widget(row)

    def _tapped(self, row: Any) -> None:
        self.chosen = row.ref
        self.info = ""

    def cancel(self) -> None:
        self.chosen = None

    def confirm(self) -> None:
        """The confirmation at the kiosk: run the chosen command, named in the audit by this staff session."""
        c = self.chosen
        if c is None:
            return
        self.chosen = None
        who = (self.app.session.staff_id or "staff")[-4:]  # as the kiosk's audit names staff: never a name
        log.info("staff confirm door command %s (%s %s)", c.id, c.kind, c.label)
        self.app.call(
            self.app.rt.parts.console_link.confirm, c.id, who, on_done=self._ran, on_error=self._refused
        )

    def _ran(self, ran: Any) -> None:
        self._show(force=True)
        if ran.handle is not None:
            self.app.go("door", handle=ran.handle, purpose="collect")
            return
        state = ran.command.state
        self.info = self.app.t(
            f"commands.{'opened' if state == 'done' else 'failed'}", label=ran.command.label
        )

    def _refused(self, err: BaseException) -> None:
        self.refresh()
        self.app.show_error(err)

    def wipe(self) -> None:
        super().wipe()
        self.chosen = None
        self.info = ""


class ConsoleCommandsButton(KButton):
    """The staff screen's way in (its one-line hook in staff.kv): "Door commands from the console (n)", the count
    kept current from the runtime's ConsoleLink while the button is on screen."""

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self._ev = Clock.schedule_interval(lambda _dt: self._update(), REFRESH_S)
        App.get_running_app().bind(lang=lambda *_: self._update())
        self._update()

    def _update(self) -> None:
        app = App.get_running_app()
        # Only once the core is up: building the link opens the database, which must not happen on this thread
        # before (or after a failed) start-up, where its error would end the kiosk instead of showing its screen.
        rt = app.rt if app is not None else None
        link = rt.parts.console_link if rt is not None and rt.ready and rt.start_error is None else None
        n = len(link.waiting) if link is not None else 0
        self.text = app.t("staff.commands", n=n) if app is not None else ""

    def on_release(self) -> None:
        App.get_running_app().go("staff_commands")
