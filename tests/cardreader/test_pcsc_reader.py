"""PcscCardReader through the real pcsc-lite stack (private pcscd + vpcd) with virtual cards."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from drivers.cardreader import apdu as A
from drivers.cardreader.pcsc import PcscCardReader
from drivers.cardreader.vcard import CardFaults, VirtualCard, VirtualSocialSecurityCard, VirtualStaffBadge
from kiosk.errors import CardRemoved, CardUnsupported

from .conftest import READER0, READER1, Events, PrivatePcscd, wait_card_state

pytestmark = pytest.mark.pcsc
DEMO = "110105199001011232"


@pytest.fixture
def reader(pcscd: PrivatePcscd, events: Events) -> Iterator[PcscCardReader]:
    r = PcscCardReader(r"^Virtual PCD 00 00$", label="counter-1", poll_ms=200, retry_s=0.1)
    r.start(events)
    for _ in range(100):
        if r.is_present():
            break
        events.kinds(0.02)
    assert r.is_present(), f"reader not found; events {events.kinds()}"
    yield r
    r.close()


@pytest.fixture
def cards(pcscd: PrivatePcscd) -> Iterator[list[VirtualCard]]:
    """Cards the test inserts; all pulled out afterwards."""
    made: list[VirtualCard] = []
    yield made
    for c in made:
        c.remove()
    if pcscd.proc is not None:
        # The next test must not see this card: wait until pcscd noticed it left.
        wait_card_state(READER0, present=False)
        wait_card_state(READER1, present=False)


def insert(cards: list[VirtualCard], pcscd: PrivatePcscd, card: VirtualCard) -> VirtualCard:
    cards.append(card)
    card.insert(pcscd.port)
    return card


def test_social_security_card_identified_then_removed(pcscd, reader, events, cards) -> None:
    card = insert(cards, pcscd, VirtualSocialSecurityCard("李小明", DEMO, "19900101", "1", "D12345678"))
    assert events.wait_for("inserted").reader == "counter-1"
    ev = events.wait_for("identified")
    i = ev.identity
    assert i is not None and ev.read_ms is not None and ev.read_ms < 1000
    assert (i.card_kind, i.masked_id, i.masked_name, i.card_number) == (
        "social_security",
        "110105********1232",
        "李*明",
        "D12345678",
    )
    assert reader.reader_name == READER0
    card.remove()
    events.wait_for("removed")
    assert "error" not in events.kinds()


def test_staff_badge_uid(pcscd, reader, events, cards) -> None:
    insert(cards, pcscd, VirtualStaffBadge("04A1B2C3D4E5F6"))
    ev = events.wait_for("badge")
    assert ev.badge_uid == "04A1B2C3D4E5F6" and ev.identity is None


def test_t0_61xx_path(pcscd, reader, events, cards) -> None:
    card = insert(
        cards,
        pcscd,
        VirtualSocialSecurityCard("张三", DEMO, faults=CardFaults(use_61xx=True, get_response_chunk=8)),
    )
    assert events.wait_for("identified").identity.masked_name == "张*"
    assert sum(a[:2] == b"\x00\xc0" for a in card.apdus) >= 8  # GET RESPONSE really was used


def test_6cxx_path(pcscd, reader, events, cards) -> None:
    card = insert(
        cards,
        pcscd,
        VirtualSocialSecurityCard("张三", DEMO, name_field_len=20, faults=CardFaults(strict_le=True)),
    )
    assert events.wait_for("identified").identity.masked_name == "张*"
    assert bytes.fromhex("00B2090016") in card.apdus  # repeated with the Le from 6C16


def test_pin_required_card_is_refused_without_sending_a_pin(pcscd, reader, events, cards) -> None:
    card = insert(cards, pcscd, VirtualSocialSecurityCard("张三", DEMO, faults=CardFaults(pin_required=True)))
    err = events.wait_for("error").error
    assert isinstance(err, CardUnsupported) and "PIN" in str(err)
    assert not any(a[1] == 0x20 for a in card.apdus)  # no VERIFY, ever
    assert "identified" not in events.kinds(0.3)


def test_unknown_card_is_not_a_social_security_card(pcscd, reader, events, cards) -> None:
    faults = CardFaults(sw_for={"FFCA": b"\x6a\x81"})
    insert(cards, pcscd, VirtualStaffBadge("04A1B2C3", faults))
    err = events.wait_for("error").error
    assert isinstance(err, A.NotSocialSecurityCard) and "not a social security card" in str(err)


def test_card_pulled_mid_read(pcscd, reader, events, cards) -> None:
    insert(cards, pcscd, VirtualSocialSecurityCard("张三", DEMO, faults=CardFaults(remove_after_apdus=4)))
    err = events.wait_for("error").error
    assert isinstance(err, CardRemoved) and str(err) == "card removed, please insert again"
    events.wait_for("removed")
    assert "identified" not in events.kinds()


@pytest.mark.parametrize(
    "faults, text",
    [
        (CardFaults(sw_for={"00B208": b"\x6f\x00"}), "6F00"),
        (CardFaults(truncate_for={"00B209": 7}), "record 09"),
    ],
    ids=["wrong-sw", "truncated"],
)
def test_broken_answers_are_errors_not_identities(pcscd, reader, events, cards, faults, text) -> None:
    insert(cards, pcscd, VirtualSocialSecurityCard("张三", DEMO, faults=faults))
    err = events.wait_for("error").error
    assert isinstance(err, A.CardProtocolError) and text in str(err)
    assert "identified" not in events.kinds(0.2)


def test_pcscd_restart_is_reader_lost_then_back(pcscd, reader, events, cards) -> None:
    pcscd.stop()
    assert events.wait_for("reader_lost").error is not None
    assert not reader.is_present()
    pcscd.start()
    events.wait_for("reader_back", timeout_s=10)
    assert reader.is_present()
    insert(cards, pcscd, VirtualSocialSecurityCard("张三", DEMO))
    assert events.wait_for("identified").identity is not None  # the new context reads cards


def test_no_pcscd_at_start(pcscd, events, cards) -> None:
    pcscd.stop()
    r = PcscCardReader("Virtual PCD 00 01", retry_s=0.1, poll_ms=200)
    try:
        r.start(events)
        events.wait_for("reader_lost")
        assert not r.is_present()
        pcscd.start()
        events.wait_for("reader_back", timeout_s=10)
        card = VirtualSocialSecurityCard("张三", DEMO)
        cards.append(card)
        card.insert(pcscd.port + 1)
        assert events.wait_for("identified").identity.masked_id == "110105********1232"
    finally:
        r.close()
        if pcscd.proc is None:
            pcscd.start()


def test_no_matching_reader(pcscd, events) -> None:
    r = PcscCardReader("^No Such Reader$", retry_s=0.1)
    try:
        r.start(events)
        lost = events.wait_for("reader_lost")
        assert "No Such Reader" in str(lost.error) and not r.is_present()
    finally:
        r.close()


def test_quick_swap_is_a_new_card(pcscd, reader, events, cards) -> None:
    first = insert(cards, pcscd, VirtualSocialSecurityCard("张三", DEMO))
    events.wait_for("identified")
    first.remove()
    insert(cards, pcscd, VirtualStaffBadge("0A0B0C0D"))  # faster than pcscd's 400 ms presence poll
    events.wait_for("removed")
    assert events.wait_for("badge").badge_uid == "0A0B0C0D"
