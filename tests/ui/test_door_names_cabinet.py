"""With more than one cabinet the door screen names the cabinet (issue 11, item 4): two cabinets may both have an
A01, so "door A01 is open" alone could send the citizen to the wrong one. A real pickup through the real window.

The kiosk of the UI session drives one cabinet; here its screens are shown a configuration with a second one
(CAB-02, the same doors), which is all the door screen reads to decide how to name a door."""

from __future__ import annotations

import pytest

from tests.ui.flows import deposit_ready, open_doors, slot_of
from tests.ui.harness import Driver


def test_the_door_screen_names_the_cabinet_when_there_are_two(
    k: Driver, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, label = deposit_ready(k)
    (cab,) = k.app.cfg.cabinets
    two = k.app.cfg.model_copy(update={"cabinets": [cab, cab.model_copy(update={"id": "CAB-02"})]})
    monkeypatch.setattr(k.app, "cfg", two)

    k.tap_id("btn_pickup")
    k.keys(k.app.screen.ids.numpad, code)
    k.tap_id("btn_open")
    k.wait_for(lambda: k.app.sm.current == "door", what="the door screen")
    assert open_doors(k) == [label]
    door = k.app.screen
    named = f"{cab.id} {label}"
    assert door.label == named and door.ids.cabinet.highlight == label  # the picture still marks the door
    assert named in door.ids.door_title.text
    assert any(named in line for line in door.spoken())
    sim, b, ch = slot_of(k, label)
    sim.take_item(b, ch)
    sim.close_door(b, ch)
    k.wait_for(lambda: door.closed, what="the door to read closed")
    k.tap_id("btn_next")
    assert k.app.sm.current == "rate"
    k.tap_id("btn_skip")


def test_one_cabinet_shows_the_label_alone(k: Driver) -> None:
    code, label = deposit_ready(k)
    k.tap_id("btn_pickup")
    k.keys(k.app.screen.ids.numpad, code)
    k.tap_id("btn_open")
    k.wait_for(lambda: k.app.sm.current == "door", what="the door screen")
    door = k.app.screen
    assert door.label == label and k.app.cfg.cabinets[0].id not in door.ids.door_title.text
    sim, b, ch = slot_of(k, label)
    sim.take_item(b, ch)
    sim.close_door(b, ch)
    k.wait_for(lambda: door.closed, what="the door to read closed")
    k.tap_id("btn_next")
    k.tap_id("btn_skip")
