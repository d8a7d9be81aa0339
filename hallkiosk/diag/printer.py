"""Receipt printer check: the printer's own real-time status (paper, cover, online), asked now.

The heartbeat's passive run asks too: a status query is a few bytes the printer
answers at once, and an out-of-paper printer is exactly what the hall must hear
about before citizens start leaving without receipts. The query goes through
the process's one printer object (``build_printer``), so it waits for a
receipt being printed rather than cutting into it.
"""

from __future__ import annotations

from hallkiosk.diag.runner import Ctx
from kiosk.diag_model import Check
from kiosk.errors import KioskError

DEVICE = "printer"


def run(ctx: Ctx) -> list[Check]:
    from drivers.printer import build_printer

    pc = ctx.cfg.printer
    if pc.kind == "none":
        # No device to report: the receipt is the QR code on screen.
        return [
            ctx.check("printer.none", "printer", "receipt printer").ok(
                "no receipt printer configured", kind="none"
            )
        ]
    p = ctx.check("printer.status", "printer", f"receipt printer ({pc.kind})", DEVICE)
    data: dict[str, object] = {"kind": pc.kind, "target": pc.target, "simulated": pc.kind == "sim"}
    try:
        printer = build_printer(pc, ctx.cfg.data_dir)
    except KioskError as err:  # e.g. the simulator finds no CJK font
        return [p.fault(f"the printer could not be set up: {err.message}", err.hint, **data)]
    assert printer is not None
    st = printer.status()
    data.update(online=st.online, paper=st.paper, cover_open=st.cover_open, status_bytes=st.raw)
    if st.raw.startswith("1:-"):  # it sat through the status timeout waiting for a silent printer
        p.waited_s = float(getattr(printer, "status_timeout_s", 0.0))
    return [p.done(st.state, st.finding, st.hint, **data)]
