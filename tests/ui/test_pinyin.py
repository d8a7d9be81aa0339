"""Pinyin input: the engine on the real index (no Kivy), commit semantics, the cache, and the candidate bar in a window.

Run alone:
    KIVY_NO_ARGS=1 KIVY_USE_DEFAULTCONFIG=1 xvfb-run -a -s "-screen 0 1280x1024x24" python -m pytest tests/ui/test_pinyin.py
(only the last test needs the window; the others run anywhere).
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from tests.ui.harness import ARTIFACTS, Driver, overflowing
from ui.pinyin.engine import PinyinEngine, normalise, split
from ui.pinyin.lexicon import (
    CACHE_NAME,
    Lexicon,
    current_stamp,
    load_in_background,
    load_or_build,
    seed_lexicon,
)


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("pinyin-cache")


@pytest.fixture(scope="module")
def lexicon(cache_dir: Path) -> Lexicon:
    return load_or_build(cache_dir)  # builds (a few seconds) and writes the cache the later tests load


@pytest.fixture
def eng(lexicon: Lexicon) -> PinyinEngine:
    return PinyinEngine(lexicon)


# --- splitting --------------------------------------------------------------------------------------------------
def test_split_reads_every_plausible_way_primary_first() -> None:
    assert [p.text for p in split("beijing")[0]] == ["bei", "jing"]
    assert [(p.text, p.partial) for p in split("beij")[0]] == [("bei", False), ("j", True)]
    readings = {"'".join(p.text for p in s) for s in split("xian")}
    assert "xian" in readings and "xi'an" in readings
    assert [p.text for p in split("xian")[0]] == ["xian"]  # fewest syllables first
    assert [p.text for p in split("xi'an")[0]] == ["xi", "an"]  # the apostrophe forces the break
    assert [p.text for p in split("zhuangshang")[0]] == ["zhuang", "shang"]
    assert split("qqq") == [] and split("") == [] and split("'") == []


def test_normalise_keyboard_input() -> None:
    assert normalise("BEI JING") == "beijing"
    assert normalise("LÜ") == "lv"
    assert normalise("Xi'An3") == "xi'an"


# --- candidates --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("letters", "word", "within"),
    [
        ("beijing", "北京", 3),
        ("BEIJING", "北京", 3),  # the letter keyboard sends capitals
        ("beij", "北京", 3),  # unfinished last syllable
        ("beijin", "北京", 3),  # finished syllable read as the start of a longer one
        ("shanghai", "上海", 1),
        ("lv", "绿", 5),  # ü typed as v
        ("lue", "略", 3),  # and the "ue" spelling phone IMEs accept
        ("xi'an", "西安", 1),
        ("xian", "先", 3),
        ("xian", "西安", 6),  # the other reading still on page one
        ("zhongg", "中国", 3),
        ("jiedao", "街道", 1),
        ("xiaoqu", "小区", 1),
        ("danyuan", "单元", 1),
        ("menpaihao", "门牌号", 1),  # forced in as address vocabulary although rare in jieba
        ("jiatingzhuzhi", "家庭住址", 1),
        ("shenfenzheng", "身份证", 1),
        ("yinhang", "银行", 1),  # 行 read hang from word evidence
        ("sheng", "省", 3),
        ("shi", "市", 6),
        ("dong", "栋", 5),
    ],
)
def test_expected_candidate_ranks_high(eng: PinyinEngine, letters: str, word: str, within: int) -> None:
    got = eng.candidates(letters)
    assert word in got[:within], f"{letters}: {word} not in top {within}: {got[:10]}"


def test_garbage_and_empty_input_give_no_candidates(eng: PinyinEngine) -> None:
    assert eng.candidates("qqq") == []
    assert eng.candidates("") == []
    assert eng.candidates("'''") == []
    assert eng.candidates("123") == []


def test_whole_input_matches_come_before_parts(eng: PinyinEngine) -> None:
    got = eng.candidates("beijingshi")
    assert got[0] == "北京市"
    assert got.index("北京") < got.index("北")  # then the longest head, then single characters


def test_limit_and_no_duplicates(eng: PinyinEngine) -> None:
    got = eng.candidates("shi", limit=40)
    assert len(got) == 40 and len(set(got)) == 40
    assert all(len(c) == 1 for c in got)


def test_no_traditional_or_mojibake_on_page_one(eng: PinyinEngine) -> None:
    # jieba counts 鎴/鏂 (UTF-8 read as GBK) and 備 as if common; they must sit behind the everyday characters.
    assert not {"鎴", "備"} & set(eng.candidates("xi")[:20] + eng.candidates("bei")[:20])


def test_long_input_stays_bounded(eng: PinyinEngine) -> None:
    letters = "xian" * 12 + "qq"  # many splits, none reaching the end
    t0 = time.perf_counter()
    got = eng.lookup(letters)
    assert time.perf_counter() - t0 < 0.5
    assert got and all(
        0 < c.consumed <= len(letters) - 2 and not c.whole for c in got
    )  # "qq" is never consumed


# --- commit ------------------------------------------------------------------------------------------------------
def test_commit_removes_what_the_candidate_consumed(eng: PinyinEngine) -> None:
    eng.candidates("beijingshi")
    assert eng.commit("北京") == "shi"
    eng.candidates("beijingshi")
    assert eng.commit("北京市") == ""
    eng.candidates("beijingshi")
    assert eng.commit("北") == "jingshi"


def test_commit_drops_the_separator_and_handles_unfinished_input(eng: PinyinEngine) -> None:
    eng.candidates("xi'an")
    assert eng.commit("西") == "an"
    eng.candidates("beijingqq")  # does not split to the end: the finished start is offered
    assert eng.commit("北京") == "qq"
    eng.candidates("zhongg")
    assert eng.commit("中国") == ""


def test_commit_with_explicit_letters_and_unknown_candidate(eng: PinyinEngine) -> None:
    assert eng.commit("上海", "shanghaishi") == "shi"  # no candidates() call needed
    eng.candidates("beijing")
    with pytest.raises(ValueError):
        eng.commit("上海")


def test_segment_for_display(eng: PinyinEngine) -> None:
    assert eng.segment("beijingsh") == "bei'jing'sh"
    assert eng.segment("qqq") == "qqq"


# --- the index and its cache ---------------------------------------------------------------------------------------
def test_cache_round_trip(lexicon: Lexicon, cache_dir: Path, tmp_path: Path) -> None:
    path = cache_dir / CACHE_NAME
    assert path.exists()
    t0 = time.perf_counter()
    again = Lexicon.load(path)
    assert time.perf_counter() - t0 < 2.0
    assert again == lexicon and again.ready
    copy = tmp_path / CACHE_NAME
    again.save(copy)
    assert Lexicon.load(copy) == lexicon
    assert load_or_build(tmp_path) == lexicon  # a current cache is loaded, not rebuilt


def test_stale_or_broken_cache_is_ignored(lexicon: Lexicon, tmp_path: Path) -> None:
    path = tmp_path / CACHE_NAME
    lexicon.save(path)
    assert Lexicon.load(path, current_stamp(max_words=123)) is None  # other data → rebuild
    path.write_text(f"#{current_stamp()}\nbroken line without tabs\n", encoding="utf-8")
    assert Lexicon.load(path) is None
    assert Lexicon.load(tmp_path / "missing.tsv") is None


def test_seed_set_works_before_the_index_is_ready() -> None:
    eng = PinyinEngine(seed_lexicon())
    assert not eng.ready
    assert eng.candidates("jiedao")[0] == "街道"
    assert "小区" in eng.candidates("xiaoq")


def test_background_load_calls_back_with_the_index(lexicon: Lexicon, cache_dir: Path) -> None:
    got: list[Lexicon] = []
    done = threading.Event()
    thread = load_in_background(cache_dir, lambda lex: (got.append(lex), done.set()))
    assert thread.daemon
    assert done.wait(30)
    assert got[0] == lexicon
    eng = PinyinEngine(seed_lexicon())
    eng.set_lexicon(got[0])
    assert eng.ready


def test_first_build_runs_in_a_child_process(tmp_path: Path) -> None:
    # The kiosk builds in a child Python so the UI thread keeps the GIL; a small word count keeps this quick.
    lex = load_or_build(tmp_path, max_words=2000, subprocess_build=True)
    assert (tmp_path / CACHE_NAME).exists() and lex.ready
    assert PinyinEngine(lex).candidates("jiedao")[0] == "街道"


# --- the candidate bar in a real window -------------------------------------------------------------------------
def _touch(w: object) -> None:
    from kivy.base import EventLoop
    from kivy.tests.common import UnitTestTouch

    x, y = w.to_window(*w.center)  # type: ignore[attr-defined]
    touch = UnitTestTouch(x, y)
    touch.touch_down()
    EventLoop.idle()
    touch.touch_up()
    for _ in range(3):
        EventLoop.idle()


def test_tapping_a_candidate_inserts_it(kiosk: Driver, lexicon: Lexicon) -> None:
    from kivy.core.window import Window
    from kivy.uix.boxlayout import BoxLayout
    from kivy.uix.textinput import TextInput

    from ui.pinyin.candidates import CandidateBar

    field = TextInput(size_hint_y=None, height=kiosk.app.key)
    bar = CandidateBar(PinyinEngine(lexicon), target=field)
    committed: list[str] = []
    bar.bind(on_commit=lambda _bar, text: committed.append(text))
    box = BoxLayout(orientation="vertical", size_hint=(None, None), size=Window.size, pos=(0, 0))
    box.add_widget(field)
    box.add_widget(bar)
    box.add_widget(BoxLayout())
    Window.add_widget(box)  # on top of the app's screen, so the touch reaches the bar first
    try:
        for ch in "BEIJINGSHI":
            bar.add_letter(ch)
        kiosk.frames(4)
        assert bar.letters_label.text == "bei'jing'shi"
        shown = {b.text: b for b in bar.cand_box.children}
        assert "北京" in shown and len(shown) >= 3
        min_px = kiosk.app.min_target_px()
        for b in [*shown.values(), bar.prev_button, bar.next_button, bar.raw_button]:
            assert b.width >= min_px - 0.5 and b.height >= min_px - 0.5, (
                f"{b.text!r} is {b.size}, below 15 mm"
            )
        assert not overflowing(bar, Window.width)
        from ui.shots import grab

        grab(ARTIFACTS / "pinyin-bar.png")  # for a look by eye: the bar under a text field, on top of the app
        _touch(shown["北京"])
        assert field.text == "北京" and committed == ["北京"]
        assert bar.letters == "shi"  # what 北京 did not consume stays, with its own candidates
        assert bar.candidates and bar.candidates[0] == "是"

        bar.next_page()
        kiosk.frames(2)
        assert bar.page_start > 0 and not bar.prev_button.disabled
        bar.prev_page()
        assert bar.page_start == 0

        _touch(bar.raw_button)  # "letters as typed"
        assert field.text == "北京shi" and bar.letters == ""

        assert not bar.backspace()  # nothing pending: the keyboard deletes from the field itself
        bar.add_letter("l")
        bar.add_letter("u")
        assert bar.backspace() and bar.letters == "l"
        bar.add_letter("v")
        assert bar.commit_first()
        assert field.text == "北京shi" + bar.engine.candidates("lv")[0]
        assert not bar.commit_first()  # space with nothing pending types a space

        waiting = CandidateBar(target=field)  # the seed set, as before the index is loaded
        waiting.add_letter("x")
        assert waiting.preparing_text in waiting.letters_label.text
        waiting.set_lexicon(lexicon)
        assert waiting.preparing_text not in waiting.letters_label.text
        waiting.add_letter("i")
        assert waiting.candidates[0] == "西"  # from the full index now, not the seed set
    finally:
        Window.remove_widget(box)
        kiosk.frames(2)
