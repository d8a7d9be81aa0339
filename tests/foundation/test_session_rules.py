"""The card-event session rules (kiosk/session.py), as tables: routing, a new identity, a removed card, the pause."""

from __future__ import annotations

import pytest

from kiosk.identity import Identity
from kiosk.session import (
    CARD_RETURN_S,
    CardAwayPause,
    OnIdentified,
    on_identified,
    on_pad,
    on_removed,
    route_card_event,
    same_card,
)

A = "110105195801011232"
B = "110105199001011234"


def _id(number: str = A, kind: str = "resident_id") -> Identity:
    return Identity(number, "张三", kind)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kind", "reader", "has_identity", "stale", "identified", "is_staff", "expected"),
    [
        ("identified", "pad", True, False, False, False, "identified"),
        ("identified", "pad", True, True, False, False, "stale"),  # the previous session's card, read again
        (
            "identified",
            "pad",
            True,
            True,
            True,
            False,
            "identified",
        ),  # stale only before anyone is identified
        ("identified", "pad", True, False, False, True, "staff_mode"),
        ("identified", "pad", False, False, False, False, "screen"),  # no identity: nothing to identify
        ("badge", "pad", False, False, False, False, "badge"),
        ("badge", "pad", False, False, True, True, "badge"),
        ("removed", "pad", False, False, True, False, "removed"),  # the session's own card
        ("removed", "slot", False, False, True, False, "screen"),  # another reader's card
        ("removed", "pad", False, False, False, False, "screen"),  # nobody identified
        ("inserted", "pad", False, False, False, False, "screen"),
    ],
)
def test_route_card_event(
    kind: str, reader: str, has_identity: bool, stale: bool, identified: bool, is_staff: bool, expected: str
) -> None:
    assert (
        route_card_event(
            kind,
            reader,
            has_identity=has_identity,
            stale=stale,
            identified=identified,
            is_staff=is_staff,
            session_reader="pad",
        )
        == expected
    )


@pytest.mark.parametrize(
    ("same", "had", "holds", "away", "expected"),
    [
        (False, False, False, False, OnIdentified()),  # the first card of a session
        (True, True, False, False, OnIdentified(keep_old=True)),  # the same card read again
        (False, True, False, False, OnIdentified(reset=True)),  # another person
        (False, True, True, False, OnIdentified(refuse=True)),  # another card while a door is open
        (False, True, True, True, OnIdentified(refuse=True)),
        (True, True, True, False, OnIdentified(keep_old=True)),  # the same person at an open door
        (True, True, False, True, OnIdentified(resume=True, keep_old=True)),  # the lifted card came back
        (False, True, False, True, OnIdentified(reset=True)),  # another card after the card was lifted
    ],
)
def test_on_identified(same: bool, had: bool, holds: bool, away: bool, expected: OnIdentified) -> None:
    assert on_identified(same=same, had_identity=had, holds_session=holds, card_away=away) == expected


@pytest.mark.parametrize(
    ("has", "away", "holds", "policy", "pad", "expected"),
    [
        (False, False, False, "ask", True, "nothing"),
        (True, True, False, "ask", True, "nothing"),  # already waiting for it
        (True, False, True, "end", False, "wipe_keep_screen"),  # a door is open for them
        (True, False, False, "keep", True, "wipe_keep_screen"),  # the outcome is on show
        (True, False, False, "keep", False, "end"),  # a slot card pulled out: deliberate
        (True, False, False, "ask", True, "ask_back"),
        (True, False, False, "ask", False, "end"),
        (True, False, False, "end", True, "end"),
    ],
)
def test_on_removed(has: bool, away: bool, holds: bool, policy: str, pad: bool, expected: str) -> None:
    assert (
        on_removed(
            has_identity=has,
            card_away=away,
            holds_session=holds,
            policy=policy,  # type: ignore[arg-type]
            pad=pad,
        )
        == expected
    )


def test_same_card_and_on_pad() -> None:
    assert same_card(_id(A), _id(A))
    assert not same_card(_id(A), _id(B))
    assert not same_card(None, _id(A)) and not same_card(_id(A), None)
    wiped = _id(A)
    wiped.wipe()
    assert not same_card(wiped, _id(A))
    assert on_pad(_id(kind="resident_id")) and not on_pad(_id(kind="social_security"))


def test_card_away_pause_counts_down_and_expires() -> None:
    p = CardAwayPause()
    assert not p.active and not p.expired(1e9)
    p.begin(_id(), 100.0)
    assert p.active and p.seconds_left(100.0) == CARD_RETURN_S
    assert p.seconds_left(100.0 + 20.5) == CARD_RETURN_S - 20
    assert not p.expired(100.0 + CARD_RETURN_S - 0.1)
    assert p.expired(100.0 + CARD_RETURN_S) and p.seconds_left(1e9) == 0
    p.end()
    assert not p.active and not p.expired(1e9)
