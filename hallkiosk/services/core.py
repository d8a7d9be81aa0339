"""What the runtime's services share: the parts the composition root builds, as a typed interface.

The runtime (``hallkiosk.runtime.Runtime``) provides it; a service takes it in its constructor and uses only what
is named here, so no service calls a method only a subclass provides.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from hallkiosk.wiring import App
    from kiosk.cabinet import Cabinet
    from kiosk.config import Config
    from kiosk.outbox_sender import OutboxSender


class Core(Protocol):
    """The parts: the config, the App (built on first use), the cabinet and outbox sender, the stop signal."""

    cfg: Config

    @property
    def app(self) -> App: ...

    @property
    def cabinet(self) -> Cabinet: ...

    @property
    def sender(self) -> OutboxSender: ...

    @property
    def stopping(self) -> threading.Event:
        """Set when the runtime stops: long waits end early."""
        ...

    def post(self, fn: Callable[[], None]) -> None:
        """Run ``fn`` on the UI's main thread."""
        ...
