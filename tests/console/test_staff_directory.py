"""The hall staff directory (kiosk.staff) and console sessions (kiosk.staff_sessions), on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from kiosk import audit
from kiosk.clock import FakeClock
from kiosk.staff import BadStaffInput, LoginRefused, StaffDirectory, StaffError, badge_hash
from kiosk.staff_sessions import SessionStore
from kiosk.storage.db import Database
from kiosk.storage.models import AuditRecord, StaffBadge, StaffMember

PW = "a-long-password-1"


@pytest.fixture
def directory(db: Database, secret: bytes, clock: FakeClock) -> StaffDirectory:
    return StaffDirectory(db, secret, clock, max_failures=3, lockout_s=600)


def test_no_default_account(db: Database) -> None:
    with db.transaction() as s:
        assert s.execute(select(StaffMember)).first() is None


def test_add_and_sign_in_names_only_the_staff_id(directory: StaffDirectory, db: Database) -> None:
    v = directory.add("S0042", "欧阳晓峰", ["staff", "technician"], actor="cli", password=PW)
    assert v.name_masked == "欧**峰" and v.roles == ("staff", "technician") and v.can_sign_in
    me = directory.authenticate("S0042", PW)
    assert me.staff_id == "S0042"
    with db.transaction() as s:
        m = s.execute(select(StaffMember)).scalar_one()
        assert m.password_hash and m.password_hash.startswith("$argon2id$") and PW not in m.password_hash
        rows = s.execute(select(AuditRecord)).scalars().all()
    text = repr([(r.actor, r.action, r.subject, r.detail) for r in rows])
    assert "欧阳晓峰" not in text and "staff:S0042" in text


@pytest.mark.parametrize("roles", [[], ["root"], ["staff", "admin"]])
def test_roles_are_checked(directory: StaffDirectory, roles: list[str]) -> None:
    with pytest.raises(BadStaffInput):
        directory.add("S1", "张三", roles, actor="cli", password=PW)


def test_weak_password_and_bad_ids_refused(directory: StaffDirectory) -> None:
    with pytest.raises(BadStaffInput):
        directory.add("S1", "张三", ["staff"], actor="cli", password="short")
    with pytest.raises(BadStaffInput):
        directory.add("bad id!", "张三", ["staff"], actor="cli", password=PW)
    directory.add("S1", "张三", ["staff"], actor="cli", password=PW)
    with pytest.raises(StaffError):
        directory.add("S1", "李四", ["staff"], actor="cli", password=PW)


def test_badges_are_stored_hashed_and_found(directory: StaffDirectory, db: Database, secret: bytes) -> None:
    directory.add("S1", "张三", ["staff"], actor="cli")
    assert directory.add_badge("S1", "5a1f 0d5e", actor="cli") == "****0D5E"
    with db.transaction() as s:
        b = s.execute(select(StaffBadge)).scalar_one()
        assert b.uid_hash == badge_hash(secret, "5A1F0D5E") and "5A1F0D5E" not in b.uid_hash
    assert directory.by_badge("5A1F0D5E").staff_id == "S1"  # type: ignore[union-attr]
    assert directory.by_badge("DEADBEEF") is None
    assert directory.by_badge("not hex") is None
    directory.add("S2", "李四", ["staff"], actor="cli")
    with pytest.raises(StaffError, match="another member"):
        directory.add_badge("S2", "5A1F0D5E", actor="cli")
    directory.set_disabled("S1", True, actor="cli")
    assert directory.by_badge("5A1F0D5E") is None  # a disabled member's badge opens nothing
    directory.set_disabled("S1", False, actor="cli")
    directory.remove_badge("S1", "5A1F0D5E", actor="cli")
    assert directory.by_badge("5A1F0D5E") is None


def test_badge_only_member_cannot_sign_in(directory: StaffDirectory) -> None:
    directory.add("S1", "张三", ["staff"], actor="cli")
    with pytest.raises(LoginRefused) as e:
        directory.authenticate("S1", "")
    assert e.value.reason == "unknown"


def test_lockout_after_repeated_wrong_passwords(
    directory: StaffDirectory, clock: FakeClock, db: Database
) -> None:
    directory.add("S1", "张三", ["staff"], actor="cli", password=PW)
    for _ in range(2):
        with pytest.raises(LoginRefused) as e:
            directory.authenticate("S1", "wrong-password-x")
        assert e.value.reason == "wrong_password"
    with pytest.raises(LoginRefused) as e:
        directory.authenticate("S1", "wrong-password-x")
    assert e.value.reason == "locked" and e.value.retry_after_s == 600
    with pytest.raises(LoginRefused) as e:  # even the right password, while locked
        directory.authenticate("S1", PW)
    assert e.value.reason == "locked"
    clock.advance(601)
    assert directory.authenticate("S1", PW).staff_id == "S1"
    with db.transaction() as s:
        actions = [r.action for r in audit.search(s, action="console.")]
    assert actions.count("console.account_locked") == 1 and "console.login" in actions


def test_new_password_unlocks_and_ends_sessions(
    directory: StaffDirectory, db: Database, clock: FakeClock
) -> None:
    directory.add("S1", "张三", ["staff"], actor="cli", password=PW)
    sessions = SessionStore(db, clock)
    token, _ = sessions.create("S1")
    for _ in range(3):
        with pytest.raises(LoginRefused):
            directory.authenticate("S1", "wrong-password-x")
    directory.set_password("S1", "another-password-2", actor="cli")
    assert sessions.lookup(token) is None
    assert directory.authenticate("S1", "another-password-2").staff_id == "S1"


def test_unknown_id_is_not_written_to_the_audit(directory: StaffDirectory, db: Database) -> None:
    with pytest.raises(LoginRefused):
        directory.authenticate("my-secret-password", "x")
    with db.transaction() as s:
        rows = audit.search(s, action="console.login_failed")
    assert rows and all("my-secret-password" not in repr(r) for r in rows)


def test_sessions_expire_idle_and_absolute(db: Database, directory: StaffDirectory, clock: FakeClock) -> None:
    directory.add("S1", "张三", ["staff", "hall_admin"], actor="cli", password=PW)
    sessions = SessionStore(db, clock, idle_s=60, max_age_s=300)
    token, me = sessions.create("S1")
    assert me.roles == ("hall_admin", "staff") and me.name_masked == "张*"
    clock.advance(59)
    assert sessions.lookup(token) is not None
    clock.advance(61)
    assert sessions.lookup(token) is None  # idle
    token, _ = sessions.create("S1")
    for _ in range(6):
        clock.advance(50)
        got = sessions.lookup(token)
    assert got is None  # 300 s after sign-in, however busy
    assert sessions.lookup("x" * 43) is None and sessions.lookup(None) is None


def test_disabling_ends_sessions(db: Database, directory: StaffDirectory, clock: FakeClock) -> None:
    directory.add("S1", "张三", ["staff"], actor="cli", password=PW)
    sessions = SessionStore(db, clock)
    token, _ = sessions.create("S1")
    directory.set_disabled("S1", True, actor="cli")
    assert sessions.lookup(token) is None
    with pytest.raises(LoginRefused):
        directory.authenticate("S1", PW)


def test_demo_account_gets_a_new_password_each_time(directory: StaffDirectory) -> None:
    first = directory.ensure_demo()
    second = directory.ensure_demo()
    assert first != second
    with pytest.raises(LoginRefused):
        directory.authenticate("demo", first)
    assert directory.authenticate("demo", second).demo


def test_session_token_is_stored_only_as_a_digest(
    db: Database, directory: StaffDirectory, clock: FakeClock
) -> None:
    from kiosk.storage.models import ConsoleSession

    directory.add("S1", "张三", ["staff"], actor="cli", password=PW)
    token, _ = SessionStore(db, clock).create("S1")
    with db.transaction() as s:
        row = s.execute(select(ConsoleSession)).scalar_one()
    assert token not in row.token_hash and len(row.token_hash) == 64
    assert row.expires_at - row.created_at == dt.timedelta(hours=12)
