"""One error tree for the whole kiosk.

Every error carries three things for three readers: ``message`` for the log,
``hint`` for the technician, and ``citizen_key`` naming the text the citizen
sees (looked up in both languages by the UI's catalogue). Specific subclasses
also inherit the matching built-in so callers that only know ``TimeoutError``
still catch them.
"""

from __future__ import annotations


class KioskError(Exception):
    """Root of every error the kiosk raises on purpose."""

    citizen_key: str = "error.generic"
    hint: str = "See the kiosk log for details."
    exit_code: int = 1

    @property
    def citizen_params(self) -> dict[str, object]:
        """The values the citizen text names (tries left, minutes to wait); none by default."""
        return {}

    def __init__(self, message: str, *, hint: str | None = None, citizen_key: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if hint is not None:
            self.hint = hint
        if citizen_key is not None:
            self.citizen_key = citizen_key

    def __str__(self) -> str:
        return self.message


# --- configuration and storage -------------------------------------------------
class ConfigError(KioskError, ValueError):
    """The configuration file is missing, unreadable or invalid."""

    citizen_key = "error.out_of_service"
    hint = "Fix the named key in the configuration file, then run `kiosk config check`."
    exit_code = 3


class StorageError(KioskError):
    """The database or data directory cannot be used."""

    citizen_key = "error.out_of_service"
    hint = "Check the data directory's permissions and free space, and the storage URL."
    exit_code = 4


class SchemaTooNew(StorageError):
    """The database was written by a newer kiosk version."""

    hint = "Install the kiosk version that wrote this database, or restore a backup."
    exit_code = 5


class AuditChainBroken(StorageError):
    """An audit record was altered, removed or inserted."""

    hint = "Keep the database as evidence and report it to the hall's security officer."
    exit_code = 6


class DataNotInitialised(StorageError):
    """The data directory carries no marker: `kiosk db init` was never run for it."""

    hint = "For a new kiosk run `kiosk db init` once (it is audited); then start the kiosk."
    exit_code = 11


class DatabaseLost(StorageError):
    """The marker names a database that is missing or empty: the kiosk would silently forget its parcels."""

    hint = (
        "Restore the database from the last backup (`kiosk db restore PATH`). Only to begin again with an "
        "empty database (every parcel and code in it forgotten): `kiosk db init --force`."
    )
    exit_code = 12


class DatabaseMismatch(StorageError):
    """The database is not the one the data directory's marker was written for (another kiosk's, or a stale copy)."""

    hint = (
        "Point storage.url / kiosk.data_dir back at this kiosk's own database, or restore it from backup "
        "(`kiosk db restore PATH`); `kiosk db init --force` adopts the database as it is (audited)."
    )
    exit_code = 13


class DatabaseDamaged(StorageError):
    """The SQLite file is not a readable database any more: bad header, truncated, damaged pages."""

    hint = (
        "Stop the kiosk, copy the data directory as it is (evidence), and restore the last backup: "
        "`kiosk db restore PATH`. `kiosk diag --only storage` shows SQLite's integrity check."
    )
    exit_code = 14


class KioskBusy(KioskError):
    """Another kiosk process owns this kiosk's cabinet and readers (a running kiosk, or a CLI command)."""

    exit_code = 7


# --- hardware --------------------------------------------------------------
class DeviceError(KioskError):
    """A piece of hardware failed."""

    citizen_key = "error.device"


class LockBoardError(DeviceError):
    """A lock board or its bus failed."""

    citizen_key = "error.door"
    hint = (
        "Check the RS-485 cable, the board's power and its DIP address; run `kiosk diag --only lockboards`."
    )


class LockBoardTimeout(LockBoardError, TimeoutError):
    """A board did not reply in time (no reply, board offline)."""


class LockBoardFrameError(LockBoardError):
    """A reply was garbled: bad checksum, wrong length, wrong address."""


class OpenNotDetected(LockBoardError):
    """An unlock was sent but the door never read open (jammed, or a broken latch)."""

    citizen_key = "error.door_not_opened"
    hint = "Check the lock and the door switch of this compartment; it is now marked faulty."


class SpeechError(DeviceError):
    """The speech engine or the sound output failed; the kiosk goes on silently (text is always on screen)."""

    hint = "Check that espeak-ng and alsa-utils are installed and `aplay -l` lists the sound card."


class CardReaderError(DeviceError):
    """A card reader or card failed."""

    citizen_key = "error.card_read"
    hint = "Check the reader's cable and run `kiosk card watch`; for PC/SC readers check that pcscd runs."


class CardRemoved(CardReaderError):
    """The card left the reader before it was fully read."""

    citizen_key = "error.card_removed"
    hint = "The citizen pulled the card early; nothing to fix."


class CardUnsupported(CardReaderError):
    """The card is not one the kiosk can read (not a social security card, wants a PIN...)."""

    citizen_key = "error.card_unsupported"
    hint = "The card is readable but not a supported kind; nothing to fix on the kiosk."


class CardReaderTimeout(CardReaderError, TimeoutError):
    """The reader did not answer in time."""


# --- platform --------------------------------------------------------------
class PlatformError(KioskError):
    """The provincial platform could not be used."""

    citizen_key = "error.platform"


# The platform's fault codes that mean "not now": the same request may succeed later (kiosk-platform.md, faults).
# The client turns them into PlatformUnavailable; the outbox retries them whichever Platform raised them.
TRANSIENT_FAULT_CODES = frozenset({"INTERNAL", "MAINTENANCE", "RATE_LIMITED"})


class PlatformRejected(PlatformError):
    """The platform answered with a fault: do not retry the same request as is."""

    def __init__(
        self,
        code: str,
        message: str,
        *,
        field: str | None = None,
        retry_after_s: int | None = None,
    ) -> None:
        super().__init__(f"platform rejected the request: {code}: {message}")
        self.code = code
        self.platform_message = message
        self.field = field
        self.retry_after_s = retry_after_s
        self.citizen_key = {
            "INVALID_FIELD": "error.invalid_field",
            "UNKNOWN_CASE": "error.unknown_case",
            "UNKNOWN_MATTER": "error.unknown_matter",
            "AUTH_FAILED": "error.platform",
            # interface 1.1
            "UNKNOWN_BUNDLE": "error.unknown_bundle",
            "UNKNOWN_TICKET": "error.unknown_ticket",
            "UNKNOWN_EVALUATION": "error.unknown_evaluation",
            "NOT_ELIGIBLE": "error.not_eligible",
        }.get(code, "error.platform")


class PlatformUnavailable(PlatformError, ConnectionError):
    """The platform could not be reached or answered unreadably: retry later, same requestId."""

    hint = "Check the network and the platform endpoint; run `kiosk platform ping`."

    def __init__(self, message: str, *, retry_after_s: int | None = None, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.retry_after_s = retry_after_s


class PlatformFeatureUnavailable(PlatformRejected):
    """What was asked needs interface 1.1 and this kiosk is pinned to 1.0 (platform.interface_version).

    Raised by the client before anything is sent; final like a refusal (an outbox row queued under 1.1 and
    found after a switch to 1.0 is a dead letter for staff, not retried for ever)."""

    hint = (
        "The kiosk speaks interface 1.0 (platform.interface_version): the province's platform has not "
        'upgraded, or the setting is stale. Set it to "1.1" once the platform serves 1.1.'
    )

    def __init__(self, message: str) -> None:
        super().__init__("FEATURE_UNAVAILABLE", message)
        self.citizen_key = "error.needs_platform_upgrade"


class PlatformAuthFailed(PlatformRejected):
    """AUTH_FAILED: credentials, clock or kiosk id wrong. Sending stops until fixed."""

    hint = "Check the platform user, password and kiosk id, and the kiosk's clock; run `kiosk platform ping`."


# --- citizen-facing domain errors -------------------------------------------
class FlowError(KioskError):
    """A citizen or staff flow cannot go on."""


class WrongPickupCode(FlowError):
    """The code matches no live parcel. Says the ``tries_left`` before codes wait ``next_wait_s``, or the
    ``wait_s`` this wrong code started (hall-wide; kiosk.cabinet.codes.CodeGuard)."""

    citizen_key = "error.wrong_code"
    hint = "The citizen typed a wrong or expired code."

    def __init__(
        self, message: str, *, tries_left: int | None = None, wait_s: int = 0, next_wait_s: int = 0
    ) -> None:
        key = None if tries_left is None else "error.wrong_code_wait" if wait_s else "error.wrong_code_left"
        super().__init__(message, citizen_key=key)
        self.tries_left = tries_left
        self.wait_s = wait_s
        self.next_wait_s = next_wait_s

    @property
    def citizen_params(self) -> dict[str, object]:
        # wait_s: the UI words it in the screen's language ("30 秒", "2 minutes") and keeps it counting down.
        if self.tries_left is None:
            return {}
        return {"n": self.tries_left, "wait_s": self.wait_s or self.next_wait_s}


class CodeLockout(FlowError):
    """Codes wait after wrong ones (hall-wide): none is checked for ``retry_after_s``; a card still works."""

    citizen_key = "error.code_lockout"
    hint = "Codes wait after wrong ones typed at any kiosk of the hall; staff can lift the wait from the staff screen."

    def __init__(self, message: str, *, retry_after_s: int) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s

    @property
    def citizen_params(self) -> dict[str, object]:
        return {"wait_s": self.retry_after_s}


def minutes_of(seconds: float) -> int:
    """Whole minutes as a person reads a wait: rounded up, at least 1."""
    return max(1, -(-int(seconds) // 60))


class NoFreeCompartment(FlowError):
    """No working compartment of a fitting size is free."""

    citizen_key = "error.cabinet_full"
    hint = "Collect overdue parcels or repair faulty compartments."


class ValidationError(FlowError, ValueError):
    """A form value does not satisfy its field's rules."""

    citizen_key = "error.invalid_field"

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.field = field


class InputTooLong(ValidationError):
    """A typed value is longer than the database keeps (checked before it, on every backend)."""

    hint = "Shorten the value; the limit is named in the message."

    def __init__(self, field: str, limit: int, given: int) -> None:
        # Never the value itself: it may be a name, a reason, an ID number.
        super().__init__(f"{field} is too long: at most {limit} characters, {given} given", field=field)
        self.limit = limit
