"""办事指南 as the screens show it: who qualifies, what to bring, the fee in words, the promised time.

Structured, not formatted: each item carries a text key of the UI's catalogue
and its parameters, so both languages come from one place. The rule the issue
sets: a free matter says "免费", never "0.00 元"; a ``feeNote`` explains a fee in
words; the promised time is in working days (or "decided at once" for 秒批).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from kiosk.platform_models import Bundle, Material, Matter


@dataclass(frozen=True)
class Text:
    """A catalogue key and its parameters (the UI looks it up in the citizen's language)."""

    key: str
    params: dict[str, object]


@dataclass(frozen=True)
class MaterialLine:
    name: str
    name_en: str | None
    copies: int
    original: bool  # 原件; False: 复印件
    note: str | None

    @property
    def kind(self) -> Text:
        return Text(key="guide.original" if self.original else "guide.copy", params={"copies": self.copies})


@dataclass(frozen=True)
class Guide:
    """One matter's (or one bundle's) guide, ready for a screen."""

    code: str
    name: str
    name_en: str | None
    department: str
    conditions: tuple[str, ...]
    materials: tuple[MaterialLine, ...]
    fee: Text
    promised: Text
    delivery_modes: tuple[str, ...]
    legal_basis: str | None = None
    process_note: str | None = None
    has_age_limit: bool = False


def fee_text(fee: Decimal, fee_note: str | None) -> Text:
    """The fee in words: the note when there is one, "免费" for nothing, else the amount."""
    if fee == 0 and (not fee_note or fee_note == "免费"):
        return Text(
            key="guide.free", params={}
        )  # said in the citizen's language, not the catalogue's Chinese note
    if fee_note:
        return Text(key="guide.fee_note", params={"note": fee_note, "amount": f"{fee:.2f}"})
    return Text(key="guide.fee", params={"amount": f"{fee:.2f}"})


def promised_text(matter: Matter) -> Text:
    if matter.instant:
        return Text(key="guide.instant", params={})
    return Text(key="guide.promised", params={"days": matter.promised_days})


def _material(m: Material) -> MaterialLine:
    return MaterialLine(name=m.name, name_en=m.name_en, copies=m.copies, original=m.original, note=m.note)


def guide_of(matter: Matter) -> Guide:
    g = matter.guide
    return Guide(
        code=matter.code,
        name=matter.name,
        name_en=matter.name_en,
        department=matter.department,
        conditions=g.conditions if g else (),
        materials=tuple(_material(m) for m in g.materials) if g else (),
        fee=fee_text(matter.fee, matter.fee_note),
        promised=promised_text(matter),
        delivery_modes=matter.delivery_modes,
        legal_basis=g.legal_basis if g else None,
        process_note=g.process_note if g else None,
        has_age_limit=bool(
            matter.eligibility
            and (matter.eligibility.min_age_years is not None or matter.eligibility.max_age_years is not None)
        ),
    )


def bundle_guide(bundle: Bundle, members: tuple[Matter, ...]) -> Guide:
    """One guide for a bundle: every member's conditions, materials listed once (by name), fees added up,
    the longest promised time."""
    conditions: list[str] = []
    materials: dict[str, MaterialLine] = {}
    for m in members:
        if m.guide is None:
            continue
        conditions += [c for c in m.guide.conditions if c not in conditions]
        for mat in m.guide.materials:
            have = materials.get(mat.name)
            if have is None or mat.copies > have.copies or (mat.original and not have.original):
                materials[mat.name] = _material(mat)
    total = sum((m.fee for m in members), Decimal("0"))
    notes = "；".join(f"{m.name}：{m.fee_note}" for m in members if m.fee_note and m.fee_note != "免费")
    slowest = max(members, key=lambda m: (not m.instant, m.promised_days))
    return Guide(
        code=bundle.code,
        name=bundle.name,
        name_en=bundle.name_en,
        department="、".join(dict.fromkeys(m.department for m in members)),
        conditions=tuple(conditions),
        materials=tuple(materials.values()),
        fee=fee_text(total, notes or None),
        promised=promised_text(slowest),
        delivery_modes=bundle.delivery_modes,
        process_note=bundle.description,
        has_age_limit=any(
            m.eligibility
            and (m.eligibility.min_age_years is not None or m.eligibility.max_age_years is not None)
            for m in members
        ),
    )
