"""The provincial platform client (zeep on the shipped WSDL) and its simulator."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from backend_client.client import PlatformClient
from kiosk.config import PlatformConfig
from kiosk.errors import ConfigError
from kiosk.ports import Built, Platform

if TYPE_CHECKING:
    from backend_client.sim import PlatformSim

__all__ = ["PlatformClient", "SimulatedPlatformClient", "build_platform"]

log = logging.getLogger(__name__)


class SimulatedPlatformClient(PlatformClient):
    """The production client talking to a PlatformSim it owns; close() stops the simulator too."""

    simulated = True

    def __init__(self, sim: PlatformSim, *args: object, **kwargs: object) -> None:
        self.sim = sim
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]

    def close(self) -> None:
        try:
            super().close()
        finally:
            self.sim.stop()


def build_platform(cfg: PlatformConfig, kiosk_id: str, password: str | None) -> Built[Platform, PlatformSim]:
    """The platform named by the config: a PlatformClient on a URL, or on a simulator started here for "sim"
    (returned with it; the client's close() stops it)."""
    if cfg.endpoint == "sim":
        from backend_client.sim import DEMO_PASSWORD, PlatformSim

        pw = password or DEMO_PASSWORD
        # The demo's platform moves 12345 tickets and 差评 along within seconds, as the province's test endpoint does.
        sim = PlatformSim(
            host="127.0.0.1", port=0, users={cfg.username: (pw, [kiosk_id])}, auto_advance=True
        ).start()
        log.warning("SIMULATED provincial platform active on %s: nothing reaches the real platform", sim.url)
        try:
            client = SimulatedPlatformClient(
                sim,
                sim.url,
                cfg.username,
                pw,
                kiosk_id,
                timeout_s=cfg.timeout_s,
                connect_timeout_s=cfg.connect_timeout_s,
                interface_version=cfg.interface_version,
            )
        except Exception:
            sim.stop()
            raise
        return Built(client, sim)
    if not password:
        raise ConfigError(
            f"platform.password_env / platform.password_file: no password for platform user {cfg.username!r} "
            f"(environment variable {cfg.password_env or '(none)'} is unset and no password_file is given)",
            hint="Set the environment variable named by platform.password_env, or point platform.password_file "
            "at a 0600 file holding the password.",
        )
    client = PlatformClient(
        cfg.endpoint,
        cfg.username,
        password,
        kiosk_id,
        timeout_s=cfg.timeout_s,
        connect_timeout_s=cfg.connect_timeout_s,
        ca_file=cfg.ca_file or None,
        interface_version=cfg.interface_version,
    )
    client.simulated = False
    return Built(client)
