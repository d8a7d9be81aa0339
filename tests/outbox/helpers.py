"""Shared test data for the outbox tests."""

from __future__ import annotations

from decimal import Decimal

from kiosk.platform_models import Applicant, Catalog, FieldSpec, Matter

# Fictitious people with valid GB 11643 check digits: born 1958 (a senior) and 1990.
SENIOR = Applicant("RESIDENT_ID", "110105195803121232", "张三", "13800138000")
YOUNG = Applicant("RESIDENT_ID", "310104199005072113", "李四")

SAMPLE_CATALOG = Catalog(
    "v-test",
    (
        Matter(
            "GJJ-DEPOSIT-CERT",
            "住房公积金缴存证明",
            "市住房公积金管理中心",
            1,
            Decimal("0.00"),
            ("LOCKER", "WINDOW"),
            (
                FieldSpec(
                    "account",
                    "公积金账号",
                    "TEXT",
                    True,
                    label_en="Fund account",
                    max_length=12,
                    pattern="[0-9]{12}",
                ),
                FieldSpec("since", "起始日期", "DATE", False, max_length=10),
            ),
            name_en="Deposit certificate",
        ),
        Matter(
            "GA-HUKOU-CERT",
            "户籍证明开具",
            "区公安分局",
            3,
            Decimal("20.50"),
            ("LOCKER",),
            (FieldSpec("purpose", "用途", "CHOICE", True, choices=("入学", "就业")),),
        ),
    ),
)
