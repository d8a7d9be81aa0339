"""Pinyin letters → ranked Chinese candidates. Pure Python (no Kivy, no pypinyin): it only reads an index.

The index maps a key — toneless syllables joined by "'" (``bei'jing``), ü written ``v`` — to
``(text, score)`` pairs sorted best first; :mod:`ui.pinyin.lexicon` builds it.

How a keystroke is answered:

1. The letters are split into syllables in every plausible way (``xian`` → ``xian`` | ``xi'an``),
   the last one allowed to be unfinished (``beij`` → ``bei`` + ``j…``). An apostrophe forces a break.
2. Whole-input matches of every split come first, merged by score: the split with the fewest
   syllables is the primary one; a *word* from a split with more syllables gets a boost, so
   ``xian`` shows 先/县/现 and 西安 on the first page, as phone IMEs do.
3. Then words for the first syllables of the primary split (longest first), so a citizen can
   take 北京 out of ``beijingshi`` and keep typing; :meth:`PinyinEngine.commit` returns the rest.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

# The standard Mandarin syllables, toneless, ü as v (lv, nv, lve, nve; after j/q/x/y it is written u).
# Interjection-only readings (m, n, ng, hm, hng, ê) are left out: as "syllables" they would split
# ordinary input such as "nn" or "ng" into nonsense.
SYLLABLES: frozenset[str] = frozenset(
    """
a ai an ang ao ba bai ban bang bao bei ben beng bi bian biao bie bin bing bo bu ca cai can cang cao ce cen ceng
cha chai chan chang chao che chen cheng chi chong chou chu chua chuai chuan chuang chui chun chuo ci cong cou cu
cuan cui cun cuo da dai dan dang dao de dei den deng di dia dian diao die ding diu dong dou du duan dui dun duo
e ei en eng er fa fan fang fei fen feng fiao fo fou fu ga gai gan gang gao ge gei gen geng gong gou gu gua guai
guan guang gui gun guo ha hai han hang hao he hei hen heng hong hou hu hua huai huan huang hui hun huo ji jia
jian jiang jiao jie jin jing jiong jiu ju juan jue jun ka kai kan kang kao ke kei ken keng kong kou ku kua kuai
kuan kuang kui kun kuo la lai lan lang lao le lei len leng li lia lian liang liao lie lin ling liu lo long lou
lu luan lun luo lv lve ma mai man mang mao me mei men meng mi mian miao mie min ming miu mo mou mu na nai nan
nang nao ne nei nen neng ni nian niang niao nie nin ning niu nong nou nu nuan nun nuo nv nve o ou pa pai pan
pang pao pei pen peng pi pian piao pie pin ping po pou pu qi qia qian qiang qiao qie qin qing qiong qiu qu quan
que qun ran rang rao re ren reng ri rong rou ru rua ruan rui run ruo sa sai san sang sao se sen seng sha shai
shan shang shao she shei shen sheng shi shou shu shua shuai shuan shuang shui shun shuo si song sou su suan sui
sun suo ta tai tan tang tao te tei teng ti tian tiao tie ting tong tou tu tuan tui tun tuo wa wai wan wang wei
wen weng wo wu xi xia xian xiang xiao xie xin xing xiong xiu xu xuan xue xun ya yan yang yao ye yi yin ying yo
yong you yu yuan yue yun za zai zan zang zao ze zei zen zeng zha zhai zhan zhang zhao zhe zhei zhen zheng zhi
zhong zhou zhu zhua zhuai zhuan zhuang zhui zhun zhuo zi zong zou zu zuan zui zun zuo
""".split()
)

# Spellings people type that the index stores differently: "lue"/"nue" are how most phone IMEs accept 略/虐.
ALIASES: dict[str, str] = {"lue": "lve", "nue": "nve"}
_TYPED = SYLLABLES | ALIASES.keys()
MAX_SYLLABLE = max(map(len, _TYPED))

# Every proper prefix of a syllable → the syllables it may become ("j" → ji, jia, …, jun).
COMPLETIONS: dict[str, tuple[str, ...]] = {}
for _s in sorted(_TYPED):
    for _i in range(1, len(_s)):
        COMPLETIONS.setdefault(_s[:_i], ())
        COMPLETIONS[_s[:_i]] += (ALIASES.get(_s, _s),)
COMPLETIONS = {k: tuple(dict.fromkeys(v)) for k, v in COMPLETIONS.items()}

DEFAULT_LIMIT = 60
MAX_SPLITS = 24  # splits considered per input: enough for every real ambiguity, bounded for latency
MAX_KEYS = 400  # index keys probed per split (two unfinished syllables can mean 37 × 37 keys)
ALT_WORD_BOOST = (
    3.0  # a whole-input word from a split with more syllables than the primary one (xi'an vs xian)
)
ALT_SAME_LENGTH = 0.5  # another split with as many syllables (fan'gan vs fang'an): below the greedy reading
ALT_UNFINISHED = (
    0.001  # a split that leaves a syllable unfinished when the primary one needs none (xi'n… for xin)
)
EXTEND_LAST = 0.05  # reading a finished last syllable as the start of a longer one (beijin → 北京)


class Index(Protocol):
    """What the engine needs of a lexicon."""

    ready: bool

    def lookup(self, key: str) -> Sequence[tuple[str, int]]: ...


@dataclass(frozen=True)
class Piece:
    """One syllable of a split: its canonical spelling, where it ends in the input, and whether it is unfinished."""

    text: str
    end: int
    partial: bool = False


@dataclass(frozen=True)
class Candidate:
    """A candidate and how many characters of the (normalised) input it consumes."""

    text: str
    consumed: int
    whole: bool  # matches all the input


def normalise(letters: str) -> str:
    """Lower-case letters and apostrophes only; ü → v (the keyboard sends upper case; a stray digit is dropped)."""
    out = letters.lower().replace("ü", "v")
    return "".join(ch for ch in out if ("a" <= ch <= "z") or ch == "'")


def _split_chunk(chunk: str, offset: int) -> Iterator[tuple[Piece, ...]]:
    """Every way to read ``chunk`` as syllables (the last may be unfinished), longest syllables first."""
    n = len(chunk)
    # done[i]: chunk[i:] can be read to the end. Computed first so the search below never enters a dead end
    # (without it "xianxianxianqq" would try 2^k splits before failing).
    done = [False] * (n + 1)
    done[n] = True
    for i in range(n - 1, -1, -1):
        done[i] = chunk[i:] in COMPLETIONS or any(
            chunk[i:j] in _TYPED and done[j] for j in range(i + 1, min(n, i + MAX_SYLLABLE) + 1)
        )

    def rec(i: int) -> Iterator[tuple[Piece, ...]]:
        if i == n:
            yield ()
            return
        for j in range(min(n, i + MAX_SYLLABLE), i, -1):
            s = chunk[i:j]
            if s in _TYPED and done[j]:
                for rest in rec(j):
                    yield (Piece(ALIASES.get(s, s), offset + j), *rest)
        if chunk[i:] in COMPLETIONS and chunk[i:] not in _TYPED:
            yield (Piece(chunk[i:], offset + n, partial=True),)

    return rec(0)


def split(letters: str) -> list[tuple[Piece, ...]]:
    """The plausible splits of normalised ``letters``, primary (fewest syllables, greedy) first; [] if none."""
    per_chunk: list[list[tuple[Piece, ...]]] = []
    pos = 0
    for chunk in letters.split("'"):
        if chunk:
            found = list(itertools.islice(_split_chunk(chunk, pos), MAX_SPLITS))
            if not found:
                return []
            per_chunk.append(found)
        pos += len(chunk) + 1
    if not per_chunk:
        return []
    combos = [
        tuple(itertools.chain.from_iterable(c))
        for c in itertools.islice(itertools.product(*per_chunk), MAX_SPLITS)
    ]
    # Stable sort: fewest syllables first, then fewest unfinished ones; ties keep the greedy order.
    combos.sort(key=lambda pieces: (len(pieces), sum(p.partial for p in pieces)))
    return combos


def _keys(pieces: Sequence[Piece], extend_last: bool) -> list[tuple[str, float]]:
    """Index keys for ``pieces`` with a score factor each (an unfinished syllable fans out into its completions)."""
    options: list[list[tuple[str, float]]] = []
    for i, p in enumerate(pieces):
        if p.partial:
            options.append([(s, 1.0) for s in COMPLETIONS[p.text]])
        elif extend_last and i == len(pieces) - 1:
            options.append([(p.text, 1.0)] + [(s, EXTEND_LAST) for s in COMPLETIONS.get(p.text, ())])
        else:
            options.append([(p.text, 1.0)])
    out = []
    for combo in itertools.islice(itertools.product(*options), MAX_KEYS):
        factor = 1.0
        for _, f in combo:
            factor *= f
        out.append(("'".join(s for s, _ in combo), factor))
    return out


def _scored(
    entries: Iterable[tuple[str, int]], factor: float, consumed: int, whole: bool, word_factor: float = 1.0
) -> Iterator[tuple[float, str, int, bool]]:
    # Keys of a heap merge: ascending, so the score is negated. Sorted inputs stay sorted under a constant factor,
    # except the word boost, which only applies to multi-character texts (so the caller gives it its own stream).
    for text, score in entries:
        f = factor * (word_factor if len(text) > 1 else 1.0)
        yield (-score * f, text, consumed, whole)


class PinyinEngine:
    """Candidates for typed pinyin. ``candidates()`` remembers its last answer so ``commit()`` knows what each consumes.

    Thread use: call it from one thread (the UI thread). :meth:`set_lexicon` may be called from that thread
    while it is idle; the swap is a single attribute assignment, so a lookup in progress keeps the old index.
    """

    def __init__(self, lexicon: Index) -> None:
        self.lexicon = lexicon
        self._letters = ""
        self._last: dict[str, Candidate] = {}

    @property
    def ready(self) -> bool:
        """False while only the small built-in set is loaded (the full index is still being built or loaded)."""
        return bool(getattr(self.lexicon, "ready", True))

    def set_lexicon(self, lexicon: Index) -> None:
        self.lexicon = lexicon
        self._letters, self._last = "", {}

    # --- the two calls a keyboard needs ------------------------------------------------------------------
    def candidates(self, letters: str, limit: int = DEFAULT_LIMIT) -> list[str]:
        """Candidate texts for ``letters``, best first: whole-input matches, then matches of the first syllables."""
        found = self.lookup(letters, limit)
        self._letters = normalise(letters)
        self._last = {c.text: c for c in found}
        return [c.text for c in found]

    def commit(self, candidate: str, letters: str | None = None) -> str:
        """The letters left after ``candidate`` is chosen (leading apostrophes dropped).

        ``letters`` defaults to the input of the last :meth:`candidates` call; ValueError if the candidate
        is not one of that input's.
        """
        norm = self._letters if letters is None else normalise(letters)
        cand = self._last.get(candidate) if norm == self._letters else None
        if cand is None:
            cand = next((c for c in self.lookup(norm, 10 * DEFAULT_LIMIT) if c.text == candidate), None)
        if cand is None:
            raise ValueError(f"{candidate!r} is not a candidate for {norm!r}")
        rest = norm[cand.consumed :].lstrip("'")
        self._letters, self._last = "", {}
        return rest

    def segment(self, letters: str) -> str:
        """The primary split, for display ("beijingsh" → "bei'jing'sh"); the input itself if it does not split."""
        norm = normalise(letters)
        splits = split(norm)
        if not splits:
            return norm
        return "'".join(p.text for p in splits[0])

    # --- the search -------------------------------------------------------------------------------------------
    def lookup(self, letters: str, limit: int = DEFAULT_LIMIT) -> list[Candidate]:
        """Like :meth:`candidates` but with what each candidate consumes; no state is kept."""
        norm = normalise(letters)
        lex = self.lexicon  # one reference for the whole search, whatever set_lexicon does meanwhile
        splits = split(norm)
        if not splits:
            return self._leading(lex, norm, limit)
        primary = splits[0]
        primary_unfinished = any(p.partial for p in primary)
        streams: list[Iterator[tuple[float, str, int, bool]]] = []
        for i, pieces in enumerate(splits):
            factor, word_factor = 1.0, 1.0
            if i > 0:
                if any(p.partial for p in pieces) and not primary_unfinished:
                    factor = ALT_UNFINISHED
                elif len(pieces) > len(primary):
                    word_factor = ALT_WORD_BOOST
                else:
                    factor = ALT_SAME_LENGTH
            for key, f in _keys(pieces, extend_last=len(pieces) > 1 and i == 0):
                entries = lex.lookup(key)
                if not entries:
                    continue
                if word_factor != 1.0:  # boosted words and unboosted characters are two sorted streams
                    streams.append(
                        _scored(
                            (e for e in entries if len(e[0]) > 1), factor * f, len(norm), True, word_factor
                        )
                    )
                    streams.append(
                        _scored((e for e in entries if len(e[0]) == 1), factor * f, len(norm), True)
                    )
                else:
                    streams.append(_scored(entries, factor * f, len(norm), True))
        out: list[Candidate] = []
        seen: set[str] = set()
        self._take(heapq.merge(*streams), out, seen, limit)
        # Then the first syllables of the primary split, longest first: 北京 for "beijingshi", then 北.
        for k in range(len(primary) - 1, 0, -1):
            if len(out) >= limit:
                break
            head = primary[:k]
            sub = [
                _scored(lex.lookup(key), f, head[-1].end, False) for key, f in _keys(head, extend_last=False)
            ]
            self._take(heapq.merge(*sub), out, seen, limit)
        return out

    def _leading(self, lex: Index, norm: str, limit: int) -> list[Candidate]:
        """Input that does not split to the end ("beijingqq"): offer what its longest finished start spells."""
        for cut in range(len(norm) - 1, 0, -1):
            head = norm[:cut]
            if head.endswith("'"):
                continue
            splits = [s for s in split(head) if not any(p.partial for p in s)]
            if splits:
                return [Candidate(c.text, c.consumed, False) for c in self.lookup(head, limit)]
        return []

    @staticmethod
    def _take(
        merged: Iterable[tuple[float, str, int, bool]], out: list[Candidate], seen: set[str], limit: int
    ) -> None:
        for _neg, text, consumed, whole in merged:
            if len(out) >= limit:
                return
            if text not in seen:
                seen.add(text)
                out.append(Candidate(text, consumed, whole))
