"""One case from 我的办件: status, why refused or what is missing, the next step, where the result is, 去取件.

Shown from what the platform answered a moment ago (never cached: :mod:`kiosk.case_details`); "去取件" only when
the result waits in this kiosk's own cabinet, and it opens the door for the card already on the reader.
"""

from __future__ import annotations

from typing import Any

from kivy.properties import BooleanProperty, ObjectProperty, StringProperty

from ui.screens import KioskScreen
from ui.screens.cases import matter_names
from ui.widgets import KLabel


class CaseScreen(KioskScreen):
    screen_name = "case"
    detail = ObjectProperty(None, allownone=True)  # kiosk.case_details.CaseDetail
    matter_title = StringProperty("")
    can_pick_up = BooleanProperty(False)

    def on_kv_post(self, _base: Any) -> None:
        self.app.bind(lang=lambda *_: self.refresh())

    def refresh(self) -> None:
        box = self.ids.lines
        box.clear_widgets()
        d: Any = self.detail
        self.can_pick_up = bool(d is not None and d.can_pick_up_here)
        if d is None:
            return
        t, c = self.app.t, d.case
        self.matter_title = matter_names(self.app).get(c.matter_code, c.matter_name)
        lines = [
            t("case.number", number=c.case_number),
            t("case.status", status=t(d.status_key)),
            t("case.updated", date=c.updated_at.astimezone(self.app.cfg.kiosk.tz).strftime("%Y-%m-%d %H:%M")),
        ]
        if c.reason:
            lines.append(
                t("case.missing" if c.status == "NEED_MORE_MATERIAL" else "case.reason", reason=c.reason)
            )
        if c.next_step:
            lines.append(t("case.next_step", step=c.next_step))
        if c.status in ("APPROVED", "READY_FOR_PICKUP", "PICKED_UP") or d.where in ("cabinet_here", "mailed"):
            lines.append(t(d.where_key, **d.where_params))
        for text in lines:
            box.add_widget(KLabel(text=text))

    def go_pickup(self) -> None:
        ident = self.app.session.identity
        if not self.can_pick_up or ident is None:
            return
        self.app.call(
            self.app.rt.citizen.pickup_by_identity,
            ident,
            on_done=lambda handle: self.app.go("door", handle=handle, purpose="pickup"),
        )

    def wipe(self) -> None:
        super().wipe()
        self.ids.lines.clear_widgets()
        self.detail = None
        self.matter_title = ""
        self.can_pick_up = False
