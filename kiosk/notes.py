"""Staff notes: the free text staff type (a collect's or disable's reason, a task's note), out of the audit.

The audit chain is append-only: a name typed into a reason would stay in it for good. So the text goes to
``staff_notes`` and the audit records the note's id (``note=<id>``) and, where there is a fixed list, the
reason's code. A note can be deleted by staff (audited with its id, never its text) and is purged once older
than ``storage.notes_retention_days`` (at start-up and daily by the kiosk, and by ``kiosk notes purge``). Every
reader of a note that is gone says so (:data:`DELETED`).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from kiosk.audit import append as audit
from kiosk.clock import Clock
from kiosk.errors import KioskError
from kiosk.printable import printable
from kiosk.privacy import TYPED
from kiosk.storage.db import KIOSK_ID, Database
from kiosk.storage.models import Compartment, StaffNote

log = logging.getLogger(__name__)
DEFAULT_RETENTION_DAYS = 365
TEXT_MAX = 500  # what a reason box takes (the console's NOTE_MAX)
DELETED = "note deleted"  # what a reader shows for a note that is gone (deleted or purged)
PURGE_EVERY = dt.timedelta(days=1)
STAFF_DISABLED = (
    "disabled by staff"  # a compartment's fault_reason when staff took it out (their words: a note)
)


class NoSuchNote(KioskError, LookupError):
    """No note has that id (never written, or already deleted or purged)."""

    hint = "`kiosk notes list` shows the notes kept."


def clean(text: str) -> str:
    """Typed text as a note keeps it: one line, ID numbers masked, control and bidi characters escaped."""
    t = TYPED(printable(" ".join(text.split())))  # ID and phone numbers masked, as everywhere
    return t if len(t) <= TEXT_MAX else t[: TEXT_MAX - 1] + "…"


def add(
    s: Session, now: dt.datetime, *, actor: str, subject_kind: str, subject_id: object, text: str
) -> int | None:
    """Keep ``text`` as a note about (``subject_kind``, ``subject_id``) in the caller's transaction; its id, to
    record in the audit instead of the text (None: nothing typed, no note)."""
    t = clean(text)
    if not t:
        return None
    note = StaffNote(
        created_at=now,
        kiosk_id=s.info.get(KIOSK_ID),
        staff_id=actor[:64],
        subject_kind=subject_kind,
        subject_id=str(subject_id)[:48],
        text=t,
    )
    s.add(note)
    s.flush()
    return note.id


def for_audit(
    s: Session,
    now: dt.datetime,
    *,
    actor: str,
    subject_kind: str,
    subject_id: object,
    text: str,
    codes: tuple[str, ...] = (),
    other: str = "other",
) -> dict[str, object]:
    """What an audit record carries for a reason or note staff gave: a code from ``codes`` as it is; typed text
    kept as a note, the record getting the note's id (and ``other`` as its code when there is a fixed list)."""
    if text in codes:
        return {"reason": text}
    note_id = add(s, now, actor=actor, subject_kind=subject_kind, subject_id=subject_id, text=text)
    if note_id is None:
        return {}
    return {"reason": other, "note": note_id} if codes else {"note": note_id}


def read(s: Session, note_id: int | None) -> str | None:
    """The note's text; :data:`DELETED` once it is gone; None when there never was one (``note_id`` None)."""
    if note_id is None:
        return None
    note = s.get(StaffNote, note_id)
    return note.text if note is not None else DELETED


def texts(s: Session, ids: list[object]) -> dict[int, str]:
    """Each note id among ``ids`` (others are skipped) with its text, or :data:`DELETED` once gone: one query."""
    wanted = {i for i in ids if isinstance(i, int) and not isinstance(i, bool)}
    if not wanted:
        return {}
    kept = dict(s.execute(select(StaffNote.id, StaffNote.text).where(StaffNote.id.in_(wanted))).all())
    return {i: kept.get(i, DELETED) for i in wanted}


def fault_reason(s: Session, comp: Compartment) -> str | None:
    """A compartment's out-of-service reason as staff read it: staff's own words from its note when they gave
    some (:data:`DELETED` once gone), else the stored reason."""
    if comp.fault_note_id is None or comp.fault_reason != STAFF_DISABLED:
        return comp.fault_reason
    return f"{STAFF_DISABLED}: {read(s, comp.fault_note_id)}"


def remove(s: Session, now: dt.datetime, note_id: int, *, actor: str) -> None:
    """Staff delete a note: gone for good; the audit records its id and who deleted it, not its text."""
    note = s.get(StaffNote, note_id)
    if note is None:
        raise NoSuchNote(f"no note {note_id} (never written, or already deleted or purged)")
    subject = f"{note.subject_kind} {note.subject_id}"
    s.delete(note)
    audit(s, now, actor, "note.deleted", f"note {note_id}", note=note_id, about=subject)


def purge(s: Session, now: dt.datetime, retention_days: int, *, actor: str = "kiosk") -> int:
    """Delete every note older than the retention period; one audit record (the count and id range) when any."""
    cutoff = now - dt.timedelta(days=retention_days)
    ids = s.execute(select(StaffNote.id).where(StaffNote.created_at < cutoff)).scalars().all()
    if not ids:
        return 0
    # Another kiosk of the hall may purge the same rows at the same time: audit only what this one deleted.
    gone = s.execute(delete(StaffNote).where(StaffNote.id.in_(ids))).rowcount
    if not gone:
        return 0
    audit(
        s,
        now,
        actor,
        "notes.purged",
        "staff_notes",
        count=gone,
        first=min(ids),
        last=max(ids),
        retention_days=retention_days,
    )
    return gone


def listing(s: Session, limit: int = 100) -> list[StaffNote]:
    """The newest notes kept, for ``kiosk notes list``."""
    return list(s.execute(select(StaffNote).order_by(StaffNote.id.desc()).limit(limit)).scalars())


def purge_loop(db: Database, clock: Clock, retention_days: int, stop: threading.Event) -> None:
    """The running kiosk's purge: once at start-up, then daily until ``stop`` (a thread of the runtime)."""
    while True:
        try:
            with db.transaction() as s:
                n = purge(s, clock.now(), retention_days)
            if n:
                log.info("purged %d staff note(s) older than %d days", n, retention_days)
        except Exception:  # the loop must outlive a database hiccup; the next day tries again
            log.exception("purging staff notes failed")
        if stop.wait(PURGE_EVERY.total_seconds()):
            return
