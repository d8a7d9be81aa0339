"""Drop off: who you are (the card), which case or matter the materials are for, then a compartment opens."""

from __future__ import annotations

from typing import Any

from kivy.properties import BooleanProperty, ListProperty, ObjectProperty, StringProperty

from kiosk.platform_models import CaseSummary, Matter
from ui.screens import KioskScreen
from ui.widgets import ChoiceButton, ListRow

SIZES = ("S", "M", "L")


class DropoffScreen(KioskScreen):
    screen_name = "dropoff"
    loading = BooleanProperty(False)
    # The row chosen, (kind, case number or matter code, matter name): nothing opens until the citizen has seen
    # the matter and said how much they bring (defect 7 of issue 12).
    choice = ObjectProperty(None, allownone=True)
    door_size = StringProperty("M")  # the compartment size asked for (S, M, L)
    sizes = ListProperty([])  # the compartment sizes this kiosk has

    def refresh(self) -> None:
        self.ids.cases.clear_widgets()
        self.ids.matters.clear_widgets()
        ident = self.app.session.identity
        if ident is None:
            return
        self.loading = True
        self.app.call(self.app.rt.citizen.dropoff_choices, ident, on_done=self._show)

    def _show(self, choices: tuple[list[CaseSummary], tuple[Matter, ...]]) -> None:
        self.loading = False
        cases, matters = choices
        en = self.app.lang == "en"
        for c in cases:
            row = ListRow(
                title=c.matter_name,
                detail=self.app.t("dropoff.case_row", number=c.case_number),
                ref=("case", c.case_number, c.matter_name),
            )
            row.bind(on_release=self._chosen)
            self.ids.cases.add_widget(row)
        for m in matters:
            row = ListRow(
                title=m.name_en if en and m.name_en else m.name, detail="", ref=("matter", m.code, m.name)
            )
            row.bind(on_release=self._chosen)
            self.ids.matters.add_widget(row)

    def _chosen(self, row: Any) -> None:
        """A case or matter tapped: ask to confirm it and the size before any door opens."""
        have = {c.size for cab in self.app.cfg.cabinets for c in cab.compartments}
        self.sizes = [s for s in SIZES if s in have]
        self.door_size = "M" if "M" in self.sizes else (self.sizes[0] if self.sizes else "M")
        self.choice = row.ref
        self._build_sizes()
        self.app.say(
            [self.app.t("dropoff.confirm_matter", name=row.ref[2]), self.app.t("dropoff.confirm_size")]
        )

    def _build_sizes(self) -> None:
        box = self.ids.sizes
        box.clear_widgets()
        for s in self.sizes:
            b = ChoiceButton(text=self.app.t(f"dropoff.size.{s}"), value=s, selected=s == self.door_size)
            b.bind(on_release=lambda w: self.choose_size(w.value))
            box.add_widget(b)

    def choose_size(self, size: str) -> None:
        self.door_size = size
        self._build_sizes()

    def change(self) -> None:
        self.choice = None

    def open_door(self) -> None:
        ident = self.app.session.identity
        if ident is None or self.choice is None:
            return
        kind, ref, name = self.choice
        kw = {"case_number": ref} if kind == "case" else {"matter_code": ref}
        self.app.call(
            self.app.rt.citizen.dropoff,
            ident,
            matter_name=name,
            size=self.door_size,
            on_done=self._opened,
            **kw,
        )

    def _opened(self, handle: object) -> None:
        name = self.choice[2] if self.choice else ""
        self.choice = None
        self.app.go("door", handle=handle, purpose="dropoff", matter=name)

    def wipe(self) -> None:
        super().wipe()
        self.choice = None
        self.ids.sizes.clear_widgets()
        self.ids.cases.clear_widgets()
        self.ids.matters.clear_widgets()
