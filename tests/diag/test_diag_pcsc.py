"""PC/SC through a private pcscd with vsmartcard-vpcd: reader present, a card's ATR, and pcscd stopped.

`kiosk diag` runs as a subprocess so its PC/SC client library finds this test's daemon
(libpcsclite reads PCSCLITE_CSOCK_NAME once per process). The daemon runs in its own mount
namespace with /run/pcscd bind-mounted, as the card reader tests do. Needs root: fails under CI
when it cannot run, skips elsewhere.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from drivers.cardreader.vcard import VirtualSocialSecurityCard

from .conftest import Rig, check

VPCD_LIB = Path("/usr/lib/pcsc/drivers/serial/libifdvpcd.so")


class Pcscd:
    """A private pcscd whose vpcd listens on ``port`` (reader 0) and ``port + 1``."""

    def __init__(self, root: Path) -> None:
        self.root, self.port = root, _free_pair()
        (root / "conf").mkdir(parents=True)
        (root / "run").mkdir()
        (root / "conf" / "vpcd").write_text(f'FRIENDLYNAME "Virtual PCD"\nDEVICENAME /dev/null:0x{self.port:04X}\n'
                                            f"LIBPATH {VPCD_LIB}\nCHANNELID 0x{self.port:04X}\n")
        self.sock = root / "run" / "pcscd.comm"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        script = (f"mount --make-rprivate / && mkdir -p /run/pcscd && mount --bind '{self.root / 'run'}' /run/pcscd && "
                  f"exec pcscd --foreground --config '{self.root / 'conf'}'")
        self.proc = subprocess.Popen(["unshare", "--mount", "sh", "-c", script], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.sock.exists():
                time.sleep(0.3)  # the vpcd readers appear just after the socket
                return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError("private pcscd did not come up")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=5)
        self.proc = None


def _free_pair() -> int:
    for _ in range(50):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            p = s.getsockname()[1]
        try:
            with socket.socket() as a, socket.socket() as b:
                a.bind(("0.0.0.0", p))
                b.bind(("0.0.0.0", p + 1))
            return p
        except OSError:
            continue
    raise RuntimeError("no free port pair for vpcd")


@pytest.fixture
def pcscd(tmp_path: Path) -> Iterator[Pcscd]:
    why = None
    if shutil.which("pcscd") is None or not VPCD_LIB.exists() or shutil.which("unshare") is None:
        why = "pcscd, vsmartcard-vpcd or unshare is not installed"
    elif os.geteuid() != 0:
        why = "a private pcscd needs root (a mount namespace)"
    if why:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(why)
        pytest.skip(why)
    d = Pcscd(tmp_path / "pcscd")
    d.start()
    yield d
    d.stop()


def _diag(rig: Rig, daemon: Pcscd) -> tuple[int, dict]:
    env = {**os.environ, "PCSCLITE_CSOCK_NAME": str(daemon.sock)}
    r = subprocess.run([sys.executable, "-m", "hallkiosk.cli", "-c", str(rig.config), "diag", "--json", "--only", "card"],
                       capture_output=True, text=True, env=env, timeout=60)
    return r.returncode, json.loads(r.stdout)


PCSC_READERS = ('[[card_readers]]\nkind = "pcsc"\nname = "Virtual PCD 00 00"\n\n'
                '[[card_readers]]\nkind = "pcsc"\nname = "^No Such Reader"\n')


def test_pcsc_reader_present_with_a_card_atr(rig: Rig, pcscd: Pcscd) -> None:
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


def test_pcscd_stopped(rig: Rig, pcscd: Pcscd) -> None:
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
