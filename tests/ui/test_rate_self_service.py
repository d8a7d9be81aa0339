"""A rating of the self-service itself (no case, no matter) reaches the platform as such, not as a made-up matter."""

from __future__ import annotations

from sqlalchemy import select

from kiosk.storage.models import OutboxMessage
from tests.ui.harness import Driver


def test_a_self_service_rating_carries_neither_case_nor_matter(k: Driver) -> None:
    bo = k.rt.app.platform.sim.backoffice
    before = len(bo.evaluations)
    k.app.go("rate", case_number="", matter_code="", context="pickup")
    k.tap_id("r4")
    k.tap_id("btn_send")
    rate = k.app.screen
    k.wait_for(lambda: rate.thanked, what="the rating to be queued")
    k.rt.parts.sender.poke()
    k.wait_for(lambda: len(bo.evaluations) > before, timeout=20, what="the rating to reach the platform")
    ev = bo.evaluations[-1]
    assert ev["rating"] == 4 and ev["case_number"] is None and ev["matter_code"] is None
    with k.rt.app.db.transaction() as s:
        states = (
            s.execute(select(OutboxMessage.state).where(OutboxMessage.operation == "SubmitEvaluation"))
            .scalars()
            .all()
        )
    assert "dead" not in states, "the platform refused the self-service rating"
