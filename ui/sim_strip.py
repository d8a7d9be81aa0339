"""The yellow simulator strip (simulator mode only): the band that says so, two demo ID cards to lay on the
simulated reader, and a simulated phone showing the text message the platform simulator would send.

The demo cards are the platform simulator's own demo applicants (backend_client.sim), so a demo card's cases,
results and pickup codes are that person's: 张三, 60 or older with a phone, and 李四, younger, without one (his
pickup text cannot be delivered, as in life). The pickup code is shown in clear on the simulated phone: it is
the demo's only way to read it, and the strip never shows on real hardware.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from kivy.app import App
from kivy.clock import Clock
from kivy.lang import Builder
from kivy.properties import BooleanProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout

from backend_client.sim import DEMO_APPLICANT, DEMO_APPLICANT_2
from kiosk.identity import birth_date_of
from kiosk.privacy import mask_name, mask_phone

_KV = Path(__file__).with_suffix(".kv")
DEMO_PEOPLE = (DEMO_APPLICANT, DEMO_APPLICANT_2)  # one senior with a phone, one younger without
POLL_S = 0.5  # the card and the phone are read this often (simulator mode only)
_CODE_TEMPLATES = ("PICKUP_READY", "PICKUP_CODE_RESEND")


def age_on(id_number: str, today: dt.date) -> int:
    born = birth_date_of(id_number)
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def person_text(t: Callable[..., str], person: Any, today: dt.date) -> str:
    """A demo card's button: the masked name, the age and whether the platform has a phone for them."""
    key = "sim.demo_card.phone" if person.phone else "sim.demo_card.no_phone"
    return t(key, name=mask_name(person.name), age=age_on(person.id_number, today))


def phone_text(t: Callable[..., str], sent: Sequence[Any]) -> str:
    """The simulated phone's screen: the newest text the platform simulator sent (SentSms), in words."""
    if not sent:
        return t("sim.phone.empty")
    sms = sent[-1]
    if not sms.phone:
        return t("sim.phone.undelivered", case=sms.case_number)
    p = dict(sms.params)
    phone = mask_phone(sms.phone)
    if sms.template in _CODE_TEMPLATES:
        return t(
            "sim.phone.code",
            phone=phone,
            code=p.get("code", ""),
            cabinet=p.get("cabinet", ""),
            expires=p.get("expires", ""),
        )
    if sms.template == "PICKUP_REMINDER":
        return t(
            "sim.phone.reminder", phone=phone, cabinet=p.get("cabinet", ""), expires=p.get("expires", "")
        )
    return t("sim.phone.other", phone=phone, case=sms.case_number)


def _platform_sim(rt: Any) -> Any:
    """The built-in platform simulator, or None (a real platform, start-up not done, or failed: then building
    ``rt.app`` again would raise its error here, on the UI thread, and end the kiosk instead of its error screen)."""
    sims = rt.app.sims if rt.ready and rt.start_error is None else None
    return sims.platform if sims is not None else None


class SimStrip(BoxLayout):
    """The band, then (with a simulated card reader) the demo cards and the simulated phone, at a fixed height."""

    demo = BooleanProperty(False)  # a simulated card reader is there: the demo row shows
    has_card = BooleanProperty(False)
    phone = StringProperty("")

    def on_kv_post(self, _base: Any) -> None:
        Clock.schedule_interval(self._poll, POLL_S)

    def _poll(self, _dt: float = 0) -> None:
        app = App.get_running_app()
        if app is None or not app.simulated_text:
            return
        card = app.rt.sims.card_sim()
        self.demo = card is not None
        self.has_card = bool(card is not None and card.has_card)
        psim = _platform_sim(app.rt)
        self.phone = phone_text(app.t, psim.backoffice.sms if psim is not None else ())

    def person(self, i: int, _lang: str = "") -> str:  # kv passes app.lang so the button follows a change
        app = App.get_running_app()
        return person_text(app.t, DEMO_PEOPLE[i], dt.date.today())

    def lay_card(self, i: int) -> None:
        """Lay demo person i's ID card on the simulated reader (any card there is lifted first)."""
        card = App.get_running_app().rt.sims.card_sim()
        if card is None:
            return
        p = DEMO_PEOPLE[i]
        card.remove_card()
        card.insert_card(name=p.name, id_number=p.id_number)
        self._poll()

    def lift_card(self) -> None:
        card = App.get_running_app().rt.sims.card_sim()
        if card is not None:
            card.remove_card()
        self._poll()


# Loaded with the module, which root.kv imports (#:import) before it builds the strip.
if str(_KV) not in Builder.files:
    Builder.load_file(str(_KV))
