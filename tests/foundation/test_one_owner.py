"""Each fact has one owner and the others read it (issue 16, item 2)."""

from __future__ import annotations

from kiosk.cabinet.flows import COLLECT_REASONS
from kiosk.evaluations import RATINGS, REASONS
from ui.i18n import Catalogue


def test_the_rating_screen_shows_the_words_the_platform_receives() -> None:
    c = Catalogue()
    for i, lang in enumerate(("zh", "en")):
        assert {n: c.t(f"rating.{n}", lang) for n in RATINGS} == {n: pair[i] for n, pair in RATINGS.items()}
        assert {r: c.t(f"reason.{r}", lang) for r in REASONS} == {r: pair[i] for r, pair in REASONS.items()}
    assert c.t("reason.extra_materials", "zh") == "要求提供额外材料"  # had drifted to 要求额外材料 on screen


def test_the_take_back_reasons_have_labels() -> None:
    c = Catalogue()
    assert all(c.strings[lang].get(f"collect.reason.{r}") for r in COLLECT_REASONS for lang in ("zh", "en"))


def test_one_list_of_transient_fault_codes() -> None:
    import backend_client.client as client
    import kiosk.outbox_delivery as attempt
    from kiosk.errors import TRANSIENT_FAULT_CODES

    assert client.TRANSIENT_FAULT_CODES is attempt.TRANSIENT_FAULT_CODES is TRANSIENT_FAULT_CODES
    assert not hasattr(client, "TRANSIENT_CODES") and not hasattr(attempt, "RETRYABLE_CODES")
