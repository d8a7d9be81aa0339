"""Rotating the hall secret end to end (issue 11, item 1): codes, ID hashes and badges made under the old key still
match after `kiosk secret rotate`; new ones use the new key; sealed payloads are re-sealed; the old key is kept
while rows use it and retired once none does; kiosks with the wrong files are refused naming what to copy."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from sqlalchemy import select, update

from drivers.lockboard import SerialLockBus
from kiosk import audit, outbox
from kiosk.cabinet import Cabinet
from kiosk.clock import FakeClock
from kiosk.config import CabinetConfig, Config, PickupConfig
from kiosk.datadir import open_database
from kiosk.hall_secret import FINGERPRINT_KEY, SecretMismatch, older_file, open_hall_secret, retire
from kiosk.keyring import HallKeys
from kiosk.sealing import sealed_with, unseal
from kiosk.staff import StaffDirectory
from kiosk.storage.db import Database
from kiosk.storage.models import KeyValue, OutboxMessage, Parcel, StaffBadge
from tests.cabinet.cabinet_support import CAB_ID, FakePlatform, case, person
from tests.support.cli import run_cli

SEALED = {"notice": "PICKUP_READY", "code": "12345678"}


def _cabinet(
    db: Database, bus: SerialLockBus, cab_cfg: CabinetConfig, clock: FakeClock, keys: bytes, cfg: Config
) -> Cabinet:
    cab = Cabinet(
        db,
        {CAB_ID: bus},
        [cab_cfg],
        PickupConfig(),
        clock,
        keys,
        cfg.kiosk.id,
        platform=FakePlatform(),
        close_poll_interval_s=0.02,
    )
    cab.start()
    return cab


def _deposit(cab: Cabinet, sim, n: int) -> tuple[str, int]:
    h = cab.start_deposit(case(n), actor="staff", size="S")
    sim.put_item(0, int(h.label[1:]))
    sim.close_door(0, int(h.label[1:]))
    r = cab.wait_closed(h)
    assert r.code is not None and r.parcel_id is not None
    return r.code, r.parcel_id


def _take(cab: Cabinet, sim, handle) -> str:
    ch = int(handle.label[1:])
    assert sim.is_open(0, ch)
    sim.take_item(0, ch)
    sim.close_door(0, ch)
    return cab.wait_closed(handle).outcome


def test_rotation_keeps_old_hashes_working_and_retires_the_key_once_unused(
    cfg: Config, bus: SerialLockBus, sim, cab_cfg: CabinetConfig, clock: FakeClock, tmp_path: Path
) -> None:
    db = open_database(cfg)
    keys = open_hall_secret(cfg, db)
    k1 = keys.key_id
    cab = _cabinet(db, bus, cab_cfg, clock, keys, cfg)
    code1, _p1 = _deposit(cab, sim, 1)
    _code2, p2 = _deposit(cab, sim, 2)
    staff = StaffDirectory(db, keys, clock)
    staff.add("S0042", "张三", ["staff"], actor="test")
    staff.add_badge("S0042", "0A0B0C0D", actor="test")
    with db.transaction() as s:
        sealed_id = outbox.enqueue(
            s, clock.now(), "NotifyApplicant", dict(SEALED), secret=keys, sensitive=True
        ).id
        assert {p.key_id for p in s.execute(select(Parcel)).scalars()} == {k1}  # stamped at insert
        assert s.execute(select(StaffBadge.key_id)).scalar_one() == k1
        tokens = [m.payload["sealed"] for m in s.execute(select(OutboxMessage)).scalars() if m.sensitive]
    n_sealed = len(tokens)
    assert n_sealed == 3 and {sealed_with(t) for t in tokens} == {k1}
    before_rotation = tmp_path / "secret-before-rotation.key"
    shutil.copy2(cfg.secret_path, before_rotation)

    res = run_cli(cfg.source, "secret", "rotate", "--actor", "technician:T1")
    assert res.code == 0, res.err
    keys2 = open_hall_secret(cfg, db)  # as the kiosk reads its files at its next start
    k2 = keys2.key_id
    assert k2 != k1 and set(keys2.active) == {k1, k2} and bytes(keys2) != bytes(keys)
    assert f"new key {k2}" in res.out and f"kept key {k1}: 3 row(s)" in res.out
    assert f"re-sealed {n_sealed} waiting payload(s)" in res.out  # the deposits' pickup SMS and ours
    assert older_file(cfg.secret_path, k1).read_bytes() == bytes(keys)
    assert (
        older_file(cfg.secret_path, k1).stat().st_mode & 0o077 == 0
        and cfg.secret_path.stat().st_mode & 0o077 == 0
    )
    with db.transaction() as s:
        token = s.get(OutboxMessage, sealed_id).payload["sealed"]
        assert {
            sealed_with(m.payload["sealed"])
            for m in s.execute(select(OutboxMessage)).scalars()
            if m.sensitive and m.payload.get("sealed")
        } == {k2}
    assert unseal(HallKeys(bytes(keys2)), token) == SEALED  # the new key alone opens it

    cab2 = _cabinet(db, bus, cab_cfg, clock, keys2, cfg)
    # A code texted before the rotation opens its door; the owner's card finds the other parcel.
    h = cab2.start_pickup_by_code(code1)
    assert _take(cab2, sim, h) == "picked_up"
    assert [v.id for v in cab2.parcels_for(person(1))] == [p2]
    assert _take(cab2, sim, cab2.start_pickup_by_identity(person(1))) == "picked_up"
    assert StaffDirectory(db, keys2, clock).by_badge("0a0b0c0d") is not None
    # What is made now uses the new key.
    code3, p3 = _deposit(cab2, sim, 3)
    with db.transaction() as s:
        assert s.get(Parcel, p3).key_id == k2
    assert _take(cab2, sim, cab2.start_pickup_by_code(code3)) == "picked_up"

    # A kiosk still holding only the pre-rotation file, or the new file without the older key, is refused.
    other = cfg.model_copy(update={"kiosk": cfg.kiosk.model_copy(update={"id": "LOBBY-02"})})
    current_file = cfg.secret_path  # (secret_path follows KIOSK_SECRET_FILE, set below)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KIOSK_SECRET_FILE", str(before_rotation))
        with pytest.raises(SecretMismatch, match=f"rotated to {k2}"):
            open_hall_secret(other, db)
        lone = tmp_path / "lone" / "secret.key"
        lone.parent.mkdir(mode=0o700)
        shutil.copy2(current_file, lone)
        mp.setenv("KIOSK_SECRET_FILE", str(lone))
        with pytest.raises(SecretMismatch, match=f"secret.key.{k1}: missing") as err:
            open_hall_secret(other, db)
        assert f"secret.key.{k1}" in (err.value.hint or "")

    # The old key stays while rows hold hashes made with it ...
    now = clock.now()
    r = retire(cfg, db, keys2, now, actor="technician:T1")
    assert r.retired == [] and r.kept == {
        k1: 3
    }  # 2 parcels' owner hashes and the badge (the seal was redone)
    # ... and goes once they aged out (a retention job clears finished parcels' hashes; the badge is re-issued).
    with db.transaction() as s:
        s.execute(update(Parcel).where(Parcel.key_id == k1).values(owner_id_hash=None))
    staff2 = StaffDirectory(db, keys2, clock)
    staff2.remove_badge("S0042", "0A0B0C0D", actor="test")
    staff2.add_badge("S0042", "0A0B0C0D", actor="test")
    res = run_cli(cfg.source, "secret", "retire", "--actor", "technician:T1")
    assert res.code == 0 and f"retired key {k1}: no row uses it any more" in res.out
    assert not older_file(cfg.secret_path, k1).exists()
    keys3 = open_hall_secret(cfg, db)  # starts without the retired key's file
    assert set(keys3.active) == {k2}
    assert StaffDirectory(db, keys3, clock).by_badge("0A0B0C0D") is not None
    with db.transaction() as s:
        rec = json.loads(s.get(KeyValue, FINGERPRINT_KEY).value)
        assert rec["older"] == [] and rec["fingerprint"][:12] == k2
        actions = [(e.action, e.subject) for e in audit.search(s, action="secret.")]
        assert audit.verify(s).ok
    assert ("secret.rotate", f"key:{k2}") in actions and ("secret.retire", f"key:{k1}") in actions
