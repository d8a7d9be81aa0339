"""The pinyin index: build it from pypinyin + jieba once, cache it as a sorted TSV, load it in a fraction of a second.

Entries: every CJK character (pypinyin's dictionary, every reading) ranked by its frequency in text (standalone
and inside every word, :func:`character_frequencies`; jieba's counts blended with wordfreq's, surnames counted
again as names), plus the most frequent jieba words (and the address vocabulary a form needs) under their
pypinyin reading. Keys are toneless syllables joined by "'", ü written v (``lv`` → 绿).

Building takes seconds of pure-Python work, so it must never run on the UI thread:
:func:`load_in_background` does it on a worker thread (the heavy part in a child process, so the GIL
stays with the UI) and hands the result to a callback. Until then :func:`seed_lexicon` — a few dozen
address words, ``ready = False`` — keeps the keyboard usable. ``python -m ui.pinyin.lexicon DIR``
prebuilds the cache (for an image build), so a kiosk normally only ever *loads* it.
"""

from __future__ import annotations

import logging
import math
import os
import re
import subprocess
import sys
import tempfile
import threading
from collections import defaultdict
from collections.abc import Callable, Sequence
from importlib import metadata, resources
from pathlib import Path

from ui.pinyin.engine import SYLLABLES

log = logging.getLogger(__name__)

FORMAT = "hall-kiosk-pinyin/2"  # 2: characters ranked by frequency inside words too
CACHE_NAME = "pinyin-index.tsv"
DEFAULT_WORDS = 50_000  # jieba's top words by frequency: the 50 000th still has a frequency of ~40
CJK = re.compile(r"[\u4e00-\u9fff]+")
FIRST_READING_PRIOR = 0.5  # share given to a character's dictionary-first reading before word evidence
OTHER_READING_PRIOR = (
    0.002  # a reading no common word uses (听 yín, 区 ōu) must not outrank the usual characters
)
# jieba's single-character counts include traditional forms and mojibake (UTF-8 read as GBK: 銆 鐨 鏄, tagged zg).
# Characters outside GB2312 — the 6 763 everyday simplified ones — keep a place, but behind every common one.
OUTSIDE_GB2312 = 0.01
# A surname counts this many times over in names: the name field is what citizens type most (傅 阎 龚 are rare in
# running text but not at a kiosk). jieba's person-name entries say which characters begin names, and how often.
SURNAME_WEIGHT = 10.0
ADDRESS_FLOOR = 5_000  # address words are what this kiosk's forms ask for: never below page one
PLACE_BOOST = 2  # province, city and district names (see place_names)

# Address and form vocabulary: always in the index, whatever their general frequency (门牌号 ranks ~96 000th).
ADDRESS_WORDS = (
    "省 市 区 县 镇 乡 村 街道 路 号 小区 栋 幢 单元 室 楼 层 号楼 社区 大道 巷 弄 胡同 组 屯 花园 公寓 大厦 新村 "
    "东路 西路 南路 北路 中路 大街 开发区 自治区 自治州 自治县 街 门牌号 住址 地址 家庭 家庭住址 户籍 所在地 "
    "居委会 村委会 委员会 工业园 园区 广场 中心 苑 府 庄 里 坊 屯 大院 宿舍 门 附"
).split()

# Usable before the index exists: (key, text, score). Hand-written so nothing heavy is imported for it.
SEED = (
    ("sheng", "省", 900),
    ("shi", "市", 900),
    ("qu", "区", 900),
    ("xian", "县", 900),
    ("zhen", "镇", 800),
    ("xiang", "乡", 800),
    ("cun", "村", 800),
    ("jie'dao", "街道", 900),
    ("jie", "街", 800),
    ("lu", "路", 900),
    ("hao", "号", 900),
    ("xiao'qu", "小区", 900),
    ("dong", "栋", 800),
    ("zhuang", "幢", 700),
    ("dan'yuan", "单元", 900),
    ("shi", "室", 850),
    ("lou", "楼", 850),
    ("ceng", "层", 800),
    ("hao'lou", "号楼", 800),
    ("she'qu", "社区", 800),
    ("da'dao", "大道", 700),
    ("xiang", "巷", 700),
    ("nong", "弄", 600),
    ("hu'tong", "胡同", 600),
    ("zu", "组", 600),
    ("hua'yuan", "花园", 700),
    ("gong'yu", "公寓", 600),
    ("da'sha", "大厦", 600),
    ("xin'cun", "新村", 600),
    ("da'jie", "大街", 700),
    ("zhong'lu", "中路", 600),
    ("dong'lu", "东路", 600),
    ("xi'lu", "西路", 600),
    ("nan'lu", "南路", 600),
    ("bei'lu", "北路", 600),
    ("dong", "东", 850),
    ("xi", "西", 850),
    ("nan", "南", 850),
    ("bei", "北", 850),
    ("zhong", "中", 850),
    ("kai'fa'qu", "开发区", 500),
    ("zi'zhi'qu", "自治区", 500),
    ("zhou", "州", 700),
    ("zhu'zhi", "住址", 700),
    ("di'zhi", "地址", 700),
    ("jia", "家", 800),
    ("bei'jing", "北京", 900),
    ("shang'hai", "上海", 900),
    ("tian'jin", "天津", 800),
    ("chong'qing", "重庆", 800),
    ("guang'zhou", "广州", 800),
    ("shen'zhen", "深圳", 800),
    ("zhong'guo", "中国", 900),
)


class Lexicon:
    """Key → ``(text, score)`` pairs, best first. ``ready`` is False for the built-in seed set."""

    def __init__(
        self, entries: dict[str, list[tuple[str, int]]], *, ready: bool = True, stamp: str = ""
    ) -> None:
        self.entries = entries
        self.ready = ready
        self.stamp = stamp

    def lookup(self, key: str) -> Sequence[tuple[str, int]]:
        return self.entries.get(key, ())

    def __len__(self) -> int:
        return sum(map(len, self.entries.values()))

    def character_counts(self) -> dict[str, int]:
        """Each single character's score summed over its readings: how common it is (the handwriting prior)."""
        out: dict[str, int] = defaultdict(int)
        for items in self.entries.values():
            for text, score in items:
                if len(text) == 1:
                    out[text] += score
        return dict(out)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Lexicon) and self.entries == other.entries

    __hash__ = None  # type: ignore[assignment]  # mutable, compared by content

    # --- the cache file: "#<stamp>" then "key<TAB>text<TAB>score" lines sorted by key, best first ----------------
    def save(self, path: Path) -> None:
        """Write atomically (temp file + rename): a kiosk switched off mid-write must not leave half an index."""
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=path.name, suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
                f.write(f"#{self.stamp}\n")
                for key in sorted(self.entries):
                    f.writelines(f"{key}\t{text}\t{score}\n" for text, score in self.entries[key])
            os.chmod(
                tmp, 0o644
            )  # mkstemp makes it 0600; the kiosk may run as another user than the image build
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    @classmethod
    def load(cls, path: Path, stamp: str | None = None) -> Lexicon | None:
        """The cached index, or None when the file is missing, unreadable, or was built by other data (stamp)."""
        want = current_stamp() if stamp is None else stamp
        entries: dict[str, list[tuple[str, int]]] = {}
        try:
            with path.open(encoding="utf-8") as f:
                if f.readline().rstrip("\n") != f"#{want}":
                    return None
                for line in f:
                    key, text, score = line.rstrip("\n").split("\t")
                    entries.setdefault(key, []).append((text, int(score)))
        except FileNotFoundError:
            log.info("no pinyin cache at %s yet: building it (first start only)", path)
            return None
        except (OSError, ValueError, UnicodeDecodeError) as err:
            log.warning("pinyin cache %s unusable, rebuilding: %s", path, err)
            return None
        return cls(entries, stamp=want) if entries else None


def seed_lexicon() -> Lexicon:
    entries: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for key, text, score in SEED:
        entries[key].append((text, score))
    for v in entries.values():
        v.sort(key=lambda e: -e[1])
    return Lexicon(dict(entries), ready=False, stamp="seed")


def current_stamp(max_words: int = DEFAULT_WORDS) -> str:
    """What the cache depends on: a new pypinyin or jieba, or another word count, means a rebuild."""

    def ver(dist: str) -> str:
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            return "none"

    return f"{FORMAT} pypinyin={ver('pypinyin')} jieba={ver('jieba')} wordfreq={ver('wordfreq')} words={max_words}"


def _jieba_frequencies() -> tuple[list[tuple[str, int]], dict[str, int]]:
    """jieba's bundled dict.txt ("word freq tag" lines), read as a package resource: no jieba import, no network.

    Returns the (word, frequency) rows and, per character, the summed frequency of the two- and three-character
    person names (tag ``nr``) it begins: how often it is a surname."""
    rows = []
    surname: dict[str, int] = defaultdict(int)
    with (resources.files("jieba") / "dict.txt").open(encoding="utf-8") as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 2 and parts[1].isdigit():
                rows.append((parts[0], int(parts[1])))
                if len(parts) >= 3 and parts[2] == "nr" and 2 <= len(parts[0]) <= 3:
                    surname[parts[0][0]] += int(parts[1])
    return rows, dict(surname)


def character_frequencies(rows: Sequence[tuple[str, int]]) -> dict[str, int]:
    """How often each character occurs in text: its count as a word of its own plus the counts of every word that
    contains it. A standalone count alone buries characters that mostly live inside words (绿 in 绿色, 芦 in 芦苇)
    behind rarer ones that stand alone in names (禄 璐); the same sum over a corpus is what character frequency
    lists measure."""
    out: dict[str, int] = defaultdict(int)
    for word, n in rows:
        if CJK.fullmatch(word):
            for ch in word:
                out[ch] += n
    return dict(out)


def place_names() -> set[str]:
    """China's province, city and district names (kiosk/data/divisions.json, the mail pickers' list), in full and
    without their 省/市/区/县 ending: 西安市 and 西安."""
    import json

    path = Path(__file__).resolve().parents[2] / "kiosk" / "data" / "divisions.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        log.warning("no place names for the pinyin index (%s): %s", path, err)
        return set()
    names: set[str] = set()

    def add(name: str) -> None:
        if CJK.fullmatch(name):
            names.add(name)
            bare = re.sub(r"(特别行政区|自治区|自治州|自治县|地区|省|市|区|县|盟|旗)$", "", name)
            if len(bare) >= 2:
                names.add(bare)

    for _code, prov, cities in data["provinces"]:
        add(prov)
        for _c, city, districts in cities:
            add(city)
            for _d, district in districts:
                add(district)
    return names


def _wordfreq_characters() -> dict[str, float]:
    """Character frequencies from wordfreq's Chinese word list (subtitles, Wikipedia, news, books, the web: a
    second, larger corpus than jieba's), summed over the words that contain each character; {} without wordfreq."""
    try:
        from wordfreq import get_frequency_dict
    except ImportError:
        log.warning("wordfreq is not installed: characters ranked by jieba's counts alone")
        return {}
    out: dict[str, float] = defaultdict(float)
    for word, f in get_frequency_dict("zh", wordlist="large").items():
        if CJK.fullmatch(word):
            for ch in word:
                out[ch] += f
    return dict(out)


def blend(jieba: dict[str, int], other: dict[str, float]) -> dict[str, int]:
    """The geometric mean of two frequency tables, on jieba's scale: where the corpora disagree (jieba counts 施 食
    above 识 视), the character both find common wins. A character only jieba knows keeps its jieba count."""
    if not other:
        return jieba
    scale = sum(jieba.values()) / sum(other.values())
    return {ch: round(math.sqrt(n * other[ch] * scale)) if other.get(ch) else n for ch, n in jieba.items()}


def build_lexicon(max_words: int = DEFAULT_WORDS) -> Lexicon:
    """Build the full index in memory (seconds of CPU; call it off the UI thread)."""
    from pypinyin import Style, lazy_pinyin
    from pypinyin.contrib.tone_convert import to_normal
    from pypinyin.pinyin_dict import pinyin_dict

    rows, surname = _jieba_frequencies()
    freq = dict(rows)
    char_freq = blend(character_frequencies(rows), _wordfreq_characters())
    for ch, n in surname.items():  # what citizens type most at a kiosk is their name
        char_freq[ch] = char_freq.get(ch, 0) + round(SURNAME_WEIGHT * n)
    # Back on the scale of jieba's standalone counts, which words are scored on: the order among characters is
    # the new one, the balance between a character and a word (西安 against 先 for "xian") stays as it was.
    standalone = sum(n for w, n in rows if len(w) == 1 and CJK.fullmatch(w))
    shrink = standalone / max(1, sum(char_freq.values()))
    char_freq = {ch: round(n * shrink) for ch, n in char_freq.items()}
    words = [
        w for w, _ in sorted((r for r in rows if len(r[0]) > 1 and CJK.fullmatch(r[0])), key=lambda r: -r[1])
    ]
    places = place_names()
    chosen = list(
        dict.fromkeys(words[:max_words] + [w for w in ADDRESS_WORDS if len(w) > 1] + sorted(places))
    )

    entries: dict[str, dict[str, int]] = defaultdict(dict)
    # How often each character is read each way inside words: 行 is "hang" in 银行, "xing" in 行政.
    reading_use: dict[tuple[str, str], int] = defaultdict(int)
    for word in chosen:
        syls = lazy_pinyin(word, style=Style.NORMAL)  # phrase-aware default reading; ü comes out as v
        if len(syls) != len(word) or not all(s in SYLLABLES for s in syls):
            continue
        score = max(freq.get(word, 0), ADDRESS_FLOOR if word in ADDRESS_WORDS else 0)
        if word in places:  # what an address field asks for: place names come before words of the same sound
            score = max(score, ADDRESS_FLOOR) * PLACE_BOOST
        key = "'".join(syls)
        entries[key][word] = max(entries[key].get(word, 0), score)
        for ch, s in zip(word, syls, strict=True):
            reading_use[ch, s] += freq.get(word, 0)

    for cp, readings in pinyin_dict.items():
        if not 0x4E00 <= cp <= 0x9FFF:
            continue
        ch = chr(cp)
        syls = [s for s in dict.fromkeys(to_normal(r) for r in readings.split(",")) if s in SYLLABLES]
        if not syls:
            continue
        # Split the character's frequency over its readings by word evidence, with a prior for the first one.
        used = sum(reading_use[ch, s] for s in syls) + 1
        weights = [
            reading_use[ch, s] + used * (FIRST_READING_PRIOR if i == 0 else OTHER_READING_PRIOR)
            for i, s in enumerate(syls)
        ]
        base = max(char_freq.get(ch, 0), ADDRESS_FLOOR if ch in ADDRESS_WORDS else 0) * (
            1.0 if _in_gb2312(ch) else OUTSIDE_GB2312
        )
        for s, w in zip(syls, weights, strict=True):
            entries[s][ch] = max(entries[s].get(ch, 0), round(base * w / sum(weights)))

    out = {k: sorted(v.items(), key=lambda e: (-e[1], e[0])) for k, v in entries.items()}
    return Lexicon(out, stamp=current_stamp(max_words))


def _in_gb2312(ch: str) -> bool:
    try:
        ch.encode("gb2312")
    except UnicodeEncodeError:
        return False
    return True


def load_or_build(
    cache_dir: Path | None, max_words: int = DEFAULT_WORDS, *, subprocess_build: bool = False
) -> Lexicon:
    """The cached index if current, else build (and cache when ``cache_dir`` is given). Blocking."""
    path = cache_dir / CACHE_NAME if cache_dir is not None else None
    if path is not None:
        lex = Lexicon.load(path, current_stamp(max_words))
        if lex is not None:
            return lex
        if subprocess_build and _build_in_child(cache_dir, max_words):  # type: ignore[arg-type]
            lex = Lexicon.load(path, current_stamp(max_words))
            if lex is not None:
                return lex
    lex = build_lexicon(max_words)
    if path is not None:
        try:
            lex.save(path)
        except OSError as err:  # a read-only disk costs a rebuild next start, nothing more
            log.warning("could not cache the pinyin index at %s: %s", path, err)
    return lex


def _build_in_child(cache_dir: Path, max_words: int) -> bool:
    """Build the cache in a child Python: pure-Python work in this process would hold the GIL and stall the UI."""
    cmd = [sys.executable, "-m", "ui.pinyin.lexicon", str(cache_dir), "--words", str(max_words)]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False)
    except (OSError, subprocess.TimeoutExpired) as err:
        log.warning("pinyin index child build failed, building in-process: %s", err)
        return False
    if done.returncode != 0:
        log.warning(
            "pinyin index child build failed (%s), building in-process: %s",
            done.returncode,
            done.stderr[-500:],
        )
    return done.returncode == 0


def load_in_background(
    cache_dir: Path | None,
    on_ready: Callable[[Lexicon], None],
    on_error: Callable[[BaseException], None] | None = None,
    max_words: int = DEFAULT_WORDS,
) -> threading.Thread:
    """Load or build on a daemon thread; ``on_ready(lexicon)`` is called ON THAT THREAD.

    A Kivy caller must hop back to the UI thread itself (``Clock.schedule_once``); CandidateBar.load_lexicon does.
    """

    def work() -> None:
        try:
            lex = load_or_build(cache_dir, max_words, subprocess_build=True)
        except BaseException as err:  # reported, never raised into a dying thread
            log.exception("pinyin index unavailable")
            if on_error is not None:
                on_error(err)
            return
        on_ready(lex)

    t = threading.Thread(target=work, name="pinyin-index", daemon=True)
    t.start()
    return t


def main(argv: list[str]) -> int:
    """``python -m ui.pinyin.lexicon CACHE_DIR [--words N]``: build the cache file (image build, or a child of the kiosk)."""
    import argparse
    import time

    ap = argparse.ArgumentParser(prog="python -m ui.pinyin.lexicon")
    ap.add_argument("cache_dir", type=Path)
    ap.add_argument("--words", type=int, default=DEFAULT_WORDS)
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    lex = build_lexicon(args.words)
    lex.save(args.cache_dir / CACHE_NAME)
    print(
        f"{len(lex)} entries, {len(lex.entries)} keys, built in {time.perf_counter() - t0:.2f} s "
        f"→ {args.cache_dir / CACHE_NAME}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
