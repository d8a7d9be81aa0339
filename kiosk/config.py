"""The kiosk's configuration: one TOML file, validated at start-up.

Every error names the file, the key path and what is allowed, on one line.
Secrets (the platform password) never live in this file: they come from an
environment variable or a 0600 file named here.
"""

from __future__ import annotations

import ipaddress
import os
import re
import ssl
import stat
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from kiosk.cabinet_layout import check_cabinets
from kiosk.clock import DEFAULT_TZ, StaffedHours
from kiosk.errors import ConfigError
from kiosk.lockboard_families import FAMILY, MAX_ADDRESS, MAX_CHANNELS, MIN_ADDRESS, Family
from kiosk.printable import printable

DEFAULT_CONFIG = Path(__file__).with_name("default.toml")
MAX_CONFIG_BYTES = 1 << 20  # a kiosk.toml is a few KiB; more is not a configuration


class _Strict(BaseModel):
    # strict: a quoted "60", a "yes" or a 0 for a switch, a 2.0 for a count are typos in a file a technician
    # edits by hand, and lax mode would quietly coerce them. Strict mode still takes a TOML integer for a
    # float setting (``timeout_s = 10``), the one coercion that loses nothing.
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


def _int_only(allowed: str) -> BeforeValidator:
    """Literal[0, 1] matches ``true`` and ``1.0`` by equality, even in strict mode; only an integer is meant."""

    def check(v: object) -> object:
        if isinstance(v, bool | float):
            raise PydanticCustomError(
                "int_type", "Input should be {allowed} (an integer)", {"allowed": allowed}
            )
        return v

    return BeforeValidator(check)


PositiveS = Annotated[float, Field(gt=0, le=3600)]
Bit = Annotated[Literal[0, 1], _int_only("0 or 1")]


class KioskSection(_Strict):
    id: Annotated[str, Field(pattern=r"^[A-Z0-9\-]{4,32}$")]
    hall: Annotated[str, Field(min_length=1, max_length=80)]
    hall_en: str = ""
    languages: list[Literal["zh", "en"]] = ["zh", "en"]
    default_language: Literal["zh", "en"] = "zh"
    data_dir: str = "var"
    # The hall secret (ID hashes, code HMACs, sealed payloads): one file shared by every kiosk of a hall on one
    # database, copied to each. Empty: <data_dir>/secret.key. KIOSK_SECRET_FILE overrides it.
    secret_file: str = ""
    timezone: str = DEFAULT_TZ  # IANA name; times people read (SMS, receipts, screen) are in it
    inactivity_warning_s: Annotated[float, Field(ge=10, le=600)] = 60
    inactivity_countdown_s: Annotated[float, Field(ge=5, le=120)] = 15
    technician_pin_env: str = "KIOSK_TECH_PIN"
    staff_pin_env: str = "KIOSK_STAFF_PIN"
    staff_badges: list[Annotated[str, Field(pattern=r"^[0-9A-F]{8,20}$")]] = []

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("must be an IANA time zone name such as Asia/Shanghai") from None
        return v

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class CompartmentConfig(_Strict):
    label: Annotated[str, Field(pattern=r"^[A-Z][0-9]{2,3}$")]
    size: Literal["S", "M", "L"]
    board: Annotated[int, Field(ge=MIN_ADDRESS, le=MAX_ADDRESS)]  # each family's own range: CabinetConfig
    channel: Annotated[int, Field(ge=1, le=MAX_CHANNELS)]


class CabinetConfig(_Strict):
    id: Annotated[str, Field(pattern=r"^[A-Z0-9\-]{2,32}$")]
    bus: Annotated[
        str, Field(min_length=1)
    ]  # a pyserial URL or device path; "sim" runs the built-in simulator
    family: Family
    baud: Annotated[int, Field(ge=1200, le=921600)] | None = None  # None: the family's default
    boards: Annotated[list[Annotated[int, Field(ge=MIN_ADDRESS, le=MAX_ADDRESS)]], Field(min_length=1)]
    channels_per_board: Annotated[Literal[12, 16, 24, 48], _int_only("12, 16, 24 or 48")] = 16
    # Site settings from lockboards.md, checked by a technician on the real hardware.
    hook_closed_level: Bit = 1  # kerong-cu: hook bit value meaning "door closed"
    item_present_level: Bit = 1  # kerong-cu: item sensor bit value meaning "item present"
    has_item_sensors: bool = True
    closed_status: Literal["11", "00"] = "11"  # generic-8a: ST byte meaning "door closed"
    reply_timeout_s: PositiveS | None = None  # None: the family's default
    open_timeout_s: PositiveS | None = None
    open_poll_interval_s: Annotated[float, Field(gt=0, le=5)] = 0.15
    retries: Annotated[int, Field(ge=0, le=5)] = 2
    close_timeout_s: Annotated[float, Field(gt=0, le=3600)] = 120
    compartments: Annotated[list[CompartmentConfig], Field(min_length=1)]

    @model_validator(mode="after")
    def _check_compartments(self) -> CabinetConfig:
        for i, b in enumerate(self.boards):
            if b in self.boards[:i]:
                raise ValueError(f"boards: board {b} is listed twice; list each board address once")
        seen_labels: set[str] = set()
        seen_slots: dict[tuple[int, int], str] = {}
        for i, c in enumerate(self.compartments):
            where = f"compartments[{i}]"
            if c.label in seen_labels:
                raise ValueError(f"{where}.label: {c.label} is used twice; each label must be unique")
            seen_labels.add(c.label)
            if c.board not in self.boards:
                raise ValueError(f"{where}.board: board {c.board} is not in boards {self.boards}")
            if c.channel > self.channels_per_board:
                raise ValueError(
                    f"{where}.channel: {c.channel} is above channels_per_board {self.channels_per_board}"
                )
            slot = (c.board, c.channel)
            if slot in seen_slots:
                raise ValueError(
                    f"{where}: board {c.board} channel {c.channel} is already mapped to {seen_slots[slot]};"
                    " each lock drives one compartment"
                )
            seen_slots[slot] = c.label
        facts = FAMILY[self.family]
        bad = [b for b in self.boards if b not in facts.addresses]
        if bad:
            raise ValueError(
                f"boards: {self.family} addresses are {facts.min_address}-{facts.max_address}, got {bad}"
            )
        if self.channels_per_board not in facts.channel_counts:
            counts = " or ".join(str(n) for n in facts.channel_counts)
            raise ValueError(f"channels_per_board: {self.family} boards have {counts} channels")
        return self


class CardReaderConfig(_Strict):
    kind: Literal["pcsc", "ga467", "sim"]
    name: str = ""  # pcsc: a regular expression matched against reader names; ga467: a label
    url: str = ""  # ga467: the serial port as a pyserial URL
    role: Literal["citizen", "staff", "any"] = "any"

    @model_validator(mode="after")
    def _check(self) -> CardReaderConfig:
        if self.kind == "ga467" and not self.url:
            raise ValueError("url: a ga467 reader needs its serial port URL, e.g. /dev/ttyUSB1")
        if self.kind == "pcsc":
            try:
                re.compile(self.name or ".")
            except re.error as err:
                raise ValueError(f"name: not a valid regular expression: {err}") from None
        return self


class PlatformConfig(_Strict):
    endpoint: Annotated[str, Field(min_length=1)] = "sim"  # "sim": the built-in simulator on loopback
    username: Annotated[str, Field(min_length=1)] = "kiosk"
    password_env: str = "KIOSK_PLATFORM_PASSWORD"  # noqa: S105 - the variable's name, not a password
    password_file: str = ""
    ca_file: str = ""  # PEM bundle of the CAs trusted for the platform's certificate; empty: the default CAs
    region_code: str = ""
    # "1.1" sends header.interfaceVersion and uses what 1.1 added; "1.0" pins a kiosk where the province has not
    # upgraded: no header, no 1.1 operations or elements (guides, bundles, tickets ... are then off, said plainly).
    interface_version: Literal["1.0", "1.1"] = "1.1"
    timeout_s: Annotated[float, Field(gt=0, le=120)] = 10
    connect_timeout_s: Annotated[float, Field(gt=0, le=60)] = 5
    heartbeat_interval_s: Annotated[float, Field(ge=5, le=3600)] = 60
    outbox_backoff_initial_s: Annotated[float, Field(gt=0, le=600)] = 2
    outbox_backoff_max_s: Annotated[float, Field(gt=0, le=86400)] = 600
    outbox_max_attempts: Annotated[int, Field(ge=1, le=100000)] = 1000
    max_clock_skew_s: Annotated[float, Field(gt=0, le=3600)] = 60

    @model_validator(mode="after")
    def _backoff(self) -> PlatformConfig:
        if self.outbox_backoff_max_s < self.outbox_backoff_initial_s:
            raise ValueError(
                f"outbox_backoff_max_s: {self.outbox_backoff_max_s:g} is below outbox_backoff_initial_s"
                f" {self.outbox_backoff_initial_s:g}; the cap must be at least the first wait"
            )
        return self

    @field_validator("endpoint")
    @classmethod
    def _endpoint(cls, v: str) -> str:
        if v == "sim":
            return v
        if not re.match(r"^https?://", v):
            raise ValueError("must be 'sim' or an http(s):// URL")
        try:
            host = urlsplit(v).hostname
        except ValueError:  # e.g. an unclosed [IPv6 bracket
            host = None
        if not host:
            raise ValueError("no host name in the URL")
        # kiosk-platform.md: HTTPS in production; plain HTTP only for a test endpoint on a private address.
        if v.startswith("http://") and not _private_host(host):
            raise ValueError(
                "plain HTTP only for a test endpoint on a private address (platform rules); "
                f"use https:// ({host} is not a private address)"
            )
        return v

    @field_validator("ca_file")
    @classmethod
    def _ca_file(cls, v: str) -> str:
        if not v:
            return v
        # Absolute only: this model does not know where the config file is, and a path relative to
        # whatever directory the kiosk was started in would work in testing and fail under systemd.
        if not os.path.isabs(v):
            raise ValueError(f"must be an absolute path, not {v}")
        if not (os.path.isfile(v) and os.access(v, os.R_OK)):
            raise ValueError(f"{v} is not an existing readable file")
        try:  # caught here rather than on the first request, where it would read as "platform unavailable"
            ssl.create_default_context(cafile=v)
        except ssl.SSLError:
            raise ValueError(
                f"{v} holds no PEM certificate: give the CA certificate(s) in PEM form"
            ) from None
        return v


def _private_host(host: str) -> bool:
    """localhost, or a loopback or private IP literal (what the simulator and a test platform use)."""
    if host.lower().rstrip(".") == "localhost":
        return True
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return False  # a host name: DNS could send it anywhere
    return ip.is_private or ip.is_loopback


class PickupConfig(_Strict):
    code_digits: Annotated[int, Field(ge=6, le=10)] = 6
    expiry_days: Annotated[float, Field(gt=0, le=90)] = 7
    # Wrong codes are counted hall-wide (every kiosk on one database) and cost growing waits, not a lockout
    # (kiosk.cabinet.codes.CodeGuard): free_wrong_codes within delay_window_s, then first_delay_s doubling up to
    # max_delay_s. wrong_codes_per_day is the hall's budget for guessing: never more in any 24 h, lifts or not.
    free_wrong_codes: Annotated[int, Field(ge=1, le=20)] = 3
    first_delay_s: Annotated[float, Field(ge=1, le=600)] = 30
    max_delay_s: Annotated[float, Field(ge=10, le=3600)] = 900
    delay_window_s: Annotated[float, Field(ge=600, le=86400)] = 3600
    wrong_codes_per_day: Annotated[int, Field(ge=10, le=500)] = 500
    # How often the runtime looks for PICKUP_REMINDERs that fell due (two days before a code expires): a quarter
    # of an hour is prompt enough for a two-day window, and the query (this kiosk's ready parcels) is cheap.
    reminders_interval_s: Annotated[float, Field(ge=1, le=86400)] = 900

    @model_validator(mode="before")
    @classmethod
    def _replaced(cls, data: Any) -> Any:
        # The per-kiosk lockout's settings: name what replaced them instead of pydantic's "extra inputs".
        old = (
            sorted({"max_wrong_codes", "wrong_code_window_s", "lockout_s"} & set(data))
            if isinstance(data, dict)
            else []
        )
        if old:
            raise ValueError(
                f"{', '.join(old)}: replaced by free_wrong_codes, first_delay_s, max_delay_s, delay_window_s "
                "and wrong_codes_per_day (hall-wide waits, not a per-kiosk lockout); see kiosk.example.toml"
            )
        return data


class StorageConfig(_Strict):
    url: str = ""  # empty: SQLite file kiosk.db in the data directory
    busy_timeout_ms: Annotated[int, Field(ge=100, le=120000)] = 5000
    # How long staff's typed reasons and notes are kept (kiosk.notes): they may hold a name, so not for ever.
    notes_retention_days: Annotated[int, Field(ge=1, le=3650)] = 365


class PrinterConfig(_Strict):
    kind: Literal["none", "sim", "escpos-usb", "escpos-serial", "escpos-network"] = "sim"
    target: str = (
        ""  # sim: the receipts directory (default <data_dir>/receipts); escpos-*: where the printer is
    )

    @model_validator(mode="after")
    def _target(self) -> PrinterConfig:
        # Checked here, not at the first receipt: drivers/printer reads target only when it prints.
        if self.kind in _PRINTER_TARGETS:
            pattern, what = _PRINTER_TARGETS[self.kind]
            if not re.fullmatch(pattern, self.target):
                got = f"got {self.target!r}" if self.target else "it is missing"
                raise ValueError(f"target: an {self.kind} printer needs {what} ({got})")
        return self


_PRINTER_TARGETS = {  # kind: (what drivers/printer/escpos_printer.py can use, how to say it)
    "escpos-usb": (
        r"(0x)?[0-9A-Fa-f]{1,4}:(0x)?[0-9A-Fa-f]{1,4}",
        "its USB vendor:product, e.g. 0x0416:0x5011",
    ),
    "escpos-serial": (r"\S+", "its serial device, e.g. /dev/ttyUSB2"),
    "escpos-network": (r"[^:\s]+(:[0-9]{1,5})?", "its host[:port], e.g. 10.1.2.3:9100"),
}


class StaffConfig(_Strict):
    """One hall staff member: the badge they sign in with and their staff id (sent as 帮办 ``staffId``, audited).

    A hall staff directory (the console's) can replace this list later; one identity either way."""

    badge: Annotated[str, Field(pattern=r"^[0-9A-F]{8,20}$")]
    id: Annotated[str, Field(pattern=r"^[A-Za-z0-9\-]{2,32}$")]


class UiConfig(_Strict):
    fullscreen: bool = True
    screen_dpi: Annotated[float, Field(ge=50, le=600)] = 96
    font: str = ""  # empty: look for a CJK font in the usual places
    width: Annotated[int, Field(ge=320, le=7680)] = 1080
    height: Annotated[int, Field(ge=240, le=4320)] = 1920


class HelpConfig(_Strict):
    """The "Get help" button: the hall's own hotline and when staff are in the hall (local time)."""

    hotline: Annotated[str, Field(pattern=r"^[0-9\-]{3,20}$")] | Literal[""] = ""  # empty: 12345 only
    staffed_hours: str = "08:30-17:30"

    @field_validator("staffed_hours")
    @classmethod
    def _hours(cls, v: str) -> str:
        StaffedHours.parse(v)
        return v


class VoiceConfig(_Strict):
    """Voice guidance (espeak-ng, offline). ``output``: "alsa" (aplay; no sound card -> silent, logged),
    "wav" (each utterance written to ``wav_dir``, for tests and a kiosk without speakers), "null"."""

    enabled: bool = True
    output: Literal["alsa", "wav", "null"] = "alsa"
    alsa_device: str = ""  # empty: ALSA's default device
    wav_dir: str = ""
    words_per_minute: Annotated[int, Field(ge=80, le=300)] = 150
    volume_step: Annotated[int, Field(ge=0, le=4)] = 3  # 0..4; each citizen starts here

    @model_validator(mode="after")
    def _wav_dir(self) -> VoiceConfig:
        if self.output == "wav" and not self.wav_dir:
            raise ValueError('wav_dir: output = "wav" needs a directory to write to')
        return self


class ConsoleSection(_Strict):
    """The hall console (``kiosk console``) and the status rows kiosks write for it."""

    host: str = "127.0.0.1"  # anything but loopback needs tls_cert and tls_key
    port: Annotated[int, Field(ge=0, le=65535)] = 8470
    tls_cert: str = ""  # PEM certificate (chain) file
    tls_key: str = ""  # its private key (PEM), readable by the console's user only
    session_idle_min: Annotated[float, Field(ge=1, le=480)] = 30
    session_max_h: Annotated[float, Field(ge=0.1, le=72)] = 12
    max_failed_logins: Annotated[int, Field(ge=1, le=50)] = 5
    lockout_min: Annotated[float, Field(ge=1, le=1440)] = 15
    login_attempts_per_minute: Annotated[int, Field(ge=1, le=1000)] = 30  # per client address, any account
    status_interval_s: Annotated[float, Field(ge=1, le=300)] = 5  # how often each kiosk writes its status row

    @model_validator(mode="after")
    def _tls(self) -> ConsoleSection:
        if bool(self.tls_cert) != bool(self.tls_key):
            raise ValueError("tls_cert: give both tls_cert and tls_key, or neither")
        for name in ("tls_cert", "tls_key"):
            v = getattr(self, name)
            if v and not os.path.isabs(v):
                raise ValueError(f"{name}: must be an absolute path, not {v}")
        if not self.tls_cert and not _loopback(self.host):
            raise ValueError(
                f"host: {self.host} is reachable from the network; a console there needs tls_cert and "
                "tls_key (without them it listens on 127.0.0.1 only)"
            )
        return self


def _loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Config(_Strict):
    kiosk: KioskSection
    storage: StorageConfig = StorageConfig()
    cabinets: list[CabinetConfig] = []
    card_readers: list[CardReaderConfig] = []
    platform: PlatformConfig = PlatformConfig()
    pickup: PickupConfig = PickupConfig()
    printer: PrinterConfig = PrinterConfig()
    ui: UiConfig = UiConfig()
    voice: VoiceConfig = VoiceConfig()
    help: HelpConfig = HelpConfig()
    staff: list[StaffConfig] = []
    console: ConsoleSection = ConsoleSection()

    # Not part of the file: where the file was, for relative paths.
    source: str = Field(default="", exclude=True)

    @model_validator(mode="before")
    @classmethod
    def _staff_badges(cls, data: object) -> object:
        """A [[staff]] badge may sign in: it joins kiosk.staff_badges (the one list sign-in reads)."""
        if (
            not isinstance(data, dict)
            or not isinstance(data.get("staff"), list)
            or not isinstance(data.get("kiosk"), dict)
        ):
            return data
        badges = data["kiosk"].get("staff_badges", [])
        if not isinstance(badges, list):
            return data  # its own error names it
        extra = [
            s["badge"]
            for s in data["staff"]
            if isinstance(s, dict)
            and isinstance(s.get("badge"), str)
            and re.fullmatch(r"[0-9A-F]{8,20}", s["badge"])
            and s["badge"] not in badges
        ]
        if extra:
            data = {**data, "kiosk": {**data["kiosk"], "staff_badges": [*badges, *extra]}}
        return data

    @model_validator(mode="after")
    def _unique(self) -> Config:
        check_cabinets(self.cabinets)
        seen_badges: dict[str, int] = {}
        seen_ids: dict[str, int] = {}
        for i, s in enumerate(self.staff):
            if s.badge in seen_badges:
                raise ValueError(
                    f"staff[{i}].badge: {s.badge} is already staff[{seen_badges[s.badge]}]'s; "
                    "one badge, one staff member"
                )
            if s.id in seen_ids:
                raise ValueError(
                    f"staff[{i}].id: {s.id} is already staff[{seen_ids[s.id]}]'s; staff ids are unique"
                )
            seen_badges[s.badge] = i
            seen_ids[s.id] = i
        return self

    def staff_id_of(self, badge_uid: str | None) -> str | None:
        """The staff id of a badge ([[staff]]), or None: a badge without one may sign in but not file 帮办."""
        uid = (badge_uid or "").upper()
        return next((s.id for s in self.staff if s.badge == uid), None)

    @property
    def data_dir(self) -> Path:
        base = Path(self.source).parent if self.source else Path.cwd()
        return (base / os.path.expanduser(self.kiosk.data_dir)).resolve()

    @property
    def secret_path(self) -> Path:
        if os.environ.get("KIOSK_SECRET_FILE"):
            return Path(os.environ["KIOSK_SECRET_FILE"])
        if self.kiosk.secret_file:
            base = Path(self.source).parent if self.source else Path.cwd()
            return (base / os.path.expanduser(self.kiosk.secret_file)).resolve()
        return self.data_dir / "secret.key"

    @property
    def storage_url(self) -> str:
        return self.storage.url or f"sqlite:///{self.data_dir / 'kiosk.db'}"

    def platform_password(self) -> str | None:
        """The platform password from the environment or a 0600 file; None where neither is set."""
        p = self.platform
        if p.password_env and os.environ.get(p.password_env):
            return os.environ[p.password_env]
        if p.password_file:
            path = Path(p.password_file)
            if not path.is_absolute():
                path = Path(self.source).parent / path
            try:
                st = path.stat()
            except OSError as err:
                raise ConfigError(
                    f"{self.source}: platform.password_file: cannot read {path}: {err.strerror}"
                ) from err
            if st.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
                raise ConfigError(
                    f"{self.source}: platform.password_file: {path} is readable by others; chmod 600 it"
                )
            return path.read_text(encoding="utf-8").strip()
        return None


def _loc(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + part
    return out


def _describe(err: dict) -> str:
    kind = err["type"]
    ctx = err.get("ctx") or {}
    if kind == "extra_forbidden":
        return "unknown key (see kiosk.example.toml for the allowed keys)"
    if kind == "missing":
        return "required key is missing"
    if kind == "value_error":
        return str(ctx.get("error", err["msg"]))
    return err["msg"]


def _nul_at(value: object, where: str = "") -> str | None:
    """The key path of the first string holding a NUL byte, else None."""
    if isinstance(value, str):
        return where if "\0" in value else None
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for k, v in items:
        found = _nul_at(v, f"{where}[{k}]" if isinstance(k, int) else f"{where}.{k}" if where else str(k))
        if found is not None:
            return found
    return None


def parse_config(data: dict, source: str) -> Config:
    """Validate a parsed TOML document; raise ConfigError with one line per problem (first line is the first)."""
    if "source" in data:
        raise ConfigError(f"{source}: source: unknown key (see kiosk.example.toml for the allowed keys)")
    if (where := _nul_at(data)) is not None:
        # Every path, URL and name reaches the OS or a driver, which would fail on it with a bare ValueError.
        raise ConfigError(f"{source}: {where}: contains a NUL byte (\\u0000)")
    try:
        cfg = Config.model_validate(data)
    except ValidationError as err:
        lines = []
        for e in err.errors():
            msg = _describe(e)
            loc = _loc(tuple(e["loc"]))
            # Model validators put their own key path at the front of the message.
            if e["type"] == "value_error" and re.match(r"^[a-z_]+[\[.:]", msg):
                loc = f"{loc}.{msg.split(':', 1)[0]}" if loc else msg.split(":", 1)[0]
                msg = msg.split(":", 1)[1].strip()
            lines.append(f"{source}: {loc or '(top level)'}: {msg}")
        raise ConfigError("\n".join(lines)) from None
    return cfg.model_copy(update={"source": source})


def load_config(path: str | os.PathLike[str] | None = None) -> Config:
    """Load and validate the TOML file at ``path`` (the built-in simulator config when None)."""
    p = Path(path) if path is not None else DEFAULT_CONFIG
    if "\0" in str(p):
        raise ConfigError(f"{printable(str(p))}: a path cannot contain a NUL byte")
    try:
        # Only a regular file: a FIFO would block for ever, /dev/zero would never end.
        fd = os.open(p, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        raise ConfigError(
            f"{printable(str(p))}: the configuration file does not exist",
            hint="Pass --config PATH or copy kiosk.example.toml.",
        ) from None
    except OSError as err:
        raise ConfigError(
            f"{printable(str(p))}: cannot read the configuration file: {err.strerror}"
        ) from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise ConfigError(f"{printable(str(p))}: not a regular file; the configuration is a TOML file")
        if st.st_size > MAX_CONFIG_BYTES:
            raise ConfigError(
                f"{printable(str(p))}: {st.st_size} bytes; a configuration is at most "
                f"{MAX_CONFIG_BYTES} bytes"
            )
        with os.fdopen(os.dup(fd), "rb") as fh:
            raw = fh.read(MAX_CONFIG_BYTES + 1)
    except OSError as err:
        raise ConfigError(
            f"{printable(str(p))}: cannot read the configuration file: {err.strerror}"
        ) from None
    finally:
        os.close(fd)
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as err:
        raise ConfigError(f"{p}: not UTF-8 text (byte {err.start}); save the file as UTF-8") from None
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{p}: not valid TOML: {err}") from None
    except RecursionError:
        raise ConfigError(f"{p}: nested too deeply to be a kiosk configuration") from None
    cfg = parse_config(data, str(p.resolve()) if path is not None else str(p))
    return cfg
