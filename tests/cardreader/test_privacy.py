"""The full ID number never reaches logs, reprs or error messages, whichever reader and outcome."""

from __future__ import annotations

import logging

import pytest

from drivers.cardreader.ga467 import Ga467Reader
from drivers.cardreader.ga467_sim import Ga467Sim
from drivers.cardreader.pcsc import PcscCardReader
from drivers.cardreader.vcard import CardFaults, VirtualSocialSecurityCard

from .conftest import READER0, Events, PrivatePcscd, wait_card_state

NUMBER = "440304198510130420"  # fictitious, valid check digit; distinct from the demo number
NAME = "欧阳小峰"


def leaks(text: str) -> bool:
    return NUMBER in text or NAME in text or NUMBER.encode("utf-16-le").hex() in text.lower()


def test_ga467_never_logs_or_reprs_the_number(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    sim = Ga467Sim().start()
    events = Events()
    r = Ga467Reader(sim.path, poll_interval_s=0.02, read_timeout_s=0.3)
    try:
        r.start(events)
        sim.insert_card(NAME, NUMBER)
        ok = events.wait_for("identified")
        sim.remove_card()
        events.wait_for("removed")
        for fault in ("bad_checksum", "remove_mid_read", "truncated"):
            sim.inject(fault, times=2)
            sim.insert_card(NAME, NUMBER)
            events.wait_for("error")
            sim.remove_card()
            events.wait_for("removed")
        texts = [caplog.text, repr(ok), str(ok.identity), repr(r), repr(sim)]
        texts += [repr(e) + str(e.error) for e in events.seen]
        assert not any(leaks(t) for t in texts)
        assert ok.identity is not None and ok.identity.id_number == NUMBER  # it was read, just never shown
    finally:
        r.close()
        sim.stop()


@pytest.mark.pcsc
def test_pcsc_never_logs_or_reprs_the_number(pcscd: PrivatePcscd, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    events = Events()
    r = PcscCardReader(READER0, poll_ms=200)
    outcomes = []
    try:
        r.start(events)
        for faults in (
            CardFaults(),
            CardFaults(remove_after_apdus=5),
            CardFaults(sw_for={"00B20D": b"\x6a\x83"}),
        ):
            card = VirtualSocialSecurityCard(NAME, NUMBER, faults=faults)
            card.insert(pcscd.port)
            events.wait_for("inserted")
            outcomes.append(
                events.wait_for(
                    "identified" if not faults.sw_for and faults.remove_after_apdus is None else "error"
                )
            )
            texts = [repr(card)]
            card.remove()
            wait_card_state(READER0, present=False)
        texts += [caplog.text, repr(r)] + [repr(e) + str(e.error) for e in outcomes]
        assert not any(leaks(t) for t in texts)
        assert outcomes[0].identity is not None and outcomes[0].identity.id_number == NUMBER
    finally:
        r.close()
