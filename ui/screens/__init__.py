"""The screens: one Screen class and one .kv file each, registered here in the order the tests visit them."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

from kivy.app import App
from kivy.properties import BooleanProperty, StringProperty
from kivy.uix.screenmanager import Screen


class KioskScreen(Screen):
    """Base for every screen: an in-place error line, a refresh on entry, and a wipe at the session's end."""

    screen_name: ClassVar[str] = ""
    # What lifting a card laid on a reader pad (GA 467) does here: "end" at once (nothing typed yet), "ask" with a
    # put-it-back countdown (work in progress), "keep" the screen and forget the identity (an outcome on show).
    card_removal: ClassVar[str] = "ask"
    error = StringProperty("")
    # True while hardware is mid-action for this person (a door open): the inactivity reset would orphan it.
    holds_session = BooleanProperty(False)

    @classmethod
    def kv_path(cls) -> Path:
        # The .kv sits beside the module that defines the class; built from __file__, never from the cwd.
        return Path(sys.modules[cls.__module__].__file__ or "").with_suffix(".kv")

    @property
    def app(self) -> Any:
        return App.get_running_app()

    def on_pre_enter(self, *_: Any) -> None:
        self.error = ""
        self.refresh()

    def refresh(self) -> None:
        """Fill the screen from the session and the core (called each time it is shown)."""

    def spoken(self) -> list[str]:
        """What the voice says when this screen is shown: segments, joined they are the text. Default: the
        catalogue's ``voice.<screen>``, if there is one."""
        key = f"voice.{self.screen_name}"
        return [self.app.t(key)] if self.app.catalogue.has(key) else []

    def wipe(self) -> None:
        """Forget everything this screen shows about a person (the session ended)."""
        self.error = ""


def _screens() -> list[type[KioskScreen]]:
    from ui.screens.bundle_result import BundleResultScreen
    from ui.screens.case import CaseScreen
    from ui.screens.cases import CasesScreen
    from ui.screens.door import DoorScreen
    from ui.screens.dropoff import DropoffScreen
    from ui.screens.form import FormScreen
    from ui.screens.guide import GuideScreen
    from ui.screens.help import HelpScreen
    from ui.screens.hotline import HotlineScreen
    from ui.screens.identify import IdentifyScreen
    from ui.screens.mail import MailScreen
    from ui.screens.matters import MattersScreen
    from ui.screens.pickup import PickupScreen
    from ui.screens.pin import PinScreen
    from ui.screens.rate import RateScreen
    from ui.screens.ratings import RatingsScreen
    from ui.screens.resend import ResendScreen
    from ui.screens.result import ResultScreen
    from ui.screens.review import ReviewScreen
    from ui.screens.staff import StaffScreen
    from ui.screens.staff_collect import StaffCollectScreen
    from ui.screens.staff_commands import StaffCommandsScreen  # issue 14: door commands from the console
    from ui.screens.staff_compartments import StaffCompartmentsScreen
    from ui.screens.staff_deposit import StaffDepositScreen
    from ui.screens.start import StartScreen
    from ui.screens.tech import TechScreen
    from ui.screens.tickets import TicketsScreen

    return [
        StartScreen,
        IdentifyScreen,
        MattersScreen,
        GuideScreen,
        FormScreen,
        MailScreen,
        ReviewScreen,
        ResultScreen,
        BundleResultScreen,
        CasesScreen,
        CaseScreen,
        PickupScreen,
        ResendScreen,
        DoorScreen,
        DropoffScreen,
        RateScreen,
        RatingsScreen,
        HotlineScreen,
        HelpScreen,
        TicketsScreen,
        PinScreen,
        StaffScreen,
        StaffDepositScreen,
        StaffCollectScreen,
        StaffCompartmentsScreen,
        TechScreen,
        StaffCommandsScreen,
    ]


class _Lazy(list):
    """SCREENS imports the screen modules on first use, so importing ui.screens stays cheap and cycle-free."""

    def _load(self) -> None:
        if not super().__len__():
            self.extend(_screens())

    def __iter__(self) -> Iterator[type[KioskScreen]]:
        self._load()
        return super().__iter__()

    def __len__(self) -> int:
        self._load()
        return super().__len__()


SCREENS: list[type[KioskScreen]] = _Lazy()
