"""Staff: collect drop-offs, overdue results and parcels needing attention, one door at a time; and, behind
"show all parcels", take back a result still waiting for its owner (after a confirmation with a reason)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from kivy.properties import BooleanProperty, ObjectProperty, StringProperty
from kivy.uix.modalview import ModalView

from kiosk.cabinet.flows import COLLECT_REASONS
from ui.screens import KioskScreen
from ui.widgets import ListRow

log = logging.getLogger(__name__)

# Why a result still waiting for its owner is taken back: the core's reasons (the key goes to the audit log).
TAKE_BACK_REASONS = COLLECT_REASONS


def needs_confirmation(p: Any) -> bool:
    """Taking this parcel out kills a pickup code its owner can still use: only a READY result not yet overdue.

    An overdue code is already refused, a drop-off has no code, and a parcel held for attention refuses its code."""
    return p.kind == "result" and p.state == "ready" and not p.overdue


class TakeBackDialog(ModalView):
    """ "Take back the result in A03?": what happens to the applicant's code, a reason to choose, confirm or cancel."""

    parcel = ObjectProperty(None, allownone=True)
    reason = StringProperty("")

    def __init__(self, parcel: Any, on_confirm: Callable[[Any, str], None], **kw: Any) -> None:
        self._on_confirm = on_confirm
        super().__init__(parcel=parcel, **kw)

    def choose(self, reason: str) -> None:
        self.reason = reason

    def confirm(self) -> None:
        if self.reason:  # the button is off until a reason is chosen; this guards any other way in
            self.dismiss(animation=False)
            self._on_confirm(self.parcel, self.reason)


class AttentionDialog(ModalView):
    """A parcel held for attention: handed over at the desk, put back (ready again), or take it out."""

    parcel = ObjectProperty(None, allownone=True)

    def __init__(self, parcel: Any, on_choice: Callable[[Any, str], None], **kw: Any) -> None:
        self._on_choice = on_choice
        super().__init__(parcel=parcel, **kw)

    def choose(self, action: str) -> None:  # "handover", "putback" or "collect"
        self.dismiss(animation=False)
        self._on_choice(self.parcel, action)


class StaffCollectScreen(KioskScreen):
    screen_name = "staff_collect"
    empty = BooleanProperty(False)
    show_all = BooleanProperty(False)  # also list results still waiting for their owner (not overdue)
    dialog: TakeBackDialog | AttentionDialog | None = None
    _parcels: Sequence[Any] = ()  # the last list shown

    def on_kv_post(self, _base: Any) -> None:
        # The rows' titles are texts of the current language: a language change redraws them.
        self.app.bind(lang=lambda *_: self._show(self._parcels) if self._parcels else None)

    def refresh(self) -> None:
        self.ids.rows.clear_widgets()
        self.app.call(self.app.rt.staff.collectable, self.show_all, on_done=self._show)

    def toggle_all(self) -> None:
        self.show_all = not self.show_all
        self.refresh()

    def _show(self, parcels: Sequence[Any]) -> None:
        box = self.ids.rows
        box.clear_widgets()
        self._parcels = parcels
        self.empty = not parcels
        t = self.app.t
        for p in parcels:
            kind = "ready" if needs_confirmation(p) else "overdue" if p.overdue else p.kind
            title = f"{p.label}  {t(f'collect.kind.{kind}')}"
            detail = t(
                "collect.row",
                case=p.case_number or p.receipt_number or "-",
                matter=p.matter_name or "",
                owner=p.owner_name_masked or "",
            )
            row = ListRow(title=title, detail=detail, ref=p)
            row.bind(on_release=self._tapped)
            box.add_widget(row)

    def _tapped(self, row: Any) -> None:
        p = row.ref
        if needs_confirmation(p) or p.state == "attention":
            self._close_dialog()
            self.dialog = (
                TakeBackDialog(p, self._take_back)
                if needs_confirmation(p)
                else AttentionDialog(p, self._resolve)
            )
            self.dialog.bind(on_dismiss=self._forget_dialog)
            self.dialog.open(animation=False)
        else:
            self._collect(p.id, "")

    def _resolve(self, p: Any, action: str) -> None:
        """A held parcel: resolved at the desk (no door opens), or taken out like any other."""
        if action == "collect":
            self._collect(p.id, "")
            return
        fn = self.app.rt.staff.handover if action == "handover" else self.app.rt.staff.putback
        log.info("staff %s parcel %s", action, p.id)
        self.app.call(
            fn,
            p.id,
            self.app.session.staff_id or "staff",
            on_done=lambda _v: self.refresh(),
            on_error=self._refused,
        )

    def _forget_dialog(self, *_: Any) -> None:
        self.dialog = None

    def _take_back(self, p: Any, reason: str) -> None:
        log.info("staff take back parcel %s (%s)", p.id, reason)
        self._collect(p.id, reason)

    def _collect(self, parcel_id: int, reason: str) -> None:
        # A parcel picked up since the list was drawn is refused by the core: say so and show the list as it is now.
        self.app.call(
            self.app.rt.staff.collect,
            parcel_id,
            self.app.session.staff_id or "staff",
            reason,
            on_done=lambda h: self.app.go("door", handle=h, purpose="collect"),
            on_error=self._refused,
        )

    def _refused(self, err: BaseException) -> None:
        self.refresh()
        self.app.show_error(err)

    def _close_dialog(self) -> None:
        if self.dialog is not None:
            d, self.dialog = self.dialog, None
            d.dismiss(animation=False)

    def wipe(self) -> None:
        super().wipe()
        self._close_dialog()  # a session that timed out must not leave the question over the next person's screen
        self.show_all = False
        self._parcels = ()
        self.ids.rows.clear_widgets()
