"""Typed SQLAlchemy models: every table the kiosk keeps.

Personal data rule: no column holds a full ID number, a name or a pickup code.
ID numbers are stored as ``*_id_hash`` (HMAC under the kiosk secret) and
``*_id_masked``; codes only as ``code_hmac``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator


class UtcDateTime(TypeDecorator[dt.datetime]):
    """Aware UTC datetimes on every backend (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar = {dt.datetime: UtcDateTime, dict[str, Any]: JSON}


class Compartment(Base):
    """One door of a cabinet. state: free / reserved / occupied / faulty / disabled."""

    __tablename__ = "compartments"
    # A label is unique within its cabinet (migration 0011): two cabinets of a hall may both have an A01.
    __table_args__ = (
        UniqueConstraint("cabinet_id", "board", "channel"),
        UniqueConstraint("cabinet_id", "label", name="uq_compartments_cabinet_label"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cabinet_id: Mapped[str] = mapped_column(String(32))
    label: Mapped[str] = mapped_column(String(8))
    size: Mapped[str] = mapped_column(String(1))
    board: Mapped[int]
    channel: Mapped[int]
    state: Mapped[str] = mapped_column(String(16), default="free")
    fault_reason: Mapped[str | None] = mapped_column(Text)
    fault_note_id: Mapped[int | None]  # staff's typed reason, in staff_notes (kiosk.notes; migration 0012)
    updated_at: Mapped[dt.datetime]


class Parcel(Base):
    """Something in (or headed for) a compartment: a result to pick up, or materials dropped off.

    kind: result / dropoff. state: see kiosk.cabinet.states.
    """

    __tablename__ = "parcels"
    __table_args__ = (
        Index("ix_parcels_state", "state"),
        Index("ix_parcels_owner", "owner_id_hash"),
        # The console's search by number prefix (LIKE 'x%'): pattern ops, whatever the database's collation.
        Index("ix_parcels_case_number", "case_number", postgresql_ops={"case_number": "varchar_pattern_ops"}),
        Index(
            "ix_parcels_receipt_prefix",
            "receipt_number",
            postgresql_ops={"receipt_number": "varchar_pattern_ops"},
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(24))
    case_number: Mapped[str | None] = mapped_column(String(32))
    matter_code: Mapped[str | None] = mapped_column(String(64))
    matter_name: Mapped[str | None] = mapped_column(String(200))
    compartment_id: Mapped[int | None] = mapped_column(ForeignKey("compartments.id"))
    owner_id_hash: Mapped[str | None] = mapped_column(String(64))
    owner_id_masked: Mapped[str | None] = mapped_column(String(32))
    owner_name_masked: Mapped[str | None] = mapped_column(String(64))
    code_hmac: Mapped[str | None] = mapped_column(String(64), unique=True)
    key_id: Mapped[str | None] = mapped_column(String(12))  # the hall key of its hashes (kiosk.keyring)
    receipt_number: Mapped[str | None] = mapped_column(String(32), unique=True)
    created_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[dt.datetime]
    stored_at: Mapped[dt.datetime | None]
    expires_at: Mapped[dt.datetime | None]
    finished_at: Mapped[dt.datetime | None]
    note: Mapped[str | None] = mapped_column(Text)


class Flow(Base):
    """A persisted state machine run (deposit, pickup, dropoff, collect, technician open).

    Written before the hardware acts, so a restart can reconcile it.
    """

    __tablename__ = "flows"
    __table_args__ = (Index("ix_flows_open", "finished_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(24))
    state: Mapped[str] = mapped_column(String(32))
    compartment_id: Mapped[int | None] = mapped_column(ForeignKey("compartments.id"))
    parcel_id: Mapped[int | None] = mapped_column(ForeignKey("parcels.id"))
    actor: Mapped[str] = mapped_column(String(64))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    started_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]
    finished_at: Mapped[dt.datetime | None]
    outcome: Mapped[str | None] = mapped_column(String(32))


class StaffTask(Base):
    """Something a person must look at: a door that would not open, a flow a restart could not settle."""

    __tablename__ = "staff_tasks"
    __table_args__ = (
        Index("ix_staff_tasks_board", "cabinet_id", "board"),
        Index("ix_staff_tasks_outbox", "outbox_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    compartment_id: Mapped[int | None] = mapped_column(ForeignKey("compartments.id"))
    parcel_id: Mapped[int | None] = mapped_column(ForeignKey("parcels.id"))
    flow_id: Mapped[int | None] = mapped_column(ForeignKey("flows.id"))
    # What the task is about, as columns (migration 0005): found by these, never by its text.
    cabinet_id: Mapped[str | None] = mapped_column(String(32))
    board: Mapped[int | None]  # with cabinet_id: one board; None with cabinet_id: the whole bus
    outbox_id: Mapped[int | None]
    kiosk_id: Mapped[str | None] = mapped_column(String(32))
    detail: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime]
    resolved_at: Mapped[dt.datetime | None]
    resolved_by: Mapped[str | None] = mapped_column(String(64))


class CodeAttempt(Base):
    """Every pickup-code attempt, for rate limiting across restarts (never the code itself)."""

    __tablename__ = "code_attempts"
    __table_args__ = (Index("ix_code_attempts_at", "at"), Index("ix_code_attempts_kiosk", "kiosk_id", "at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    kiosk_id: Mapped[str] = mapped_column(
        String(32), default=""
    )  # kiosks sharing a database lock out separately
    at: Mapped[dt.datetime]
    ok: Mapped[bool]
    parcel_id: Mapped[int | None] = mapped_column(ForeignKey("parcels.id"))


class OutboxMessage(Base):
    """A platform call that changes something, written with the local change, sent at least once.

    state: pending / sent / dead / cancelled (a pickup SMS whose parcel left first). ``payload`` is scrubbed
    after delivery when ``sensitive``.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_due", "state", "next_attempt_at"),
        Index("ix_outbox_origin_due", "origin_kiosk", "state", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[str] = mapped_column(String(36), unique=True)
    operation: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    sensitive: Mapped[bool] = mapped_column(default=False)
    state: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime]
    last_error: Mapped[str | None] = mapped_column(Text)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[dt.datetime]
    sent_at: Mapped[dt.datetime | None]
    ref_kind: Mapped[str | None] = mapped_column(String(24))  # what local row waits for the result
    ref_id: Mapped[int | None]
    # The kiosk that queued it: the platform takes it only under that kiosk's kioskId and credentials, and scopes
    # requestId per kiosk. NULL: queued through a handle without a kiosk id (a tool, a test, an older release).
    origin_kiosk: Mapped[str | None] = mapped_column(String(32))


class Submission(Base):
    """A citizen's application as the kiosk knows it: a local receipt until the case number comes back."""

    __tablename__ = "submissions"

    id: Mapped[int] = mapped_column(primary_key=True)
    receipt_number: Mapped[str] = mapped_column(String(32), unique=True)
    matter_code: Mapped[str] = mapped_column(String(64))
    matter_name: Mapped[str] = mapped_column(String(200))
    applicant_id_hash: Mapped[str] = mapped_column(String(64), index=True)
    key_id: Mapped[str | None] = mapped_column(String(12))  # the hall key of its hashes (kiosk.keyring)
    applicant_id_masked: Mapped[str] = mapped_column(String(32))
    delivery_mode: Mapped[str] = mapped_column(String(8))
    state: Mapped[str] = mapped_column(
        String(16), default="queued"
    )  # queued / filed / approved / refused / failed
    case_number: Mapped[str | None] = mapped_column(String(32))
    promised_date: Mapped[str | None] = mapped_column(String(10))
    message: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime]
    filed_at: Mapped[dt.datetime | None]


class CatalogCache(Base):
    """The last matter catalog fetched from the platform, so the kiosk works when it is down."""

    __tablename__ = "catalog_cache"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    fetched_at: Mapped[dt.datetime]


class AuditRecord(Base):
    """Append-only, hash-chained: ``hash`` = SHA-256 over the canonical record including ``prev_hash``."""

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_subject_seq", "subject", "seq"),
    )  # a compartment's events, newest first

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(unique=True)
    at: Mapped[dt.datetime]
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(128), default="")
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class DeviceEvent(Base):
    """A device going down or coming back (logged once each way)."""

    __tablename__ = "device_events"
    __table_args__ = (Index("ix_device_events_device", "device", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime]
    device: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16))  # OK / DEGRADED / FAULT
    detail: Mapped[str] = mapped_column(Text, default="")


class KeyValue(Base):
    """Small kiosk-wide settings and counters (e.g. code lockout until, platform alarm)."""

    __tablename__ = "kv"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class ServiceRequest(Base):
    """A citizen's request through the outbox other than a simple application (interface 1.1): a 一件事 bundle,
    a 12345 ticket, a rating, a confirmation of a department's reply. The citizen leaves with ``receipt_number``;
    ``reference`` is the platform's number once it answers (bundle number, ticket number, evaluation id).

    kind: bundle / ticket / rating / confirmation. state: queued / done / refused (a platform fault) / failed.
    No personal data: the applicant as keyed hash and masked form only; ``detail`` holds the platform's answer
    (member case numbers, promised reply days), never the address, the ticket text or a comment.
    """

    __tablename__ = "service_requests"
    __table_args__ = (Index("ix_service_requests_owner", "applicant_id_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    receipt_number: Mapped[str] = mapped_column(String(32), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    subject_code: Mapped[str | None] = mapped_column(
        String(64)
    )  # bundle code, ticket kind, matter code, evaluation
    subject_name: Mapped[str | None] = mapped_column(String(200))
    applicant_id_hash: Mapped[str | None] = mapped_column(String(64))  # None: anonymous
    key_id: Mapped[str | None] = mapped_column(String(12))  # the hall key of its hashes (kiosk.keyring)
    applicant_id_masked: Mapped[str | None] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(16), default="queued")
    reference: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    message: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime]
    done_at: Mapped[dt.datetime | None]


# --- the hall console: staff directory, console sessions, kiosk status rows (kiosk/staff.py, kiosk/kiosk_status.py)
class StaffMember(Base):
    """One person in the hall's staff directory. ``roles``: comma-separated from kiosk.staff.ROLES.

    The audit carries ``staff_id``, never ``display_name`` (shown masked everywhere)."""

    __tablename__ = "staff_members"

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[str] = mapped_column(String(32), unique=True)
    display_name: Mapped[str] = mapped_column(String(64))
    roles: Mapped[str] = mapped_column(String(64))
    password_hash: Mapped[str | None] = mapped_column(
        String(255)
    )  # argon2id; None: badge only, no console login
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None]
    disabled_at: Mapped[dt.datetime | None]
    demo: Mapped[bool] = mapped_column(default=False)  # the simulator's one-time demo account
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]
    last_login_at: Mapped[dt.datetime | None]


class StaffBadge(Base):
    """A badge UID of a staff member, stored only as a keyed hash (and its last four characters)."""

    __tablename__ = "staff_badges"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("staff_members.id", ondelete="CASCADE"), index=True)
    uid_hash: Mapped[str] = mapped_column(String(64), unique=True)
    key_id: Mapped[str | None] = mapped_column(String(12))  # the hall key of its hashes (kiosk.keyring)
    uid_last4: Mapped[str] = mapped_column(String(4))
    added_at: Mapped[dt.datetime]


class ConsoleSession(Base):
    """A signed-in console browser. Only the SHA-256 of its cookie token is stored."""

    __tablename__ = "console_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("staff_members.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime]
    last_seen_at: Mapped[dt.datetime]
    expires_at: Mapped[dt.datetime]  # absolute end; idle expiry is last_seen_at + the idle limit


class KioskStatus(Base):
    """What each kiosk last said about itself; ``last_seen_at`` is the database's clock, never the kiosk's."""

    __tablename__ = "kiosk_status"

    kiosk_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    hall: Mapped[str] = mapped_column(String(80), default="")
    last_seen_at: Mapped[dt.datetime]
    started_at: Mapped[dt.datetime]
    software_version: Mapped[str] = mapped_column(String(32))
    screen: Mapped[str] = mapped_column(String(32), default="")
    health: Mapped[str] = mapped_column(String(16), default="OK")  # worst of the device checks
    devices: Mapped[list[Any]] = mapped_column(JSON, default=list)  # [{"name", "state", "detail"}]
    platform_reachable: Mapped[bool | None]
    outbox_pending: Mapped[int] = mapped_column(Integer, default=0)
    outbox_dead: Mapped[int] = mapped_column(Integer, default=0)
    outbox_oldest_at: Mapped[dt.datetime | None]
    interval_s: Mapped[float] = mapped_column(default=5.0)


class DoorCommand(Base):
    """A door move asked for at the console, run by the owning kiosk once a staff member there confirms.

    ``kind``: take_back / inspect. ``state``: pending -> running -> done | failed; pending -> expired |
    cancelled. Lifecycle and rules in :mod:`kiosk.door_commands` (migration 0010)."""

    __tablename__ = "door_commands"
    __table_args__ = (Index("ix_door_commands_kiosk_state", "kiosk_id", "state"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kiosk_id: Mapped[str] = mapped_column(String(32))
    cabinet_id: Mapped[str | None] = mapped_column(String(32))  # the door's cabinet (0011); None: not known
    label: Mapped[str] = mapped_column(String(8))
    parcel_id: Mapped[int | None]
    kind: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(32))
    requested_by: Mapped[str] = mapped_column(String(32))  # staff id at the console, never a name
    confirmed_by: Mapped[str | None] = mapped_column(String(32))  # staff id signed in at the kiosk
    created_at: Mapped[dt.datetime]
    expires_at: Mapped[dt.datetime]
    state: Mapped[str] = mapped_column(String(16), default="pending")
    result: Mapped[str | None] = mapped_column(Text)
    finished_at: Mapped[dt.datetime | None]


class CompartmentSensor(Base):
    """A compartment's door and item sensor as its owning kiosk last read them while idle (migration 0010).

    ``read_at`` is the database's clock at the write, so the console's "age" never depends on a kiosk's clock;
    ``door_closed``/``item_present`` are None when the board did not answer (``error`` says why)."""

    __tablename__ = "compartment_sensors"

    cabinet_id: Mapped[str] = mapped_column(String(32), primary_key=True, server_default="")  # 0011
    label: Mapped[str] = mapped_column(String(8), primary_key=True)
    kiosk_id: Mapped[str] = mapped_column(String(32))
    door_closed: Mapped[bool | None]
    item_present: Mapped[bool | None]
    error: Mapped[str | None] = mapped_column(Text)
    read_at: Mapped[dt.datetime]


class StaffNote(Base):
    """Free text staff typed (a reason, a note), kept out of the append-only audit (migration 0012).

    The audit records the note's id only; a note is deleted by staff (audited by id) or purged after the
    retention period (kiosk.notes), after which its readers say "note deleted"."""

    __tablename__ = "staff_notes"
    # sqlite_autoincrement: an id is never reused (SQLite would give a deleted highest id to the next note, and
    # an old audit record would then name someone else's note).
    __table_args__ = (Index("ix_staff_notes_created", "created_at"), {"sqlite_autoincrement": True})

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[dt.datetime]
    kiosk_id: Mapped[str | None] = mapped_column(String(32))
    staff_id: Mapped[str] = mapped_column(String(64))  # the actor, e.g. staff:0042: an id, never a name
    subject_kind: Mapped[str] = mapped_column(String(16))  # parcel / compartment / task
    subject_id: Mapped[str] = mapped_column(String(48))
    text: Mapped[str] = mapped_column(Text)
