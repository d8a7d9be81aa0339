"""A cabinet belongs to one kiosk: the first kiosk to drive it on a database registers it; another is refused.

On a hall's shared database two kiosks configured with the same cabinet id would each sync "their" compartments
at start-up, taking over or disabling the other's (issue 11, item 4). Each kiosk registers the cabinets of its
config (``kv`` ``cabinet.owner.<id>``) before any lock bus is opened (``App.buses``); a cabinet registered to
another kiosk stops the start with one line naming both kiosks and the config key.
"""

from __future__ import annotations

import json
import logging

from sqlalchemy.exc import IntegrityError

from kiosk.config import Config
from kiosk.errors import ConfigError
from kiosk.storage.db import Database
from kiosk.storage.models import KeyValue

log = logging.getLogger(__name__)


class CabinetClash(ConfigError):
    """This kiosk's config names a cabinet that another kiosk on the database drives."""

    exit_code = 17


def owner_key(cabinet_id: str) -> str:
    return f"cabinet.owner.{cabinet_id}"


def claim(db: Database, cfg: Config) -> None:
    """Register this kiosk's cabinets, or refuse the first one another kiosk owns."""
    for attempt in range(2):  # two kiosks registering one cabinet at once: the loser reads the winner's row
        try:
            with db.transaction() as s:
                for n, cab in enumerate(cfg.cabinets):
                    row = s.get(KeyValue, owner_key(cab.id), with_for_update=True)
                    if row is None:
                        s.add(KeyValue(key=owner_key(cab.id), value=json.dumps({"kiosk": cfg.kiosk.id})))
                        log.info("cabinet %s registered to kiosk %s", cab.id, cfg.kiosk.id)
                        continue
                    owner = json.loads(row.value).get("kiosk")
                    if owner != cfg.kiosk.id:
                        raise CabinetClash(
                            f"{cfg.source}: cabinets[{n}].id: cabinet {cab.id} belongs to kiosk {owner} on this "
                            f"database; this is kiosk {cfg.kiosk.id}",
                            hint=f"Give this kiosk's cabinet its own id in cabinets[{n}].id; if cabinet {cab.id} "
                            f"really moved here, remove it from kiosk {owner}'s config and delete the kv row "
                            f"{owner_key(cab.id)!r}.",
                        )
            return
        except IntegrityError:
            if attempt:
                raise
