"""长辈模式 (elder mode) and the step bar, in a real window with real taps: one tap on the start screen, kept for the
whole session and gone with it; larger text and keys, at most four matters on a screen (paged), twice the
inactivity time, slower speech (rendered and measured); "第1步 读卡 → 2 填写 → 3 核对 → 4 提交" on every step of
a matter's flow, in both modes. Screenshots: artifacts/ui/elder_*."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.ui.conftest import shot
from tests.ui.flows import open_matter
from tests.ui.harness import Driver
from ui.widgets import ListRow


@pytest.fixture
def elder(k: Driver) -> Iterator[Driver]:
    normal = (k.app.fs_body, k.app.key, k.app.target)
    k.rt.voice.log.clear()
    k.tap_id("btn_elder", "start")
    assert k.app.elder and k.app.session.elder and k.rt.voice.slow and k.app.large_text
    k.settle()
    assert k.app.fs_body > normal[0] * 1.25 and k.app.key > normal[1] * 1.1 and k.app.target > normal[2] * 1.1
    yield k
    k.app.reset_session()


def _rows(k: Driver) -> list[ListRow]:
    return [w for w in k.app.screen.ids.rows.children if isinstance(w, ListRow)]


def test_elder_mode_one_tap_bigger_slower_paged_and_gone_with_the_session(elder: Driver) -> None:
    k = elder
    k.wait_for(lambda: k.t("elder.on") in [u.text for u in list(k.rt.voice.log)], what="elder mode said")
    assert k.app.screen.ids.btn_elder.selected and k.app.screen.ids.btn_elder.text == k.t("elder.button_on")
    shot(k, "elder_start")
    # Twice the time before the inactivity warning.
    s = k.app.session
    assert s.phase(s.last_activity + s.warning_after_s * 1.5) == "active"
    assert s.phase(s.last_activity + s.warning_after_s * 2 + 0.1) == "warning"
    # Slower speech: the same sentence rendered in elder mode lasts longer.
    text = k.t("voice.take_card")
    eng = k.rt.voice.engine
    assert eng.render(text, "zh", slow=True).seconds > eng.render(text, "zh", slow=False).seconds * 1.2
    # The matters flow: the step bar from the card on; matters four to a screen, paged.
    k.tap_id("btn_matters")
    assert k.app.sm.current == "identify"
    bar = k.app.screen.ids.steps
    k.frames(3)
    assert bar.height > 0 and bar.text.startswith("[b][u]第1步 读卡[/u][/b]") and "4 提交" in bar.text
    assert bar.texture_size[0] <= bar.width + 1, "the step bar fits on one line"
    k.rt.sims.card_sim().insert_demo_card()
    k.wait_for(lambda: k.app.screen.reader_state == "read", timeout=20, what="the card")
    k.tap_id("btn_continue")
    k.wait_for(lambda: k.app.sm.current == "matters" and _rows(k), what="the catalog")
    first = [r.title for r in _rows(k)]
    assert 1 <= len(first) <= 4
    more = next(w for w in k.app.screen.ids.rows.children if getattr(w, "text", "").startswith("下一页"))
    shot(k, "elder_matters")
    k.tap(more)
    k.frames(3)
    second = [r.title for r in _rows(k)]
    assert 1 <= len(second) <= 4 and not set(second) & set(first), "the next page replaces the first"
    assert k.app.elder, "kept for the whole session"
    # The session ends: elder mode, larger text and slow speech go with it.
    k.app.reset_session()
    k.settle()
    assert not k.app.elder and not k.app.session.elder and not k.rt.voice.slow and not k.app.large_text


def test_step_bar_on_every_step_of_a_matter_in_both_modes(k: Driver) -> None:
    for mode in ("normal", "elder"):
        if mode == "elder":
            k.tap_id("btn_elder", "start")
        k.tap_id("btn_matters")
        k.rt.sims.card_sim().insert_demo_card()
        k.wait_for(lambda: k.app.screen.reader_state == "read", timeout=20, what="the card")
        k.tap_id("btn_continue")
        k.wait_for(lambda: k.app.sm.current == "matters" and _rows(k), what="the catalog")
        for _ in range(30):  # elder mode: page on until it shows (four a page)
            if any(r.title == "户籍证明开具" for r in _rows(k)):
                break
            assert len(_rows(k)) <= (4 if mode == "elder" else 10)
            k.tap(
                next(
                    w
                    for w in k.app.screen.ids.rows.children
                    if getattr(w, "text", "").startswith(("下一页", "显示"))
                )
            )
            k.frames(2)
        open_matter(k, "户籍证明开具")
        assert k.app.sm.current == "form"
        bar = k.app.screen.ids.steps
        k.frames(3)
        assert "[b][u]2 填写[/u][/b]" in bar.text and bar.height > 0
        assert bar.texture_size[0] <= bar.width + 1
        shot(k, f"steps_form_{mode}")
        k.rt.sims.card_sim().remove_card()
        k.wait_for(lambda: k.app.sm.current == "start" or k.app.card_away.active, what="the card taken away")
        k.app.reset_session()
        k.clear_reader()
        k.go_start()
