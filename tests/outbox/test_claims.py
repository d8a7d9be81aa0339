"""Claiming outbox rows under a lease (kiosk/outbox_claims.py), on its own: what is handed out, what the lease
writes into the row, what is given back, and what is never handed out. SQLite and (under make test) PostgreSQL;
FakeClock."""

from __future__ import annotations

import datetime as dt

from kiosk import outbox
from kiosk.clock import FakeClock
from kiosk.heartbeat import raise_auth_alarm
from kiosk.outbox_claims import Claims
from kiosk.storage.db import Database
from kiosk.storage.models import OutboxMessage

LEASE_S = 40.0


def _claims(
    clock: FakeClock, secret: bytes, unusable: list[tuple[int, str]], origin: str | None = None
) -> Claims:
    return Claims(
        secret,
        clock,
        origin=origin,
        lease_s=LEASE_S,
        actor="outbox",
        on_unusable=lambda s, msg, now, reason: unusable.append((msg.id, reason)),
    )


def _enqueue(
    db: Database, clock: FakeClock, secret: bytes, *, sensitive: bool = False, later_s: float = 0
) -> int:
    with db.transaction() as s:
        msg = outbox.enqueue(
            s,
            clock.now(),
            "SubmitEvaluation",
            {"evaluation": {"rating": 5}},
            secret=secret,
            sensitive=sensitive,
        )
        msg.next_attempt_at = clock.now() + dt.timedelta(seconds=later_s)
        return msg.id


def _row(db: Database, mid: int) -> OutboxMessage:
    with db.transaction() as s:
        msg = s.get(OutboxMessage, mid)
        assert msg is not None
        return msg


def test_a_claim_counts_the_attempt_and_leases_the_row(db: Database, clock: FakeClock, secret: bytes) -> None:
    plain = _enqueue(db, clock, secret)
    sealed = _enqueue(db, clock, secret, sensitive=True)
    _enqueue(db, clock, secret, later_s=60)  # not due yet
    claims = _claims(clock, secret, [])
    with db.transaction() as s:
        got = claims.claim(s, 10)
    assert [c.id for c in got] == [plain, sealed] and [c.attempts for c in got] == [1, 1]
    assert got[1].payload == {"evaluation": {"rating": 5}}  # unsealed for the one call
    until = clock.now() + dt.timedelta(seconds=LEASE_S)
    for mid in (plain, sealed):
        row = _row(db, mid)
        assert row.attempts == 1 and row.result == outbox.lease_of(until)
        assert outbox.in_flight(row, clock.now())
    with db.transaction() as s:
        assert claims.claim(s, 10) == []  # leased: nobody else takes them before the lease runs out
    clock.advance(LEASE_S + 1)
    with db.transaction() as s:
        again = claims.claim(s, 10)
    assert {c.id for c in again} == {plain, sealed} and all(c.attempts == 2 for c in again)


def test_at_most_n_rows_and_only_the_held_one(db: Database, clock: FakeClock, secret: bytes) -> None:
    ids = [_enqueue(db, clock, secret) for _ in range(3)]
    claims = _claims(clock, secret, [])
    with db.transaction() as s:
        assert claims.claim(s, 0) == []
        assert [c.id for c in claims.claim(s, 1, only_id=ids[2])] == [ids[2]]
        assert [c.id for c in claims.claim(s, 5)] == ids[:2]


def test_release_gives_back_what_was_not_tried(db: Database, clock: FakeClock, secret: bytes) -> None:
    mid = _enqueue(db, clock, secret)
    claims = _claims(clock, secret, [])
    with db.transaction() as s:
        claims.claim(s, 1)
    due = clock.now() + dt.timedelta(seconds=7)
    with db.transaction() as s:
        claims.release(list(claims.load(s, [mid]).values()), due)
    row = _row(db, mid)
    assert row.attempts == 0 and row.result is None
    assert row.next_attempt_at.replace(tzinfo=dt.UTC) == due.replace(tzinfo=dt.UTC)


def test_hold_keeps_a_new_row_away_for_one_lease(db: Database, clock: FakeClock, secret: bytes) -> None:
    claims = _claims(clock, secret, [])
    with db.transaction() as s:
        msg = outbox.enqueue(s, clock.now(), "SubmitEvaluation", {"evaluation": {"rating": 1}})
        claims.hold(msg)
        mid = msg.id
    with db.transaction() as s:
        assert claims.claim(s, 5) == []
        assert [c.id for c in claims.claim(s, 1, only_id=mid)] == [mid]  # send_now still takes it


def test_an_auth_alarm_blocks_every_claim(db: Database, clock: FakeClock, secret: bytes) -> None:
    _enqueue(db, clock, secret)
    claims = _claims(clock, secret, [])
    with db.transaction() as s:
        raise_auth_alarm(s, clock.now(), "AUTH_FAILED in a test", actor="test")
    with db.transaction() as s:
        assert claims.claim(s, 5) == [] and claims.blocked


def test_an_unusable_payload_is_not_handed_out(db: Database, clock: FakeClock, secret: bytes) -> None:
    good = _enqueue(db, clock, secret, sensitive=True)
    bad = _enqueue(db, clock, secret, sensitive=True)
    with db.transaction() as s:
        row = s.get(OutboxMessage, bad)
        assert row is not None
        row.payload = {"sealed": "not a sealed payload"}
    unusable: list[tuple[int, str]] = []
    with db.transaction() as s:
        got = _claims(clock, secret, unusable).claim(s, 5)
    assert [c.id for c in got] == [good]
    assert [mid for mid, _ in unusable] == [bad] and unusable[0][1].startswith("payload unusable")


def test_a_sender_claims_only_its_own_kiosk_rows(db_url: str, clock: FakeClock, secret: bytes) -> None:
    mine, theirs = Database(db_url, kiosk_id="KIOSK-A"), Database(db_url, kiosk_id="KIOSK-B")
    mine.upgrade()
    try:
        a = _enqueue(mine, clock, secret)
        _enqueue(theirs, clock, secret)
        with mine.transaction() as s:
            assert [c.id for c in _claims(clock, secret, [], origin="KIOSK-A").claim(s, 10)] == [a]
    finally:
        mine.dispose()
        theirs.dispose()
