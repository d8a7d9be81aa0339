"""A citizen's errands at the kiosk, ``rt.citizen``: pick up a result, drop off materials, see one's cases,
have a lost pickup code sent again, ask for help, print a receipt.

Filing a matter is ``rt.filing`` and rating or writing to 12345 is ``rt.feedback``; the door screen's wait is
``rt.doors``. Every method may block (the UI calls it on a worker); none touches the UI.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from hallkiosk.services.core import Core
from kiosk import receipts
from kiosk.clock import local
from kiosk.errors import PlatformError
from kiosk.identity import Identity
from kiosk.platform_models import CaseSummary, Matter

if TYPE_CHECKING:
    from kiosk.cabinet import FlowHandle, FlowResult
    from kiosk.case_details import CaseDetail
    from kiosk.help import HelpOutcome
    from kiosk.pickup_notices import Resent


class CitizenService:
    """What a citizen's pickup, drop-off, cases and help screens call."""

    def __init__(self, core: Core) -> None:
        self.core = core

    # --- results in the cabinet ---------------------------------------------------------------------------
    def pickup_by_code(self, code: str) -> FlowHandle:
        return self.core.parts.cabinet.start_pickup_by_code(code)

    def pickup_by_identity(self, identity: Identity) -> FlowHandle:
        return self.core.parts.cabinet.start_pickup_by_identity(identity)

    def resendable(self, identity: Identity) -> list[tuple[int, str, str, str]]:
        """The card holder's results waiting in this kiosk's cabinets: (parcel id, case, cabinet, compartment)."""
        return self.core.parts.pickup_notices.resendable(identity.id_number)

    def resend_code(self, identity: Identity, parcel_id: int) -> Resent:
        """A new pickup code by SMS for a lost one (PICKUP_CODE_RESEND); the old code is dead on return."""
        return self.core.parts.pickup_notices.resend_code(identity.id_number, parcel_id)

    # --- materials into the cabinet -----------------------------------------------------------------------
    def dropoff_choices(self, identity: Identity) -> tuple[list[CaseSummary], tuple[Matter, ...]]:
        from kiosk.case_details import open_for_materials

        try:
            cases = open_for_materials(self.cases_of(identity))
        except PlatformError:
            cases = []  # the platform is down: drop-off by matter still works from the cached catalog
        return cases, self.core.parts.catalog.matters()

    def dropoff(
        self,
        identity: Identity,
        *,
        case_number: str | None = None,
        matter_code: str | None = None,
        matter_name: str | None = None,
        size: str = "M",
    ) -> FlowHandle:
        """Open a door of the size the citizen chose for their materials (the screen confirmed matter and size)."""
        return self.core.parts.cabinet.start_dropoff(
            identity, case_number=case_number, matter_code=matter_code, matter_name=matter_name, size=size
        )

    def receipt_lines_for_dropoff(self, res: FlowResult) -> list[str]:
        cfg = self.core.cfg.kiosk
        return receipts.dropoff_lines(cfg, res.label, res.receipt_number, local(self.core.app.clock))

    def print_receipt(self, lines: Sequence[str], qr: str | None) -> None:
        printer = self.core.printer
        if printer is not None:
            printer.print_receipt(lines, qr)

    # --- 我的办件 ------------------------------------------------------------------------------------------
    def cases_of(self, identity: Identity) -> list[CaseSummary]:
        platform = self.core.app.platform
        return self.core.platform_call(platform.query_cases, applicant_id_number=identity.id_number)

    def case_details(self, identity: Identity) -> list[CaseDetail]:
        """我的办件 with each case's details and where its result is (live; QueryUnavailable when down)."""
        # QueryUnavailable is a PlatformUnavailable: platform_call keeps the start screen's notice true either way.
        return self.core.platform_call(self.core.parts.cases.mine, identity.id_number)

    # --- help -----------------------------------------------------------------------------------------------
    def request_help(self, screen: str, language: str) -> HelpOutcome:
        """The "Get help" button: a staff task now, then the platform's answer (bounded by its timeout)."""
        return self.core.parts.help.request_help(screen, language=language)
