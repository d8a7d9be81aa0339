"""One kiosk of the fleet test, in its own process: deposit + pickup cycles on its own cabinet, its outbox sender
running, until it is killed (possibly mid-cycle, by kill -9, then started again on the same data directory).

Usage: python -m tests.fleet.fleet_kiosk CONFIG CASES_JSON
CASES_JSON: [[case_number, id_number, name], ...]. The cabinet's lock board is a simulator in the test process
(the hardware outlives the kiosk process); a "hand" there puts in or takes out what each opened door is for.
Prints "DONE <finished> <staff>" once every case is finished or left to staff, then keeps sending.
"""

from __future__ import annotations

import json
import sys
import threading
import time

from sqlalchemy import select

from hallkiosk.wiring import App
from kiosk.cabinet import Cabinet
from kiosk.cabinet import states as S
from kiosk.config import load_config
from kiosk.errors import KioskError
from kiosk.identity import Identity
from kiosk.outbox_sender import OutboxSender
from kiosk.storage.models import Parcel

FINISHED = (S.PICKED_UP, S.RETURNED, S.COLLECTED)


def main() -> None:
    cfg = load_config(sys.argv[1])
    cases = json.loads(open(sys.argv[2], encoding="utf-8").read())
    app = App(cfg)
    cab = Cabinet(
        app.db,
        app.buses,
        cfg.cabinets,
        cfg.pickup,
        app.clock,
        app.secret,
        cfg.kiosk.id,
        platform=app.platform,
        close_poll_interval_s=0.02,
    )
    cab.start()  # settles the flows a kill -9 left open
    sender = OutboxSender(
        app.db, app.platform, app.secret, app.clock, cfg.platform, lease_margin_s=1.0, poll_interval_s=0.5
    )
    sender.start()
    # As the running kiosk's doors loop does (hallkiosk's settle_doors): a door that read unknown or was left
    # open is settled once it shuts, so the "no second door while one is unknown" rule does not stall the cycles.
    threading.Thread(target=_settle_doors, args=(cab,), daemon=True, name="cabinet-doors").start()
    print("ready", flush=True)
    staff = finished = 0
    for number, id_number, name in cases:
        person = Identity(id_number=id_number, name=name, card_kind="resident_id")
        errors = 0
        while True:
            with app.db.transaction() as s:
                p = (
                    s.execute(
                        select(Parcel)
                        .where(
                            Parcel.case_number == number, Parcel.kind == S.RESULT, Parcel.state != S.CANCELLED
                        )
                        .order_by(Parcel.id.desc())
                    )
                    .scalars()
                    .first()
                )
                state = p.state if p is not None else None
            try:
                if state is None:
                    r = cab.deposit(number, actor="staff:fleet", size="S", timeout_s=30)
                    if r.code is not None:
                        cab.pickup_by_code(r.code, timeout_s=30)
                    continue  # look again: picked up, or what the flows left
                if state == S.READY:  # its code died with a killed process: the owner's card
                    cab.pickup_by_identity(person, timeout_s=30)
                    continue
            except KioskError as err:
                print(f"case {number}: {type(err).__name__}: {err.message}", flush=True)
                errors += 1
                if errors < 5:
                    time.sleep(0.2)
                    continue
                state = (
                    "refused"  # left to staff (a door fault, a full cabinet): counted, never retried forever
                )
            if state in FINISHED:
                finished += 1
            else:
                staff += 1  # attention and the like: a staff task says why
            break
    print(f"DONE {finished} {staff}", flush=True)
    while True:
        time.sleep(1)


def _settle_doors(cab: Cabinet) -> None:
    while True:
        time.sleep(0.5)
        try:
            cab.settle_open_flows()
            cab.recheck_boards()
        except Exception as err:  # a database hiccup under kill -9 of a peer: the next round tries again
            print(f"settle: {type(err).__name__}: {err}", flush=True)


if __name__ == "__main__":
    main()
