"""一件事 receipt: one receipt number at once, then the bundle number and every member's case number.

With the platform down the bundle waits in the outbox: the citizen leaves with the receipt number (and its QR);
while the screen is up it looks again every few seconds, so the case numbers appear as soon as it is filed.
"""

from __future__ import annotations

from typing import Any

from kivy.clock import Clock
from kivy.properties import ObjectProperty, StringProperty

from ui.screens import KioskScreen
from ui.widgets import KLabel

POLL_S = 2.0


class BundleResultScreen(KioskScreen):
    screen_name = "bundle_result"
    card_removal = "keep"  # the receipt stays readable; the card's job is done
    receipt = ObjectProperty(None, allownone=True)  # kiosk.service_requests.ServiceReceipt
    bundle = ObjectProperty(None, allownone=True)  # kiosk.bundles.BundleForm (member names)
    state = StringProperty("")
    number = StringProperty("")
    qr = StringProperty("")
    printed = StringProperty("")

    def on_kv_post(self, _base: Any) -> None:
        self._poll: Any = None
        self.app.bind(lang=lambda *_: self._fill())

    def refresh(self) -> None:
        self._fill()
        if self.receipt is not None and self.receipt.state == "queued" and self._poll is None:
            self._poll = Clock.schedule_interval(self._look_again, POLL_S)

    def _look_again(self, _dt: float) -> None:
        r = self.receipt
        if r is None or r.state != "queued":
            self._stop_poll()
            return
        self.app.call(
            self.app.rt.filing.bundle_receipt,
            r.id,
            busy=False,
            on_done=self._updated,
            on_error=lambda _e: None,
        )

    def _updated(self, receipt: Any) -> None:
        self.receipt = receipt
        self._fill()
        if receipt.state != "queued":
            self._stop_poll()
            self.printed = ""
            self._print()

    def _fill(self) -> None:
        r: Any = self.receipt
        box = self.ids.cases
        box.clear_widgets()
        if r is None:
            return
        from kiosk.bundles import members_of

        self.state = r.state
        self.number = r.receipt_number
        self.qr = f"RECEIPT:{r.receipt_number}"
        cases = members_of(r)
        if cases:
            box.add_widget(KLabel(text=self.app.t("bundle.members_filed", n=len(cases))))
        for c in cases:
            name = self._member_name(str(c.get("matter_code") or ""))
            line = (
                f"{name}：{c.get('case_number')}"
                if self.app.lang == "zh"
                else f"{name}: {c.get('case_number')}"
            )
            box.add_widget(KLabel(text=line, bold=True))
        if r.message and r.state in ("refused", "failed"):
            box.add_widget(KLabel(text=r.message))
        if self.printed == "":
            self._print()

    def _member_name(self, code: str) -> str:
        bf = self.bundle
        for m in bf.members if bf is not None else ():
            if m.code == code:
                return m.name_en if self.app.lang == "en" and m.name_en else m.name
        return code

    def receipt_lines(self) -> list[str]:
        """The printed receipt: both languages, the receipt number and each member's case number."""
        from kiosk.bundles import members_of

        r: Any = self.receipt
        k = self.app.cfg.kiosk
        zh, en = self.app.catalogue.strings["zh"], self.app.catalogue.strings["en"]
        lines = [
            k.hall,
            k.hall_en,
            "-" * 24,
            f"一件事 Bundle: {r.subject_name or ''}",
            f"申请人 Applicant: {r.applicant_id_masked or ''}",
            f"回执 Receipt: {r.receipt_number}",
            zh.get(r.text_key, ""),
            en.get(r.text_key, ""),
        ]
        for c in members_of(r):
            lines.append(f"{c.get('matter_code')}: {c.get('case_number')}")
        return [x for x in lines if x]

    def _print(self) -> None:
        if self.receipt is None:
            return
        if self.app.rt.printer is None:
            self.printed = "no_printer"
            return
        self.printed = "printing"
        self.app.call(
            self.app.rt.citizen.print_receipt,
            self.receipt_lines(),
            self.qr,
            busy=False,
            on_done=lambda _r: setattr(self, "printed", "printed"),
            on_error=lambda _e: setattr(self, "printed", "failed"),
        )

    def _stop_poll(self) -> None:
        if self._poll is not None:
            self._poll.cancel()
            self._poll = None

    def on_leave(self, *_: Any) -> None:
        self._stop_poll()

    def wipe(self) -> None:
        super().wipe()
        self._stop_poll()
        self.receipt = self.bundle = None
        self.state = self.number = self.qr = self.printed = ""
        self.ids.cases.clear_widgets()
