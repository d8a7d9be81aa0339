"""The matter catalog: fetched from the platform, cached in the database, served from the cache when it is down."""

from __future__ import annotations

import logging
import threading
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, select

from kiosk.clock import Clock
from kiosk.errors import PlatformError, PlatformUnavailable, ValidationError
from kiosk.platform_models import Bundle, Catalog, Eligibility, FieldSpec, Material, Matter, MatterGuide
from kiosk.ports import Platform
from kiosk.storage.db import Database
from kiosk.storage.models import CatalogCache

log = logging.getLogger(__name__)


def _spec_json(f: FieldSpec) -> dict[str, Any]:
    return {
        "key": f.key,
        "label": f.label,
        "label_en": f.label_en,
        "type": f.type,
        "required": f.required,
        "max_length": f.max_length,
        "pattern": f.pattern,
        "choices": list(f.choices),
    }


def _spec(f: dict[str, Any]) -> FieldSpec:
    return FieldSpec(
        key=f["key"],
        label=f["label"],
        type=f["type"],
        required=bool(f["required"]),
        label_en=f.get("label_en"),
        max_length=f.get("max_length"),
        pattern=f.get("pattern"),
        choices=tuple(f.get("choices") or ()),
    )


def catalog_to_json(cat: Catalog) -> dict[str, Any]:
    """A Catalog as JSON values (fee as a decimal string, tuples as lists)."""
    return {
        "version": cat.version,
        "matters": [
            {
                "code": m.code,
                "name": m.name,
                "name_en": m.name_en,
                "department": m.department,
                "promised_days": m.promised_days,
                "fee": str(m.fee),
                "delivery_modes": list(m.delivery_modes),
                "fields": [_spec_json(f) for f in m.fields],
                "guide": None
                if m.guide is None
                else {
                    "conditions": list(m.guide.conditions),
                    "legal_basis": m.guide.legal_basis,
                    "process_note": m.guide.process_note,
                    "materials": [
                        {
                            "name": x.name,
                            "name_en": x.name_en,
                            "copies": x.copies,
                            "original": x.original,
                            "note": x.note,
                        }
                        for x in m.guide.materials
                    ],
                },
                "eligibility": None
                if m.eligibility is None
                else {
                    "min_age_years": m.eligibility.min_age_years,
                    "max_age_years": m.eligibility.max_age_years,
                    "id_types": list(m.eligibility.id_types),
                },
                "instant": m.instant,
                "fee_note": m.fee_note,
            }
            for m in cat.matters
        ],
        "bundles": [
            {
                "code": b.code,
                "name": b.name,
                "name_en": b.name_en,
                "description": b.description,
                "member_codes": list(b.member_codes),
                "delivery_modes": list(b.delivery_modes),
                "shared_fields": [_spec_json(f) for f in b.shared_fields],
            }
            for b in cat.bundles
        ],
    }


def catalog_from_json(data: dict[str, Any]) -> Catalog:
    """The inverse of :func:`catalog_to_json` (a cache written before 1.1 has no guides and no bundles)."""
    matters = []
    for m in data["matters"]:
        g, e = m.get("guide"), m.get("eligibility")
        guide = (
            None
            if g is None
            else MatterGuide(
                conditions=tuple(g.get("conditions") or ()),
                legal_basis=g.get("legal_basis"),
                process_note=g.get("process_note"),
                materials=tuple(
                    Material(
                        name=x["name"],
                        copies=int(x["copies"]),
                        original=bool(x["original"]),
                        name_en=x.get("name_en"),
                        note=x.get("note"),
                    )
                    for x in g.get("materials") or ()
                ),
            )
        )
        elig = (
            None
            if e is None
            else Eligibility(
                min_age_years=e.get("min_age_years"),
                max_age_years=e.get("max_age_years"),
                id_types=tuple(e.get("id_types") or ()),
            )
        )
        matters.append(
            Matter(
                code=m["code"],
                name=m["name"],
                department=m["department"],
                promised_days=int(m["promised_days"]),
                fee=Decimal(m["fee"]),
                delivery_modes=tuple(m["delivery_modes"]),
                fields=tuple(_spec(f) for f in m.get("fields") or ()),
                name_en=m.get("name_en"),
                guide=guide,
                eligibility=elig,
                instant=bool(m.get("instant")),
                fee_note=m.get("fee_note"),
            )
        )
    bundles = tuple(
        Bundle(
            code=b["code"],
            name=b["name"],
            member_codes=tuple(b["member_codes"]),
            delivery_modes=tuple(b["delivery_modes"]),
            shared_fields=tuple(_spec(f) for f in b["shared_fields"]),
            name_en=b.get("name_en"),
            description=b.get("description"),
        )
        for b in data.get("bundles") or ()
    )
    return Catalog(version=data["version"], matters=tuple(matters), bundles=bundles)


class CatalogService:
    """The current catalog: memory, then the database cache, then the platform."""

    def __init__(
        self, db: Database, platform: Platform | None, clock: Clock, *, region_code: str | None = None
    ) -> None:
        self.db = db
        self.platform = platform
        self.clock = clock
        self.region_code = region_code or None
        self._lock = threading.Lock()
        self._catalog: Catalog | None = None

    def cached(self) -> Catalog | None:
        """The cached catalog without asking the platform (None: never fetched)."""
        if self._catalog is None:
            with self.db.transaction() as s:
                row = s.execute(
                    select(CatalogCache).order_by(CatalogCache.id.desc()).limit(1)
                ).scalar_one_or_none()
                if row is not None:
                    self._catalog = catalog_from_json(row.payload)
        return self._catalog

    def refresh(self) -> Catalog:
        """Fetch from the platform and replace the cache; raises PlatformError when it cannot."""
        with self._lock:
            if self.platform is None:
                raise PlatformUnavailable("no platform client: the catalog can only come from the cache")
            cat = self.platform.get_matter_catalog(self.region_code)
            with self.db.transaction() as s:
                s.execute(delete(CatalogCache))
                s.add(
                    CatalogCache(
                        version=cat.version, payload=catalog_to_json(cat), fetched_at=self.clock.now()
                    )
                )
            if self._catalog is None or self._catalog.version != cat.version:
                log.info("matter catalog is now version %s (%d matters)", cat.version, len(cat.matters))
            self._catalog = cat
            return cat

    def current(self) -> Catalog | None:
        """The cache, fetched first if there is none; None when neither the cache nor the platform has one."""
        cat = self.cached()
        if cat is not None:
            return cat
        try:
            return self.refresh()
        except PlatformError as err:
            log.warning("no cached matter catalog and the platform cannot send one: %s", err.message)
            return None

    def ensure_version(self, version: str) -> bool:
        """Refetch when the platform's version (from Heartbeat) differs from the cache; True when refreshed."""
        cat = self.cached()
        if cat is not None and cat.version == version:
            return False
        try:
            self.refresh()
        except PlatformError as err:
            log.warning(
                "catalog version %s announced but not fetched, serving the cache: %s", version, err.message
            )
            return False
        return True

    def matters(self) -> tuple[Matter, ...]:
        """Every matter the kiosk may take (empty when there is no catalog at all)."""
        cat = self.current()
        return cat.matters if cat is not None else ()

    def matter(self, code: str) -> Matter:
        """The matter with this code; ValidationError(field="matter_code") when there is none."""
        for m in self.matters():
            if m.code == code:
                return m
        err = ValidationError(f"matter {code!r} is not in the current catalog", field="matter_code")
        err.citizen_key = "error.unknown_matter"
        raise err

    def bundles(self) -> tuple[Bundle, ...]:
        """The 一件事 bundles (empty from a 1.0 platform, or with no catalog), each with every member present."""
        cat = self.current()
        if cat is None:
            return ()
        codes = {m.code for m in cat.matters}
        return tuple(b for b in cat.bundles if all(c in codes for c in b.member_codes))

    def bundle(self, code: str) -> Bundle:
        """The bundle with this code; ValidationError(field="bundle_code") when there is none."""
        for b in self.bundles():
            if b.code == code:
                return b
        err = ValidationError(f"bundle {code!r} is not in the current catalog", field="bundle_code")
        err.citizen_key = "error.unknown_bundle"
        raise err

    def members(self, bundle: Bundle) -> tuple[Matter, ...]:
        """A bundle's member matters, in its memberMatter order."""
        return tuple(self.matter(c) for c in bundle.member_codes)

    def invalidate(self) -> None:
        """Forget the memory copy (the next read goes to the database); used on UNKNOWN_MATTER."""
        self._catalog = None
