"""帮办代办 in the real window: staff sign in with a badge and start 代办; the citizen identifies with their own
card; staff fill the form with them; the citizen confirms consent on screen; the filing carries assistedBy
(PROXY, the full staff id); each step is audited under the staff id, never the citizen's name or number."""

from __future__ import annotations

from kiosk import audit
from tests.ui.conftest import ASSIST_BADGE, ASSIST_STAFF_ID, STAFF_BADGE, shot
from tests.ui.flows import CARD_PERSON, badge, open_matter
from tests.ui.harness import Driver


def _audit(k: Driver, n: int = 80) -> list:
    with k.rt.app.db.transaction() as s:
        return audit.tail(s, n)


def test_a_bare_badge_cannot_start_a_proxy_filing(k: Driver) -> None:
    badge(k, STAFF_BADGE)
    k.wait_for(lambda: k.app.sm.current == "staff", what="the staff screen")
    k.tap_id("btn_proxy")
    assert k.app.sm.current == "staff" and k.app.screen.error == k.t("error.assist_staff")
    k.tap_id("btn_exit")


def test_a_proxy_filing_with_the_citizens_consent(k: Driver) -> None:
    badge(k, ASSIST_BADGE)
    k.wait_for(lambda: k.app.sm.current == "staff", what="the staff screen")
    k.tap_id("btn_proxy")
    assert k.app.sm.current == "identify" and k.app.session.role == "citizen"
    assert k.app.session.scratch["assist"] == {"staff_id": ASSIST_STAFF_ID, "mode": "PROXY"}
    k.rt.sims.card_sim().insert_demo_card()  # the citizen's own card
    k.wait_for(lambda: k.app.screen.reader_state == "read", timeout=20, what="the card")
    k.tap_id("btn_continue")
    k.wait_for(lambda: k.app.sm.current == "matters" and k.app.screen.ids.rows.children, what="the catalog")
    open_matter(k, "户籍证明开具")
    form = k.app.screen
    k.tap_text("就业", form.ids.choices)
    k.tap_id("btn_next")
    k.keys(form.ids.numpad, "1")
    k.tap_id("btn_next")
    k.tap_text(k.t("delivery.LOCKER"), form.ids.choices)
    k.tap_id("btn_review")
    review = k.app.screen
    assert k.app.sm.current == "review" and ASSIST_STAFF_ID in review.assist_text
    # Submit asks the citizen first; declining files nothing.
    bo = k.rt.app.platform.sim.backoffice
    before = len(bo.cases_of(CARD_PERSON.id_number))
    k.tap_id("btn_submit")
    assert review.asking_consent and ASSIST_STAFF_ID in review.ids.consent_text.text
    shot(k, "assist_consent")
    k.tap_id("btn_decline")
    k.settle()
    assert review.error == k.t("assist.declined") and len(bo.cases_of(CARD_PERSON.id_number)) == before
    # Asked again, the citizen agrees: filed with assistedBy.
    k.tap_id("btn_submit")
    k.tap_id("btn_consent")
    k.wait_for(lambda: k.app.sm.current == "result", timeout=20, what="the result")
    case = bo.case(k.app.screen.number)
    assert case.applicant.id_number == CARD_PERSON.id_number
    a = case.assisted_by
    assert (a.staff_id, a.mode, a.consent_recorded) == (ASSIST_STAFF_ID, "PROXY", True)
    recs = [r for r in _audit(k) if r.actor == f"staff:{ASSIST_STAFF_ID}"]
    actions = [r.action for r in recs]
    assert {"assist.start", "assist.consent_declined", "filing.assisted"} <= set(actions)
    for r in recs:
        assert CARD_PERSON.id_number not in str(r.detail) and CARD_PERSON.name not in str(r.detail)
