"""What the runtime's services share: the parts the composition root builds, as a typed interface.

The runtime (``hallkiosk.runtime.Runtime``) provides it; a service takes it in its constructor and uses only what
is named here, so no service calls a method only a subclass provides.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

if TYPE_CHECKING:
    from hallkiosk.services.parts import Parts
    from hallkiosk.wiring import App
    from kiosk.config import Config
    from kiosk.ports import Printer

T = TypeVar("T")


class Core(Protocol):
    """The config, the App (built on first use), the core services (``parts``), the printer once start-up made it,
    the stop signal, the UI's main thread, and the start screen's platform notice."""

    cfg: Config
    parts: Parts
    printer: Printer | None

    @property
    def app(self) -> App: ...

    @property
    def stopping(self) -> threading.Event:
        """Set when the runtime stops: long waits end early."""
        ...

    def post(self, fn: Callable[[], None]) -> None:
        """Run ``fn`` on the UI's main thread."""
        ...

    def set_platform_status(self, reachable: bool, detail: str = "") -> None:
        """What the start screen says about the platform (told to the UI only when it changes)."""
        ...

    def platform_call(self, fn: Callable[..., T], *args: Any, **kw: Any) -> T:
        """A direct platform call that also keeps the start screen's reachability notice true."""
        ...
