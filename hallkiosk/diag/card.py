"""Card reader checks: pcscd and the PC/SC readers by configured name (a card's ATR), GA 467 SAM status and id.

Probes never read a card's personal data: PC/SC readers are asked for their state
(which carries the ATR) without connecting to the card; a GA 467 reader is asked
for its SAM status, SAM id and whether a card is in the field, never to read it.
"""

from __future__ import annotations

import re
from typing import Any

from hallkiosk.diag.runner import Ctx, Pending
from kiosk.config import CardReaderConfig
from kiosk.diag_model import Check
from kiosk.errors import CardReaderError, KioskBusy, KioskError

PCSC_HINT = (
    "Start pcscd (`systemctl start pcscd.socket`, or `pcscd` as root) and check the reader's USB cable."
)
GA_HINT = "Check the reader's USB-serial cable and power and the `url` in the config; power-cycle the reader."
GA_SAM_ID = (0x12, 0xFF)  # GA 467: read the SAM's id (not in every reader's firmware)
GA_TIMEOUT_S = 0.5


def run(ctx: Ctx) -> list[Check]:
    cfgs = ctx.cfg.card_readers
    if not cfgs:
        return [ctx.check("card.none", "card", "card readers").ok("no card reader configured")]
    out: list[Check] = []
    pcsc_state: dict[str, Any] | None = None
    if any(rc.kind == "pcsc" for rc in cfgs):
        check, pcsc_state = pcscd(ctx)
        out.append(check)
    try:
        readers = _built_readers(ctx)
        busy = None
    except KioskBusy as err:
        readers, busy = None, err
    for i, rc in enumerate(cfgs):
        if rc.kind == "pcsc":
            out.append(pcsc_reader(ctx, i, rc, pcsc_state))
        elif busy is not None:
            # The running kiosk's watcher has the serial port; a second opener would break its polls.
            out.append(
                ctx.check(
                    f"card.reader.{i}", "card", f"GA 467 reader {rc.name or rc.url}", device_name(i, rc)
                ).degraded(
                    f"not probed: {busy.message}",
                    "Run the diagnostics from the technician screen, or stop the kiosk first.",
                )
            )
        else:
            out.append(ga467_reader(ctx, i, rc, readers[i] if readers else None))
    return out


def device_name(i: int, rc: CardReaderConfig) -> str:
    return f"cardreader.{rc.name or f'{rc.kind}-{i}'}"


def _built_readers(ctx: Ctx) -> list[Any] | None:
    """The app's reader objects (a simulated GA 467 exists only there); None when they cannot be built."""
    try:
        return list(ctx.app.card_readers)
    except KioskBusy:
        raise
    except (KioskError, OSError):
        return None


# --- PC/SC ----------------------------------------------------------------------
def _pcsc_snapshot() -> dict[str, Any]:
    """Ask pcscd for its readers and each one's state and ATR, in one short-lived context."""
    from smartcard import scard as sc

    hr, ctx = sc.SCardEstablishContext(sc.SCARD_SCOPE_USER)
    if hr != sc.SCARD_S_SUCCESS:
        return {"error": sc.SCardGetErrorMessage(hr)}
    try:
        hr, names = sc.SCardListReaders(ctx, [])
        if hr != sc.SCARD_S_SUCCESS:
            if (hr & 0xFFFFFFFF) == (sc.SCARD_E_NO_READERS_AVAILABLE & 0xFFFFFFFF):
                return {"readers": {}}
            return {"error": sc.SCardGetErrorMessage(hr)}
        readers: dict[str, dict[str, Any]] = {}
        for name in names or []:
            hr, states = sc.SCardGetStatusChange(ctx, 0, [(name, sc.SCARD_STATE_UNAWARE)])
            if hr != sc.SCARD_S_SUCCESS:
                readers[name] = {"card": None}
                continue
            _, event, atr = states[0]
            present = bool(event & sc.SCARD_STATE_PRESENT)
            mute = bool(event & sc.SCARD_STATE_MUTE)
            readers[name] = {
                "card": present,
                "mute": mute,
                "atr": bytes(atr).hex(" ").upper() if present and atr else None,
            }
        return {"readers": readers}
    finally:
        sc.SCardReleaseContext(ctx)


def pcscd(ctx: Ctx) -> tuple[Check, dict[str, Any]]:
    p = ctx.check("card.pcscd", "card", "pcscd", "pcscd")
    try:
        snap = _pcsc_snapshot()
    except ImportError as err:
        return p.fault(
            f"pyscard is not installed: {err}", "Install the kiosk with its dependencies (`make deps`)."
        ), {}
    if "error" in snap:
        return p.fault(f"pcscd not reachable: {snap['error']}", PCSC_HINT), snap
    names = sorted(snap["readers"])
    return p.ok(f"pcscd answers; {len(names)} reader(s): {', '.join(names) or 'none'}", readers=names), snap


def pcsc_reader(ctx: Ctx, i: int, rc: CardReaderConfig, snap: dict[str, Any] | None) -> Check:
    p = ctx.check(f"card.reader.{i}", "card", f"PC/SC reader {rc.name or '(any)'}", device_name(i, rc))
    pattern = rc.name or "."
    if not snap or "error" in snap:
        why = snap.get("error") if snap else "pcscd not checked"
        return p.fault(f"reader {pattern!r} unknown: pcscd not reachable ({why})", PCSC_HINT, pattern=pattern)
    matches = sorted(n for n in snap["readers"] if re.search(pattern, n))
    if not matches:
        seen = ", ".join(sorted(snap["readers"])) or "none"
        return p.fault(
            f"no PC/SC reader matches {pattern!r} (readers seen: {seen})",
            "Plug the reader in, or fix `name` in the config to match one of the readers seen.",
            pattern=pattern,
        )
    name = matches[0]
    st = snap["readers"][name]
    data = {"pattern": pattern, "reader": name, "card_present": st.get("card"), "atr": st.get("atr")}
    if st.get("mute"):
        return p.degraded(
            f"{name}: a card is in but does not answer (mute)",
            "Turn the card round or try another; clean the contacts.",
            **data,
        )
    card = f"card in, ATR {st['atr']}" if st.get("card") else "no card in"
    more = f" (also matches: {', '.join(matches[1:])})" if len(matches) > 1 else ""
    return p.ok(f"{name} present; {card}{more}", **data)


# --- GA 467 ---------------------------------------------------------------------
def ga467_reader(ctx: Ctx, i: int, rc: CardReaderConfig, reader: Any | None) -> Check:
    from drivers.cardreader.ga467 import Ga467Reader, ReaderBusy

    p = ctx.check(f"card.reader.{i}", "card", f"GA 467 reader {rc.name or rc.url}", device_name(i, rc))
    url = getattr(reader, "url", None) or rc.url
    sim = " (simulated)" if rc.kind == "sim" else ""
    data: dict[str, Any] = {"url": url, "simulated": rc.kind == "sim"}
    if not url:
        return p.fault("the reader could not be built: no serial port", GA_HINT, **data)
    if reader is None:
        reader = Ga467Reader(url, name=rc.name or None)
    if not reader.running:
        try:
            with reader.opened() as port:
                return _probe_ga467(p, port, url, sim, data)
        except ReaderBusy:
            pass  # its watcher started meanwhile: ask the running reader below
        except CardReaderError as err:
            return p.fault(err.message, GA_HINT, **data)
    # The watcher thread owns the port: never open it a second time. Passive runs (the heartbeat) take the
    # reader's own word; a full run asks through the reader, whose lock keeps its polls and ours apart.
    if not reader.is_present():
        return p.fault(f"GA 467 reader at {url}{sim} does not answer its SAM status polls", GA_HINT, **data)
    if ctx.opts.passive:
        return p.ok(f"GA 467 at {url}{sim}: the running reader's SAM answers", **data)
    return _probe_ga467(p, reader, url, sim, data)


def _probe_ga467(p: Pending, port: Any, url: str, sim: str, data: dict[str, Any]) -> Check:
    """SAM status, SAM id and card presence, through a reader whose port is open."""
    from drivers.cardreader import ga467_frames as F

    timeout = float(getattr(port, "sam_timeout_s", GA_TIMEOUT_S))
    try:
        F.check_sw3(port.transact(F.SAM_STATUS, timeout, "SAM status").sw3, "SAM status")
    except KioskError as err:
        if "no reply" in err.message or isinstance(err, TimeoutError):
            p.waited_s = timeout
            return p.fault(f"GA 467 reader at {url}{sim} does not answer: {err.message}", GA_HINT, **data)
        return p.fault(f"GA 467 SAM fault at {url}{sim}: {err.message}", err.hint, **data)
    except (OSError, ValueError) as err:  # pyserial's SerialException is an OSError
        return p.fault(f"GA 467 reader at {url}{sim}: port error: {err}", GA_HINT, **data)
    data["sam"] = "ok"
    sam_id = _sam_id(port, timeout)
    data["sam_id"] = sam_id
    try:
        data["card_present"] = port.find_card()
    except (KioskError, OSError):
        data["card_present"] = None
    card = {True: "a card is on the reader", False: "no card on the reader", None: "card presence unknown"}[
        data["card_present"]
    ]
    ident = (
        f"SAM id {sam_id}"
        if sam_id
        else "SAM id not readable (this firmware does not answer the SAM id command)"
    )
    return p.ok(f"GA 467 at {url}{sim}: SAM answers OK; {ident}; {card}", **data)


def _sam_id(port: Any, timeout: float) -> str | None:
    """The SAM's id as hex, or None when the reader does not answer the command."""
    from drivers.cardreader import ga467_frames as F

    try:
        frame = port.transact(F.request(*GA_SAM_ID), timeout, "SAM id")
    except KioskError:
        return None
    if frame.sw3 != F.SW3_OK or not frame.data:
        return None
    return bytes(frame.data).hex().upper()
