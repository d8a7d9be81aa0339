"""The Kivy application: header, screens, the inactivity warning, card events, language and text size.

Import only after :func:`ui.bootstrap.configure` (this module imports Kivy's window).
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kivy.app import App
from kivy.clock import Clock
from kivy.core.window import Window
from kivy.lang import Builder
from kivy.properties import BooleanProperty, NumericProperty, ObjectProperty, StringProperty
from kivy.uix.screenmanager import NoTransition, ScreenManager

from hallkiosk.runtime import PlatformStatus, Runtime
from kiosk import session as session_rules
from kiosk.errors import KioskError
from kiosk.identity import Identity
from kiosk.ports import CardEvent
from kiosk.session import KioskSession
from ui import TECH_SHELL_EXIT, theme
from ui.card_away import CardAway
from ui.i18n import Catalogue
from ui.pinyin.lexicon import Lexicon, load_in_background, seed_lexicon
from ui.screens import SCREENS, KioskScreen
from ui.watchdog import UiWatchdog
from ui.widgets import InactivityWarning

log = logging.getLogger(__name__)
UI_DIR = Path(__file__).parent
# Screens for staff and technicians: no help button, no voice (they are not the people the voice guides).
TAKE_CARD_EVERY_S = 15.0  # the take-your-card reminder repeats this often while the card stays in
STAFF_SCREENS = frozenset(
    {"pin", "staff", "staff_deposit", "staff_collect", "staff_compartments", "tech", "staff_commands"}
)


ELDER_PAGE = 4  # 适老化: at most four choices on a screen
ELDER_KEY_SCALE = 1.15  # keys and buttons in elder mode (text is 1.3x, as the larger-text toggle)


class KioskApp(App):
    """One per process. ``idle_clock`` is injectable so the inactivity test need not wait a minute."""

    lang = StringProperty("zh")
    large_text = BooleanProperty(False)
    elder = BooleanProperty(False)  # 长辈模式 for this session: see set_elder
    fs_title = NumericProperty(30)
    fs_body = NumericProperty(20)
    fs_small = NumericProperty(16)
    fs_huge = NumericProperty(48)
    target = NumericProperty(60)
    big_target = NumericProperty(90)
    key = NumericProperty(60)
    pad = NumericProperty(10)
    gap = NumericProperty(15)  # between buttons: theme.GAP_MM
    hall_name = StringProperty("")
    clock_text = StringProperty("")
    simulated_text = StringProperty("")
    platform_down = BooleanProperty(False)
    busy = BooleanProperty(False)
    # A citizen's screen (not staff, technician or their PIN): the header offers help and the voice controls.
    citizen_screen = BooleanProperty(True)
    muted = BooleanProperty(False)  # the voice bar's mute, for this session only
    voice_available = BooleanProperty(False)  # a sound output to speak on: the voice bar shows
    take_card = BooleanProperty(
        False
    )  # "请取回您的身份证/社保卡" on show in the header (and said) while a card stays in
    # The pinyin index every candidate bar uses: the small seed set until the full one is loaded (load_pinyin).
    pinyin_lexicon = ObjectProperty(None)

    def __init__(
        self, runtime: Runtime, *, idle_clock: Callable[[], float] = time.monotonic, **kw: Any
    ) -> None:
        super().__init__(**kw)
        self.title = "Hall Kiosk"
        self.rt = runtime
        self.cfg = runtime.cfg
        self.idle_clock = idle_clock
        self.catalogue = Catalogue()
        k = self.cfg.kiosk
        self.session = KioskSession(
            default_language=k.default_language,
            warning_after_s=k.inactivity_warning_s,
            countdown_s=k.inactivity_countdown_s,
        )
        self.lang = k.default_language
        self._warning: InactivityWarning | None = None
        self.card_away = CardAway()
        self.cards_present: set[str] = set()  # readers holding a card now (as their events said)
        # Readers whose card was already in when the last session ended: that card is the previous person's
        # until it is lifted, so it identifies nobody (defect 2); the identify screen asks for it to be put back.
        self.stale_cards: set[str] = set()
        self._take_card_ev: Any = None
        self.watchdog = UiWatchdog()
        self.exit_code = 0  # what `kiosk run` returns (TECH_SHELL_EXIT after "exit to a technician shell")
        self.pinyin_lexicon = seed_lexicon()
        self._apply_sizes()
        self.bind(large_text=lambda *_: self._apply_sizes(), elder=lambda *_: self._apply_sizes())

    # --- strings and sizes ----------------------------------------------------
    def t(self, key: str, *_deps: Any, **params: Any) -> str:
        """The text for ``key`` in the current language. kv passes ``app.lang`` as a dependency so it rebinds."""
        return self.catalogue.t(key, self.lang, **params)

    def _apply_sizes(self) -> None:
        s = theme.Sizes(self.dpi(), 1.3 if self.large_text else 1.0, ELDER_KEY_SCALE if self.elder else 1.0)
        # fs_body first: KLabel's class rule binds it, and a subclass or instance rule that binds another size
        # (TitleLabel's fs_title) must be set after it, or the last binding to fire shrinks every title to body size.
        self.fs_body = s.fs_body
        self.fs_title, self.fs_small, self.fs_huge = s.fs_title, s.fs_small, s.fs_huge
        self.target, self.big_target, self.key, self.pad = s.target, s.big_target, s.key, s.pad
        self.gap = s.gap

    def dpi(self) -> float:
        """Pixels per inch as drawn: the screen's, times the scale of a window shrunk to fit a smaller display
        (ui.bootstrap.window_scale), so the layout is the kiosk's own, only smaller."""
        from ui.bootstrap import window_scale

        return self.cfg.ui.screen_dpi * window_scale()

    def min_target_px(self) -> float:
        return theme.Sizes(self.dpi()).mm(theme.MIN_TARGET_MM)

    def set_language(self, lang: str) -> None:
        self.lang = lang
        self.session.language = lang  # type: ignore[assignment]
        self.touch()

    def toggle_language(self) -> None:
        langs = self.cfg.kiosk.languages
        self.set_language(
            langs[(langs.index(self.lang) + 1) % len(langs)] if self.lang in langs else langs[0]
        )

    def set_elder(self, on: bool) -> None:
        """长辈模式, one tap on the start screen, kept until the session ends: larger text and keys, lists four
        items a page (page_size), twice the inactivity time, slower speech."""
        self.elder = on
        self.session.elder = on
        self.voice.slow = on
        if self.large_text != on:
            self.toggle_large_text()
        self._apply_sizes()
        self.touch()
        self.say(self.t("elder.on" if on else "elder.off"))

    # --- what this person already told the kiosk ----------------------------------------
    def known_phone(self) -> str:
        """The phone number this person already gave in this session (a form, the 12345 request, a mail address):
        every later phone field starts with it (defect 7 of issue 12). Wiped with the session (scratch)."""
        return str(self.session.scratch.get("phone", ""))

    def remember_phone(self, phone: str) -> None:
        """Keep a phone number that passed its field's check, for the next phone field of this session."""
        from kiosk.privacy import PHONE

        if phone and PHONE.fullmatch(phone.strip()):
            self.session.scratch["phone"] = phone.strip()

    def page_size(self, usual: int) -> int:
        """Items a list or menu shows at once: its usual page, at most four in elder mode (keypads excepted)."""
        return min(usual, ELDER_PAGE) if self.elder else usual

    def toggle_large_text(self) -> None:
        self.large_text = not self.large_text
        self.session.large_text = self.large_text
        self.touch()

    # --- build ----------------------------------------------------------------
    def build(self) -> Any:
        Window.clearcolor = theme.BG
        if self.cfg.ui.fullscreen:
            Window.bind(on_request_close=lambda *_: True)  # only the technician's shutdown ends a kiosk
        Builder.load_file(str(UI_DIR / "widgets.kv"))
        CardAway.load_kv()
        root = Builder.load_file(str(UI_DIR / "root.kv"))
        self.sm: ScreenManager = root.ids.sm
        self.sm.transition = NoTransition()  # animations confuse some older users and slow the tests
        self._screen_classes = {cls.screen_name: cls for cls in SCREENS}
        # Only the start screen is built before the first frame; the others follow one per frame afterwards
        # (or at once when someone navigates to them first): this halves the time to the first frame.
        self.get_screen("start")
        k = self.cfg.kiosk
        self.hall_name = k.hall
        self.simulated_text = ", ".join(self.rt.simulated)
        Window.bind(on_touch_down=self._on_any_touch)
        self.rt.set_poster(lambda fn: Clock.schedule_once(lambda _dt: fn(), 0))
        self.voice_available = self.voice.audible and getattr(self.voice.out, "name", "null") != "null"
        self.rt.add_card_listener(self._card_seen)
        self.rt.add_card_listener(self.on_card)
        self.rt.add_status_listener(self._on_platform_status)
        Clock.schedule_interval(self._tick, 0.5)
        self._tick(0)
        return root

    def on_start(self) -> None:
        self.session.touch(self.idle_clock())
        # Start the core after the first frame is on the glass: its imports and start-up would otherwise
        # compete with the first frame for the interpreter lock. Taps meanwhile wait in Runtime.run.
        Window.bind(on_flip=self._first_flip)

    def _first_flip(self, *_: Any) -> None:
        Window.unbind(on_flip=self._first_flip)
        self.watchdog.ready()  # systemd (Type=notify): up, and pinged from this loop from now on
        self.rt.start()
        self.load_pinyin()
        Clock.schedule_once(self._build_one_more, 0)

    def load_pinyin(self) -> None:
        """Load the full pinyin index on a worker thread into ``pinyin_lexicon``; the seed set serves meanwhile.

        The index is cached in the data directory; the first start builds it in a child process (a few seconds),
        which is also why this starts after the first frame, like the core."""

        def ready(lex: Lexicon) -> None:
            Clock.schedule_once(lambda _dt: self._pinyin_ready(lex), 0)  # back on the UI thread

        load_in_background(self.cfg.data_dir / "cache", ready)

    def _pinyin_ready(self, lex: Lexicon) -> None:
        log.info("pinyin index ready: %d entries", len(lex))
        self.pinyin_lexicon = lex

    def _build_one_more(self, _dt: float) -> None:
        missing = [n for n in self._screen_classes if not self.sm.has_screen(n)]
        if missing:
            self.get_screen(missing[0])
            Clock.schedule_once(self._build_one_more, 0)

    def get_screen(self, name: str) -> KioskScreen:
        """The screen called ``name``, built (with its .kv) on first use."""
        if not self.sm.has_screen(name):
            cls = self._screen_classes[name]
            Builder.load_file(str(cls.kv_path()))
            scr = cls(name=name)
            scr.bind(error=self._speak_error)
            self.sm.add_widget(scr)
        return self.sm.get_screen(name)  # type: ignore[return-value]

    def quit_to_shell(self) -> None:
        """End the app with TECH_SHELL_EXIT: the kiosk session (packaging/session) then opens a terminal."""
        self.exit_code = TECH_SHELL_EXIT
        self.stop()

    def on_stop(self) -> None:
        self.watchdog.stopping()
        self.rt.stop()

    # --- navigation -----------------------------------------------------------
    def go(self, name: str, **params: Any) -> None:
        """Show screen ``name``; ``params`` become its properties before it enters."""
        scr = self.get_screen(name)
        for k, v in params.items():
            setattr(scr, k, v)
        self.sm.current = name
        self.rt.screen_name = name  # the console's kiosk row shows which screen (issue 14)
        self.citizen_screen = name not in STAFF_SCREENS
        self.speak_screen()

    # --- help and voice ---------------------------------------------------------
    def request_help(self) -> None:
        """The "呼叫帮助 / Get help" button: the help screen raises the request as it opens."""
        current = self.sm.current
        if current == "help":
            self.screen.refresh()  # asked again: the request is repeated (one task), the answer refreshed
            return
        self.go("help", from_screen=current)

    @property
    def voice(self) -> Any:
        return self.rt.voice

    def speak_screen(self) -> None:
        """Say what the shown screen says (its ``spoken()`` segments), in the session's language."""
        if self.citizen_screen:
            self.say(self.screen.spoken())

    def say(self, parts: str | list[str]) -> None:
        """Say something on the current citizen screen (a state change: a wrong code, a door left open)."""
        if self.citizen_screen and parts:
            self.voice.say(self.sm.current, parts, self.lang)

    def _speak_error(self, scr: Any, text: str) -> None:
        # A message that appears on the screen in front of the citizen is also said (tries left, a door fault).
        if text and scr is self.screen:
            self.say(text)

    def repeat(self) -> None:
        self.voice.repeat()

    def louder(self) -> None:
        self.voice.louder()
        self.muted = self.voice.muted
        self.voice.repeat()  # hear the new level at once

    def softer(self) -> None:
        self.voice.softer()
        self.voice.repeat()

    def toggle_mute(self) -> None:
        self.voice.set_muted(not self.voice.muted)
        self.muted = self.voice.muted

    # --- the card left behind -------------------------------------------------------
    def _card_seen(self, ev: CardEvent) -> None:
        if ev.kind in ("inserted", "identified"):
            self.cards_present.add(ev.reader)
        elif ev.kind in ("removed", "reader_lost"):
            self.cards_present.discard(ev.reader)
            self.stale_cards.discard(ev.reader)
            if not self.cards_present:
                self._stop_take_card()

    def remind_take_card(self, first: list[str] | None = None) -> None:
        """ "请取回您的身份证/社保卡", said now (after ``first``, in one utterance) and again gently every
        TAKE_CARD_EVERY_S while a card stays in. No card in a reader: only ``first`` is said."""
        if not self.cards_present:
            if first:
                self.say(first)
            return
        self.say([*(first or []), self.t("voice.take_card")])
        self.take_card = True
        if self._take_card_ev is None:
            self._take_card_ev = Clock.schedule_interval(
                lambda _dt: self._take_card_again(), TAKE_CARD_EVERY_S
            )

    def _take_card_again(self) -> None:
        if not self.cards_present or self.session.identified:
            self._stop_take_card()
        else:
            self.say(self.t("voice.take_card"))

    def _stop_take_card(self) -> None:
        self.take_card = False
        if self._take_card_ev is not None:
            self._take_card_ev.cancel()
            self._take_card_ev = None

    @property
    def screen(self) -> KioskScreen:
        return self.sm.current_screen  # type: ignore[return-value]

    def home(self) -> None:
        self.go("start")

    # --- background calls -----------------------------------------------------
    def call(
        self,
        fn: Callable[..., Any],
        *args: Any,
        on_done: Callable[[Any], None] | None = None,
        on_error: Callable[[BaseException], None] | None = None,
        busy: bool = True,
        **kwargs: Any,
    ) -> None:
        """Run ``fn`` on a worker; results for a session that has since been wiped are dropped."""
        gen = self.session.generation
        if busy:
            self.busy = True

        def done(result: Any) -> None:
            self.busy = False
            if gen == self.session.generation and on_done is not None:
                on_done(result)

        def failed(err: BaseException) -> None:
            self.busy = False
            if gen != self.session.generation:
                return
            if on_error is not None:
                on_error(err)
            else:
                self.show_error(err)

        self.rt.run(fn, *args, on_done=done, on_error=failed, **kwargs)

    def error_text(self, err: BaseException) -> str:
        key = err.citizen_key if isinstance(err, KioskError) else "error.generic"
        params = dict(err.citizen_params) if isinstance(err, KioskError) else {}
        when = getattr(err, "when", None)  # a lookup the platform cannot answer now: when it last answered
        if callable(when):
            params["when"] = when(self.cfg.kiosk.tz) or ""
        params.setdefault("when", "")
        if "wait_s" in params:  # a wait in the core's seconds, said the way a person reads one
            params["wait"] = self.wait_text(int(params.pop("wait_s")))  # type: ignore[call-overload]
        return self.t(key, cabinet=getattr(err, "cabinet_id", ""), **params)

    def wait_text(self, seconds: int) -> str:
        """A wait as read aloud: "30 秒", "2 分钟", "3 小时 20 分钟" (rounded up: never promise less than it is)."""
        seconds = max(1, seconds)
        if seconds < 60:
            return self.t("time.second" if seconds == 1 else "time.seconds", n=seconds)
        minutes = -(-seconds // 60)
        if minutes < 60:
            return self.t("time.minute" if minutes == 1 else "time.minutes", n=minutes)
        return self.t("time.hours", h=minutes // 60, m=minutes % 60)

    def show_error(self, err: BaseException) -> None:
        log.warning("shown to the user: %s", type(err).__name__)
        self.screen.error = self.error_text(err)

    # --- activity and the session's end ------------------------------------------
    def touch(self) -> None:
        self.session.touch(self.idle_clock())

    def _on_any_touch(self, _win: Any, _touch: Any) -> None:
        # Returning None lets the touch go on to the widgets.
        self.touch()

    def _tick(self, _dt: float) -> None:
        self.clock_text = dt.datetime.now(self.cfg.kiosk.tz).strftime("%Y-%m-%d %H:%M")
        if self.card_away.active:
            # The card notice has its own countdown; the idle timer starts afresh once the card is back.
            self._close_warning()
            self.touch()
            if self.card_away.tick(self.idle_clock()):
                log.info("card not put back: session ended")
                self.reset_session()
            return
        held = self.screen.holds_session
        if not self._has_something_to_lose() or self.busy or held:
            # Nothing to wipe, a platform call in flight, or a door open for this person (the door screen
            # reminds them to close it): a reset now would orphan the flow and lose its receipt.
            if not self.busy:
                self.touch()
            self._close_warning()
            return
        phase = self.session.phase(self.idle_clock())
        if phase == "expired":
            log.info("inactivity timeout: session wiped")
            self.reset_session()
        elif phase == "warning":
            if self._warning is None:
                self._warning = InactivityWarning()
                self._warning.bind(on_dismiss=lambda *_: self._forget_warning())
                self._warning.open(animation=False)
            self._warning.seconds_left = self.session.countdown_left(self.idle_clock())
        else:
            self._close_warning()

    def _has_something_to_lose(self) -> bool:
        s = self.session
        return (
            self.sm.current != "start"
            or not s.is_blank()
            or self.lang != s.default_language
            or self.large_text
        )

    def _forget_warning(self) -> None:
        self._warning = None

    def _close_warning(self) -> None:
        if self._warning is not None:
            w, self._warning = self._warning, None
            w.dismiss(animation=False)

    def stay(self) -> None:
        """The user answered the warning."""
        self.touch()
        self._close_warning()

    def start_again(self) -> None:
        """ "返回首页 / Start again": the person's details are wiped as at any session end, but the same person is
        still at the screen, so the language, the text size and 长辈模式 they chose stay (defect 7 of issue 12).
        The inactivity reset and "Finish" (reset_session) still give the next person the defaults."""
        self.reset_session(keep=(self.lang, self.large_text, self.elder))

    def reset_session(self, keep: tuple[str, bool, bool] | None = None) -> None:
        """Wipe the person's data from the session and from every screen, then show the start screen.

        ``keep``: (language, larger text, elder mode) to carry over, for the same person starting again."""
        self._close_warning()
        self.card_away.close()
        self.session.wipe(self.idle_clock())
        for scr in self.sm.screens:
            scr.wipe()  # type: ignore[attr-defined]
        lang, large, elder = keep or (self.session.language, False, False)
        self.session.language, self.session.large_text, self.session.elder = lang, large, elder  # type: ignore[assignment]
        self.lang = lang
        self.large_text = large
        self.elder = elder
        self.busy = False
        self.voice.new_session()  # the next person starts with the default volume and the sound on
        self.voice.slow = elder
        self.muted = False
        self._stop_take_card()
        self.stale_cards = set(self.cards_present)
        self.go("start")
        self.remind_take_card()

    # --- card events (already on the main thread) ------------------------------
    def on_card(self, ev: CardEvent) -> None:
        self.touch()
        route = session_rules.route_card_event(
            ev.kind,
            ev.reader,
            has_identity=ev.identity is not None,
            stale=ev.reader in self.stale_cards,
            identified=self.session.identified,
            is_staff=self.session.is_staff,
            session_reader=self.session.card_reader,
        )
        if route == "stale":
            # Read again without being lifted (a reader reconnecting re-reads what lies on it): still the
            # previous session's card, never this one's identity.
            log.info("card left from the previous session on %s: not used", ev.reader)
            assert ev.identity is not None
            ev.identity.wipe()
            return
        if route == "staff_mode":
            assert ev.identity is not None
            ev.identity.wipe()  # a citizen card in staff mode is not used and not kept
            return
        if route == "identified":
            assert ev.identity is not None
            self._identified(ev.identity, ev.reader)
        elif route == "badge":
            self._on_badge(ev)
            return
        elif route == "removed":
            self._card_removed()
            return
        handler = getattr(self.screen, "on_card_event", None)
        if handler is not None:
            handler(ev)

    def _identified(self, identity: Identity, reader: str) -> None:
        old = self.session.identity
        same = session_rules.same_card(old, identity)
        do = session_rules.on_identified(
            same=same,
            had_identity=old is not None,
            holds_session=self.screen.holds_session,
            card_away=self.card_away.active,
        )
        if do.refuse:
            # Someone else's card while a door stands open for this person: the open flow comes first.
            log.info("another card while a door is open: not used")
            identity.wipe()
            return
        if self.card_away.active:
            log.info(
                "card put back: session resumed"
                if same
                else "another card after the card was lifted: session ended"
            )
        if do.resume:
            self.card_away.close()
        if do.reset:
            self.reset_session()  # another person's card: nothing of the previous person may stay on any screen
        if do.keep_old and old is not None:
            # The session keeps the copy it has (a worker may be using it); the fresh duplicate goes at once.
            identity.wipe()
            identity = old
        self.session.identify(identity, reader, self.idle_clock())

    def _card_removed(self) -> None:
        """A card left the reader. What that means depends on the card and on what the screen is doing."""
        ident = self.session.identity
        what = session_rules.on_removed(
            has_identity=ident is not None,
            card_away=self.card_away.active,
            holds_session=self.screen.holds_session,
            policy=self.screen.card_removal,
            pad=ident is not None and session_rules.on_pad(ident),
        )
        if what == "nothing" or ident is None:
            return
        if what == "wipe_keep_screen":
            # A door is open for them, or the outcome is on show: the card's job is done. Its data goes now;
            # the screen stays so they can close the door and see their receipt or result.
            log.info("card removed: identity wiped, %s screen kept", self.sm.current)
            ident.wipe()
            self.session.identity = None
            self.session.card_reader = None
        elif what == "ask_back":
            log.info("card lifted off the pad: asking for it back")
            self._close_warning()
            self.card_away.begin(ident, self.idle_clock())
        else:
            log.info("card removed: identified session ended")
            self.reset_session()

    def _on_badge(self, ev: CardEvent) -> None:
        if not self.rt.is_staff_badge(ev.badge_uid):
            self.screen.error = self.t("staff.badge_unknown")
            return
        if self.rt.staff_pin_required():
            self.go("pin", role="staff", badge=ev.badge_uid or "")
        else:
            self.enter_staff("staff", ev.badge_uid or "badge")

    def enter_staff(self, role: str, staff_id: str) -> None:
        self._close_warning()
        self.card_away.close()  # a citizen's notice has no business over the staff screens
        for scr in self.sm.screens:
            scr.wipe()  # type: ignore[attr-defined]
        staff_id = self.rt.staff_id_of(
            staff_id
        )  # a badge of the hall's staff directory: its staff id (issue 14)
        self.session.enter_staff(role, staff_id, self.idle_clock())  # type: ignore[arg-type]
        who = f"{role}:{staff_id[-4:]}"  # the badge's last digits name the person in the audit, never a name
        self.rt.run(lambda: self.rt.app.audit(who, f"{role}.enter"))
        self.go("staff" if role == "staff" else "tech")

    def start_assist(self, mode: str) -> None:
        """帮办代办: signed-in staff hand the kiosk to the citizen they help. The staff session ends here; the
        citizen identifies with their own card and files as usual, and confirms consent on the review screen."""
        staff_id = self.rt.filing.assist_staff_id(self.session.staff_id)
        if staff_id is None:
            self.screen.error = self.t("error.assist_staff")
            return
        assist = {"staff_id": staff_id, "mode": mode}
        self.rt.run(lambda: self.rt.filing.audit_assist(assist, "start"))
        self.reset_session()
        self.session.scratch["assist"] = assist
        self.go("identify", next_screen="matters")

    def _on_platform_status(self, st: PlatformStatus) -> None:
        self.platform_down = st.reachable is False
