"""The matters screen: 一件事 bundles first, then single matters, and a search box (pinyin initials, keywords).

The list shows one page of rows and a "show more" row, so a province's catalog of thousands of matters draws in
one frame (``python -m bench matters_screen``); the search box is how a citizen reaches the rest. The search runs
on the UI thread as each key is pressed (:mod:`kiosk.matter_search` answers in a few ms). In Chinese mode the
pinyin still being typed searches too: "lnr" finds 老年人优待证 before any character is chosen.
"""

from __future__ import annotations

from typing import Any

from kivy.properties import BooleanProperty, NumericProperty, ObjectProperty, StringProperty

from kiosk.guides import fee_text, promised_text
from kiosk.platform_models import Bundle, Matter
from ui.pinyin.candidates import CandidateBar
from ui.pinyin.engine import PinyinEngine
from ui.screens import KioskScreen
from ui.widgets import KLabel, ListRow, SecondaryButton

PAGE = 10  # rows drawn at a time: about a screenful, drawn within the 300 ms budget on this hardware
MAX_QUERY = 20
MEMBERS_CHARS = 20  # a bundle row's member list, cut: a long CJK line costs more to wrap than the whole row


class SectionLabel(KLabel):
    """A heading between the bundles and the single matters."""


class MattersScreen(KioskScreen):
    screen_name = "matters"
    empty = BooleanProperty(False)
    query = StringProperty("")  # committed search text (letters or characters)
    pending = StringProperty("")  # pinyin typed and not yet turned into characters (the bar's letters)
    typing = BooleanProperty(False)  # the search keyboard is up
    hits = NumericProperty(-1)  # -1: no search; else how many rows the search found
    offer = ObjectProperty(None, allownone=True)  # hallkiosk.services.filing.MatterOffer

    def on_kv_post(self, _base: Any) -> None:
        app = self.app
        self._items: list[Matter | Bundle | str] = []
        self._shown = 0
        self._built_for: tuple[str, str] | None = None  # (language, search) the rows were built for
        self._pool: dict[type, list[Any]] = {}  # row widgets by class, reused from one drawing to the next
        self._used: dict[type, int] = {}
        self._nav: Any = None  # the paging button on show (see _more)
        self.bar = CandidateBar(PinyinEngine(app.pinyin_lexicon), target=self)
        self.bar.bind(letters=self._on_letters)
        kb = self.ids.keyboard
        kb.bar = self.bar
        kb.bind(chinese=self._sync_bar)
        app.bind(lang=self._on_lang, pinyin_lexicon=lambda _a, lex: self.bar.set_lexicon(lex))
        self._on_lang()

    def _on_lang(self, *_: Any) -> None:
        self.bar.preparing_text = self.app.t("ime.preparing")
        self.bar.hint_text = self.app.t("ime.hint")
        self.ids.keyboard.chinese = self.app.lang == "zh"
        if self.offer is not None and self.manager and self.manager.current == self.name:
            self._search()  # titles in the new language

    def refresh(self) -> None:
        # The offer the runtime already has draws at once (no worker round trip: entering the screen costs one
        # frame); the runtime is asked as well, in the background, in case the catalog has changed since.
        cached = self.app.rt.filing.offer_cached()
        if cached is not None:
            self.show_offer(cached)
        else:
            self.offer = None
            self._clear_rows()
            self.empty = False
        self.app.call(self.app.rt.filing.matter_offer, busy=cached is None, on_done=self.show_offer)

    def show_offer(self, offer: Any) -> None:
        if offer is self.offer and self._built_for == (self.app.lang, self.search_text()):
            return  # the rows on screen show this already (back from a guide): keep them, and the scroll place
        self.offer = offer
        self.empty = not offer.matters and not offer.bundles
        self._search()

    # --- the search box ----------------------------------------------------------
    def _on_letters(self, _bar: Any, letters: str) -> None:
        self.pending = letters
        self._search()

    def search_text(self) -> str:
        """What is searched: the committed text, plus pinyin still being typed when the text is letters too."""
        letters = self.bar.letters.replace("'", "")
        return self.query + letters if self.query.isascii() else self.query

    def open_keyboard(self) -> None:
        self.typing = not self.typing
        if not self.typing:
            self.bar.commit_raw()
        self._sync_bar()

    def _sync_bar(self, *_: Any) -> None:
        area, bar, kb = self.ids.input_area, self.bar, self.ids.keyboard
        show = self.typing and kb.chinese
        if show and bar.parent is None:
            area.add_widget(bar, index=area.children.index(kb) + 1)
        elif not show and bar.parent is not None:
            bar.commit_raw()
            area.remove_widget(bar)

    def insert_text(self, text: str) -> None:
        """The candidate bar's choice (or letters committed raw) joins the query."""
        self.query = (self.query + text)[:MAX_QUERY]
        self._search()

    def on_key(self, key: str) -> None:
        if key == "back":
            self.query = self.query[:-1]
        elif key == "clear":
            self.query = ""
        elif key == "space":
            return  # the index ignores spaces
        else:
            self.query = (self.query + key.lower())[:MAX_QUERY]
        self._search()

    def clear_search(self) -> None:
        self.bar.clear()
        self.query = ""
        self._search()

    def _search(self) -> None:
        offer = self.offer
        if offer is None:
            return
        q = self.search_text()
        if not q:
            self.hits = -1
            items: list[Matter | Bundle | str] = []
            if offer.bundles:
                items += ["matters.bundles", *offer.bundles, "matters.single"]
            items += list(offer.matters)
        else:
            found = offer.index.search(q, limit=100)
            items = [
                x
                for x in (
                    (offer.bundle(h.code) if h.kind == "bundle" else offer.matter(h.code)) for h in found
                )
                if x is not None
            ]
            self.hits = len(items)
        self._items = items
        self._built_for = (self.app.lang, q)
        self._clear_rows()
        self._more()

    # --- rows ----------------------------------------------------------------------
    def _clear_rows(self, keep_shown: bool = False) -> None:
        self.ids.rows.clear_widgets()
        self._used = {}
        if not keep_shown:
            self._shown = 0
        self.ids.scroll.scroll_y = 1

    def _more(self, *_: Any) -> None:
        box = self.ids.rows
        if self._shown and box.children and isinstance(box.children[0], SecondaryButton):
            box.remove_widget(box.children[0])  # the old "show more" row
        elder = self.app.elder
        if elder and self._shown:
            # Elder mode pages instead of growing the list: never more than four choices on the screen.
            self._clear_rows(keep_shown=True)
        end = min(len(self._items), self._shown + self.app.page_size(PAGE))
        for item in self._items[self._shown : end]:
            box.add_widget(self._row(item))
        self._shown = end
        left = len(self._items) - end
        if left > 0:
            more = SecondaryButton(text=self.app.t("matters.next_page" if elder else "matters.more", n=left))
            more.bind(on_release=self._more)
            box.add_widget(more)
            self._nav = (
                more  # held: in elder mode its own tap removes it, while the touch is still being handled
            )
        elif elder and end > self.app.page_size(PAGE):
            first = SecondaryButton(text=self.app.t("matters.first_page"))
            first.bind(on_release=lambda *_: (self._clear_rows(), self._more()))
            box.add_widget(first)
            self._nav = first

    def _row(self, item: Matter | Bundle | str) -> Any:
        t, en = self.app.t, self.app.lang == "en"
        if isinstance(item, str):
            return self._pooled(SectionLabel, text=t(item))
        title = item.name_en if en and item.name_en else item.name
        if isinstance(item, Bundle):
            names = [
                m.name_en if en and m.name_en else m.name
                for c in item.member_codes
                if (m := self.offer.matter(c)) is not None
            ]
            # The members' names, cut to one line: a long wrapped CJK line costs more to lay out than the row.
            shown = ("; " if en else "、").join(names)
            if len(shown) > MEMBERS_CHARS:
                shown = shown[: MEMBERS_CHARS - 1] + "…"
            return self._pooled(
                ListRow,
                title=t("matters.bundle_tag") + title,
                ref=item,
                detail=t("matters.members", n=len(names), names=shown),
            )
        fee, days = fee_text(item.fee, item.fee_note), promised_text(item)
        return self._pooled(
            ListRow,
            title=title,
            ref=item,
            detail=f"{t(days.key, **days.params)} · {t(fee.key, **fee.params)}",
        )

    def _pooled(self, cls: type, **props: Any) -> Any:
        """A row widget from the pool, or a new one: building a row (its kv rules, two labels) is most of the cost
        of drawing this screen, so the rows of one drawing are reused by the next (a search, a visit)."""
        pool = self._pool.setdefault(cls, [])
        used = self._used.setdefault(cls, 0)
        if used < len(pool):
            w = pool[used]
            for k, v in props.items():
                setattr(w, k, v)
        else:
            w = cls(**props)
            if cls is ListRow:
                w.bind(on_release=self._chosen)
            pool.append(w)
        self._used[cls] = used + 1
        return w

    def rows(self) -> list[Any]:
        """The rows on screen, top first (for tests)."""
        return list(reversed(self.ids.rows.children))

    def _chosen(self, row: Any) -> None:
        self.bar.commit_raw()
        self.typing = False
        self._sync_bar()
        item = row.ref
        if isinstance(item, Bundle):
            self.app.go("guide", kind="bundle", code=item.code, subject=item)
        else:
            self.app.go("guide", kind="matter", code=item.code, subject=item)

    def on_pre_leave(self, *_: Any) -> None:
        self.bar.commit_raw()

    def wipe(self) -> None:
        super().wipe()
        self.bar.clear()  # a search is the person's data too
        self.query = ""
        self.typing = False
        self._sync_bar()
        self.hits = -1
        self.offer = None
        self._items = []
        self._built_for = None
        self.ids.keyboard.chinese = self.app.session.default_language == "zh"
        self._clear_rows()
