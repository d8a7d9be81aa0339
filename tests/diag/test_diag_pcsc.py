"""PC/SC through a private pcscd with vsmartcard-vpcd: reader present, a card's ATR, and pcscd stopped.

`kiosk diag` runs as a subprocess so its PC/SC client library finds this test's daemon
(libpcsclite reads PCSCLITE_CSOCK_NAME once per process). The daemon runs in its own mount
namespace with /run/pcscd bind-mounted, as the card reader tests do. Needs root: fails under CI
when it cannot run, skips elsewhere.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from drivers.cardreader.vcard import VirtualSocialSecurityCard
from drivers.cardreader.vpcd_daemon import PrivatePcscd, free_port_pair, unavailable
from tests.support.cli import run_cli

from .conftest import Rig, check


@pytest.fixture
def pcscd(tmp_path: Path) -> Iterator[PrivatePcscd]:
    why = unavailable()
    if why:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(why)
        pytest.skip(why)
    d = PrivatePcscd(tmp_path / "pcscd", free_port_pair())
    d.start(probe=False)
    yield d
    d.stop()


def _diag(rig: Rig, daemon: PrivatePcscd) -> tuple[int, dict]:
    r = run_cli(
        rig.config,
        "diag",
        "--json",
        "--only",
        "card",
        own_process=True,
        env={"PCSCLITE_CSOCK_NAME": str(daemon.socket_path)},
    )
    return r.code, json.loads(r.out)


PCSC_READERS = (
    '[[card_readers]]\nkind = "pcsc"\nname = "Virtual PCD 00 00"\n\n'
    '[[card_readers]]\nkind = "pcsc"\nname = "^No Such Reader"\n'
)


def test_pcsc_reader_present_with_a_card_atr(rig: Rig, pcscd: PrivatePcscd) -> None:
    rig.write_config(readers=PCSC_READERS)
    card = VirtualSocialSecurityCard("张三", "110105199001011232")
    card.insert(port=pcscd.port)
    try:
        time.sleep(0.5)
        code, rep = _diag(rig, pcscd)
    finally:
        card.remove()
    assert check(rep, "card.pcscd")["status"] == "OK"
    r0 = check(rep, "card.reader.0")
    assert r0["status"] == "OK" and r0["data"]["reader"] == "Virtual PCD 00 00"
    assert "card in, ATR 3B 80 80 01 01" in r0["finding"]
    missing = check(rep, "card.reader.1")
    assert missing["status"] == "FAULT" and "no PC/SC reader matches '^No Such Reader'" in missing["finding"]
    assert code == 2


def test_pcscd_stopped(rig: Rig, pcscd: PrivatePcscd) -> None:
    rig.write_config(readers=PCSC_READERS.split("\n\n")[0] + "\n")
    code, rep = _diag(rig, pcscd)
    assert code == 0 and "no card in" in check(rep, "card.reader.0")["finding"]
    pcscd.stop()
    code, rep = _diag(rig, pcscd)
    d = check(rep, "card.pcscd")
    assert code == 2 and d["status"] == "FAULT"
    assert d["finding"].startswith("pcscd not reachable:")
    assert "pcscd" in d["hint"]
    assert check(rep, "card.reader.0")["status"] == "FAULT"
