"""One PICKUP_REMINDER two days before a code expires (never the code); a lost SMS: PICKUP_CODE_RESEND, the old
code dead at once, audited; against the simulator through the outbox."""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from backend_client.sim import DEMO_APPLICANT, PlatformSim
from kiosk import audit, outbox
from kiosk.cabinet.codes import code_hmac
from kiosk.clock import FakeClock
from kiosk.config import PickupConfig
from kiosk.errors import PlatformFeatureUnavailable
from kiosk.identity import id_hash
from kiosk.outbox_sender import OutboxSender
from kiosk.pickup_notices import MAX_RESENDS, NoParcelToResend, PickupNotices, TooManyResends
from kiosk.storage.db import Database
from kiosk.storage.models import AuditRecord, Compartment, OutboxMessage, Parcel

OLD_CODE = "482913"


@pytest.fixture
def clock() -> FakeClock:  # the simulator checks tokens against real time: keep the fake clock near it
    return FakeClock(dt.datetime.now(dt.UTC))


def _parcel(
    db: Database,
    secret: bytes,
    sim: PlatformSim,
    clock: FakeClock,
    *,
    expires_in: dt.timedelta,
    cabinet: str = "CAB-01",
    label: str = "A03",
    code: str = OLD_CODE,
) -> tuple[int, str]:
    case = sim.backoffice.create_case(DEMO_APPLICANT, "GA-HUKOU-CERT", status="READY_FOR_PICKUP").number
    now = clock.now()
    with db.transaction() as s:
        comp = Compartment(
            cabinet_id=cabinet,
            label=label,
            size="M",
            board=0,
            channel=int(label[1:]),
            state="occupied",
            updated_at=now,
        )
        s.add(comp)
        s.flush()
        p = Parcel(
            kind="result",
            state="ready",
            case_number=case,
            compartment_id=comp.id,
            owner_id_hash=id_hash(secret, DEMO_APPLICANT.id_number),
            code_hmac=code_hmac(secret, code),
            created_at=now,
            stored_at=now,
            expires_at=now + expires_in,
        )
        s.add(p)
        s.flush()
        # The first SMS, still waiting in the outbox (sealed: it carries the code).
        outbox.enqueue(
            s,
            now,
            "NotifyApplicant",
            {
                "case_number": case,
                "template": "PICKUP_READY",
                "params": {"cabinet": f"{cabinet} {label}", "code": code, "expires": "x"},
            },
            secret=secret,
            sensitive=True,
            ref_kind="parcel",
            ref_id=p.id,
        )
        return p.id, case


def _notices(
    db: Database, secret: bytes, clock: FakeClock, sender: OutboxSender | None = None, v11: bool = True
) -> PickupNotices:
    return PickupNotices(
        db, secret, clock, PickupConfig(), ["CAB-01"], v11=v11, poke=sender.poke if sender else None
    )


def test_one_reminder_two_days_before_expiry_without_the_code(
    db: Database, secret: bytes, sim: PlatformSim, clock: FakeClock, client
) -> None:
    pid, case = _parcel(db, secret, sim, clock, expires_in=dt.timedelta(days=3))
    far, _ = _parcel(db, secret, sim, clock, expires_in=dt.timedelta(days=6), label="A04", code="771204")
    n = _notices(db, secret, clock)
    assert n.queue_due_reminders() == []  # three days left: not yet
    clock.advance(dt.timedelta(days=1, hours=1).total_seconds())
    assert n.queue_due_reminders() == [pid]
    assert n.queue_due_reminders() == []  # one reminder, not one per call
    with db.transaction() as s:
        (msg,) = [m for m in s.execute(select(OutboxMessage)).scalars() if not m.sensitive]
        assert msg.payload["template"] == "PICKUP_REMINDER" and "code" not in msg.payload["params"]
        assert OLD_CODE not in json.dumps(msg.payload)
    OutboxSender(
        db, client, secret, clock, _cfg()
    ).run_once()  # the kiosk's clock: a day on, the rows are due
    reminder = next(x for x in sim.backoffice.sms if x.template == "PICKUP_REMINDER")
    assert reminder.case_number == case and set(reminder.params) == {"cabinet", "expires"}
    assert far not in n.queue_due_reminders()


def test_lost_sms_a_new_code_the_old_one_dead_at_once(
    db: Database, secret: bytes, sim: PlatformSim, clock: FakeClock, client
) -> None:
    pid, case = _parcel(db, secret, sim, clock, expires_in=dt.timedelta(days=5))
    n = _notices(db, secret, clock)
    assert n.resendable(DEMO_APPLICANT.id_number) == [(pid, case, "CAB-01", "A03")]
    got = n.resend_code(DEMO_APPLICANT.id_number)
    assert (got.parcel_id, got.case_number, got.compartment, got.resends) == (pid, case, "A03", 1)
    with db.transaction() as s:
        p = s.get(Parcel, pid)
        assert p.code_hmac != code_hmac(secret, OLD_CODE)  # the old code matches nothing any more
        first, resend = s.execute(select(OutboxMessage).order_by(OutboxMessage.id)).scalars().all()
        assert (
            first.state == "cancelled" and first.payload == outbox.SCRUBBED
        )  # the old code's SMS never goes
        assert resend.sensitive and resend.state == "pending"
        rec = next(a for a in audit.tail(s, 10) if a.action == "cabinet.code_resent")
        assert rec.detail["case_number"] == case and rec.detail["resends"] == 1
        dump = json.dumps([a.detail for a in audit.tail(s, 20)])
    sender = OutboxSender(db, client, secret, FakeClock(dt.datetime.now(dt.UTC)), _cfg())
    assert sender.run_once().sent == 1
    sms = sim.backoffice.sms[-1]
    assert sms.template == "PICKUP_CODE_RESEND" and set(sms.params) == {"cabinet", "code", "expires"}
    new_code = sms.params["code"]
    assert len(new_code) == 6 and new_code != OLD_CODE and new_code not in dump
    with db.transaction() as s:
        assert s.get(Parcel, pid).code_hmac == code_hmac(secret, new_code)


def test_resends_are_limited_and_only_for_the_owner(
    db: Database, secret: bytes, sim: PlatformSim, clock: FakeClock
) -> None:
    _parcel(db, secret, sim, clock, expires_in=dt.timedelta(days=5))
    n = _notices(db, secret, clock)
    with pytest.raises(NoParcelToResend):
        n.resend_code("310104199005072113")
    for i in range(MAX_RESENDS):
        assert n.resend_code(DEMO_APPLICANT.id_number).resends == i + 1
    with pytest.raises(TooManyResends):
        n.resend_code(DEMO_APPLICANT.id_number)
    with pytest.raises(PlatformFeatureUnavailable):
        _notices(db, secret, clock, v11=False).resend_code(DEMO_APPLICANT.id_number)


def test_another_kiosks_cabinet_is_not_ours(
    db: Database, secret: bytes, sim: PlatformSim, clock: FakeClock
) -> None:
    _parcel(db, secret, sim, clock, expires_in=dt.timedelta(days=1), cabinet="CAB-09", label="B01")
    n = _notices(db, secret, clock)
    assert n.queue_due_reminders() == [] and n.resendable(DEMO_APPLICANT.id_number) == []


def _cfg():
    from kiosk.config import PlatformConfig

    return PlatformConfig(timeout_s=2, connect_timeout_s=1)


def test_the_runtime_loop_queues_one_reminder_per_parcel(tmp_path) -> None:
    """The kiosk's own reminders thread, at the configured pickup.reminders_interval_s: one PICKUP_REMINDER (no
    code) for a parcel due within two days, and none again for it on the loop's later rounds."""
    from hallkiosk.runtime import Runtime
    from kiosk.config import load_config
    from tests.conftest import init_kiosk

    text = (Path(__file__).resolve().parents[2] / "kiosk" / "default.toml").read_text(encoding="utf-8")
    text = text.replace('data_dir = "~/.local/share/hall-kiosk"', f'data_dir = "{tmp_path / "data"}"')
    (tmp_path / "kiosk.toml").write_text(text + "\n[pickup]\nreminders_interval_s = 1\n", encoding="utf-8")
    cfg = init_kiosk(load_config(tmp_path / "kiosk.toml"))
    assert cfg.pickup.reminders_interval_s == 1
    rt = Runtime(cfg)
    rt.start()
    try:
        assert rt.wait_ready(60) and rt.start_error is None, rt.start_error
        db, secret = rt.app.db, rt.app.secret

        def put(label: str, code: str, expires_in: dt.timedelta) -> int:
            now = dt.datetime.now(dt.UTC)
            with db.transaction() as s:
                comp = s.execute(select(Compartment).where(Compartment.label == label)).scalar_one()
                comp.state = "occupied"
                p = Parcel(
                    kind="result",
                    state="ready",
                    case_number=f"RT-{label}",
                    compartment_id=comp.id,
                    owner_id_hash=id_hash(secret, DEMO_APPLICANT.id_number),
                    code_hmac=code_hmac(secret, code),
                    created_at=now,
                    stored_at=now,
                    expires_at=now + expires_in,
                )
                s.add(p)
                s.flush()
                return p.id

        def reminders() -> list[OutboxMessage]:
            with db.transaction() as s:
                return [
                    m
                    for m in s.execute(select(OutboxMessage)).scalars()
                    if not m.sensitive and m.payload.get("template") == "PICKUP_REMINDER"
                ]

        def wait(n: int) -> list[OutboxMessage]:
            deadline = time.monotonic() + 30
            while len(got := reminders()) < n and time.monotonic() < deadline:
                time.sleep(0.2)
            return got

        due = put("A03", OLD_CODE, dt.timedelta(days=1))
        put("A04", "771204", dt.timedelta(days=5))  # not due for three days
        (first,) = wait(1)
        assert first.payload["case_number"] == "RT-A03" and first.ref_id == due
        assert set(first.payload["params"]) == {"cabinet", "expires"} and OLD_CODE not in json.dumps(
            first.payload
        )
        # A later round of the loop reminds a parcel due since, and still not the first one again.
        put("A05", "550132", dt.timedelta(hours=20))
        wait(2)
        time.sleep(3 * cfg.pickup.reminders_interval_s)  # more rounds: nothing new
        got = reminders()
        assert sorted(m.payload["case_number"] for m in got) == ["RT-A03", "RT-A05"], got
        with db.transaction() as s:
            queued = [
                r for r in s.execute(select(AuditRecord)).scalars() if r.action == "cabinet.reminder_queued"
            ]
        assert sorted(r.subject for r in queued) == sorted(f"parcel:{m.ref_id}" for m in got)
    finally:
        rt.stop()
