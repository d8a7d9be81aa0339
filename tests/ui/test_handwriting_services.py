"""手写 beyond the form: the mail address's street and detail, and the 12345 content, on the same pad the form uses.

Real touches draw each character's strokes (hanzi-writer-data's medians, as in test_handwriting_pad; skipped with
the reason when npm cannot have them), then the candidate is tapped into the part being entered.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.handwriting.strokes import install, medians
from tests.ui.conftest import shot
from tests.ui.flows import open_matter
from tests.ui.harness import Driver
from tests.ui.test_handwriting_pad import draw


@pytest.fixture(scope="module")
def pkg() -> Any:
    got = install()
    if isinstance(got, str):
        pytest.skip(f"hanzi-writer-data unavailable: {got}")
    return got


def _write(k: Driver, pad: Any, ch: str, pkg: Any) -> None:
    draw(k, pad.ids.ink, medians(pkg, ch))
    k.frames(2)
    assert ch in pad.candidates[:5], f"{ch} not among {pad.candidates}"
    k.tap(next(w for w in pad.walk() if getattr(w, "key", None) == ch))
    assert pad.candidates == [] and pad.ids.ink.strokes == []


def test_street_and_detail_by_handwriting(k: Driver, pkg: Any) -> None:
    k.wait_for(lambda: k.app.pinyin_lexicon.ready, timeout=90, what="the pinyin index")
    k.tap_id("btn_matters")
    k.rt.sims.card_sim().insert_demo_card()
    k.wait_for(lambda: k.app.screen.reader_state == "read", timeout=20, what="the card")
    k.tap_id("btn_continue")
    k.wait_for(lambda: k.app.sm.current == "matters" and k.app.screen.ids.rows.children, what="the catalog")
    open_matter(k, "社会保障卡补换")
    form = k.app.screen
    k.tap_text(k.t("choice.遗失"), form.ids.choices)
    k.tap_id("btn_next")
    k.keys(form.ids.numpad, "13800138000")
    k.tap_id("btn_next")
    k.tap_text(k.t("delivery.MAIL"), form.ids.choices)
    k.tap_id("btn_review")
    mail = k.app.screen
    assert k.app.sm.current == "mail"
    # 手写 is offered for street and detail only, not for the picked parts.
    assert mail.focus == "province" and mail.ids.btn_handwriting.disabled
    for name in ("湖南省", "株洲市", "芦淞区"):
        k.tap_text(name, mail.ids.choices)
    assert mail.focus == "street" and mail.input_kind == "keyboard" and not mail.ids.btn_handwriting.disabled
    k.tap_id("btn_handwriting")
    assert mail.input_kind == "handwriting"
    pad = mail.ids.handwriting
    _write(k, pad, "南", pkg)
    assert mail.address()["street"] == "南" and mail._boxes["street"].value == "南"
    shot(k, "mail_handwriting")
    # The next part (detail) opens on the pad again: the choice holds for this address.
    k.tap_id("btn_next")
    assert mail.focus == "detail" and mail.input_kind == "handwriting"
    _write(k, pad, "京", pkg)
    _write(k, pad, "十", pkg)
    k.tap(pad.ids.btn_delete)  # the pad's delete key takes back the last character
    assert mail.address()["detail"] == "京" and mail.address()["street"] == "南"
    # Back to the keyboard for the same part; a picked part shows its choices, never the pad.
    k.tap_id("btn_handwriting")
    assert mail.input_kind == "keyboard"
    k.tap(mail._boxes["province"])
    assert mail.input_kind == "choice" and mail.ids.btn_handwriting.disabled
    k.app.reset_session()
    k.settle()
    assert mail.handwriting is False and pad.ids.ink.strokes == []


def test_12345_content_by_handwriting(k: Driver, pkg: Any) -> None:
    k.wait_for(lambda: k.app.pinyin_lexicon.ready, timeout=90, what="the pinyin index")
    k.tap_id("btn_hotline")
    scr = k.app.screen
    assert k.app.sm.current == "hotline" and scr.ids.btn_handwriting.disabled  # nothing being typed yet
    k.tap_text(k.t("ticket.kind.CONSULT"), scr.ids.kinds)
    k.tap(scr.ids.text_box)
    assert not scr.ids.btn_handwriting.disabled
    k.tap_id("btn_handwriting")
    assert scr.handwriting and scr.ids.keyboard.disabled and scr.bar.parent is None
    pad = scr.ids.handwriting
    _write(k, pad, "南", pkg)
    _write(k, pad, "京", pkg)
    assert scr.text == "南京" and scr.ids.text_box.value == "南京"
    shot(k, "hotline_handwriting")
    # The phone takes the number pad; the content goes back to the pad it was written on.
    k.tap(scr.ids.phone_box)
    assert pad.disabled and not scr.ids.numpad.disabled and scr.ids.btn_handwriting.disabled
    k.tap(scr.ids.text_box)
    assert not pad.disabled
    k.tap_id("btn_handwriting")
    assert not scr.handwriting and not scr.ids.keyboard.disabled and pad.disabled
    k.app.reset_session()
    k.settle()
    assert scr.handwriting is False and scr.text == ""
