"""12345 政务服务便民热线 at the kiosk: a question, complaint, suggestion, praise or report.

The citizen taps the kind, taps common topics and/or types the content (pinyin keyboard with the candidate bar)
or writes it (手写 pad, :mod:`ui.handwriting`, as on the form),
gives a mobile number for the reply and the follow-up call, and sends it: SubmitHotlineTicket through the outbox
(:mod:`kiosk.tickets`), a receipt number at once and the ticket number when 12345 has it, on screen and on the
printed receipt. With a card read the ticket carries the applicant, so it is listed under 我的诉求 with the reply.
From a case it names that case.
"""

from __future__ import annotations

from typing import Any

from kivy.properties import BooleanProperty, ListProperty, ObjectProperty, StringProperty

from ui.handwriting import HandwritingPad  # noqa: F401 - registers the pad hotline.kv uses
from ui.pinyin.candidates import CandidateBar
from ui.pinyin.engine import PinyinEngine
from ui.screens import KioskScreen
from ui.screens.mail import character_prior
from ui.widgets import ChoiceButton

KINDS = ("CONSULT", "COMPLAINT", "SUGGESTION", "PRAISE", "REPORT")
MAX_TEXT = 200  # what is typed on the kiosk; topics come on top (the platform takes 500 in all)


def _topics() -> dict[str, tuple[str, str]]:
    from kiosk.tickets import TOPICS

    return TOPICS


class HotlineScreen(KioskScreen):
    screen_name = "hotline"
    card_removal = "keep"
    kind = StringProperty("")
    topics = ListProperty([])
    text = StringProperty("")
    phone = StringProperty("")
    focus = StringProperty("")  # "text" / "phone" / ""
    case_number = StringProperty("")  # set when opened from a case
    receipt = ObjectProperty(None, allownone=True)
    sent = BooleanProperty(False)
    handwriting = BooleanProperty(False)  # the content by 手写 rather than the keyboard
    hw_prior = ObjectProperty(None, allownone=True)

    def on_kv_post(self, _base: Any) -> None:
        app = self.app
        self.bar = CandidateBar(PinyinEngine(app.pinyin_lexicon), target=self)
        kb = self.ids.keyboard
        kb.bar = self.bar
        kb.bind(chinese=self._sync_bar)
        self.bind(focus=self._sync_bar, handwriting=self._sync_bar)
        app.bind(lang=self._on_lang, pinyin_lexicon=self._on_lexicon)
        self._on_lang()

    def _on_lexicon(self, _app: Any, lexicon: Any) -> None:
        self.bar.set_lexicon(lexicon)
        self.hw_prior = None  # recomputed from the full index when the pad is next shown

    def toggle_handwriting(self) -> None:
        """手写 <-> keyboard for the content."""
        self.bar.commit_raw()
        self.handwriting = not self.handwriting
        if self.handwriting and self.hw_prior is None:
            self.hw_prior = character_prior(self.app)
        self.ids.handwriting.clear()
        self.focus = "text"

    def _on_lang(self, *_: Any) -> None:
        self.bar.preparing_text = self.app.t("ime.preparing")
        self.bar.hint_text = self.app.t("ime.hint")
        self.ids.keyboard.chinese = self.app.lang == "zh"
        self._build_choices()

    def refresh(self) -> None:
        if not self.sent:
            self.phone = self.phone or self.app.known_phone()
            self._build_choices()

    def _build_choices(self) -> None:
        kinds, topics = self.ids.kinds, self.ids.topics
        kinds.clear_widgets()
        topics.clear_widgets()
        for k in KINDS:
            b = ChoiceButton(text=self.app.t(f"ticket.kind.{k}"), value=k, selected=k == self.kind)
            b.bind(on_release=lambda w: self.choose_kind(w.value))
            kinds.add_widget(b)
        en = self.app.lang == "en"
        for code, (zh, en_label) in _topics().items():
            b = ChoiceButton(text=en_label if en else zh, value=code, selected=code in self.topics)
            b.bind(on_release=lambda w: self.toggle_topic(w.value))
            topics.add_widget(b)

    def choose_kind(self, kind: str) -> None:
        self.kind = kind
        self.error = ""
        self._build_choices()

    def toggle_topic(self, code: str) -> None:
        self.topics = [t for t in self.topics if t != code] if code in self.topics else [*self.topics, code]
        self._build_choices()

    # --- typing ----------------------------------------------------------------------
    def set_focus(self, what: str) -> None:
        self.bar.commit_raw()
        self.ids.handwriting.clear()
        self.focus = what

    def _sync_bar(self, *_: Any) -> None:
        area, bar, kb = self.ids.input_area, self.bar, self.ids.keyboard
        show = self.focus == "text" and kb.chinese and not self.handwriting
        if show and bar.parent is None:
            area.add_widget(bar, index=area.children.index(kb) + 1)
        elif not show and bar.parent is not None:
            bar.commit_raw()
            area.remove_widget(bar)

    def insert_text(self, text: str) -> None:
        self.text = (self.text + text)[:MAX_TEXT]

    def on_key(self, key: str) -> None:
        attr, limit = ("phone", 11) if self.focus == "phone" else ("text", MAX_TEXT)
        value = getattr(self, attr)
        if key == "back":
            value = value[:-1]
        elif key == "clear":
            value = ""
        elif key == "space":
            value += " "
        elif len(value) < limit:
            value += key
        setattr(self, attr, value)
        self.error = ""

    # --- sending ---------------------------------------------------------------------
    def send(self) -> None:
        self.bar.commit_raw()
        ident = self.app.session.identity
        self.app.call(
            self.app.rt.feedback.submit_ticket,
            self.kind,
            self.phone,
            list(self.topics),
            self.text,
            identity=ident,
            case_number=self.case_number or None,
            on_done=self._sent,
        )

    def _sent(self, receipt: Any) -> None:
        self.app.remember_phone(self.phone)
        self.receipt = receipt
        self.sent = True
        self.focus = ""
        self.app.call(
            self.app.rt.citizen.print_receipt,
            self.app.rt.feedback.ticket_receipt_lines(receipt),
            None,
            busy=False,
            on_done=lambda _r: None,
            on_error=lambda _e: None,
        )

    def result_text(self) -> str:
        r: Any = self.receipt
        if r is None:
            return ""
        t = self.app.t
        lines = [t(r.text_key)]
        if r.reference:
            lines.append(t("hotline.ticket_number", number=r.reference))
            days = r.detail.get("promised_reply_days")
            if days:
                lines.append(t("ticket.promised", days=days))
        else:
            lines.append(t("hotline.receipt_number", number=r.receipt_number))
        return "\n".join(lines)

    def on_leave(self, *_: Any) -> None:
        if self.sent:  # the next visit starts a new request (the phone stays for this person's session)
            self.kind = self.text = self.focus = self.case_number = ""
            self.topics = []
            self.receipt = None
            self.sent = False

    def wipe(self) -> None:
        super().wipe()
        self.bar.clear()
        self.ids.handwriting.clear()  # the person's ink is their data too
        self.handwriting = False
        self.kind = self.text = self.phone = self.focus = self.case_number = ""
        self.topics = []
        self.receipt = None
        self.sent = False
        self.ids.keyboard.chinese = self.app.session.default_language == "zh"
