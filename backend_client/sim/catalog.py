"""The simulated platform's demo catalog: matters with their 办事指南 and eligibility, and the 一件事 bundles.

Fictitious but shaped like a district hall's kiosk catalog. Each 1.1 feature has
a matter that shows it: an age limit and id types (the senior card, job-seeker
registration), an instant matter (秒批: the deposit certificate), a fee with a
note, MAIL delivery, and two bundles (newborn, retirement) whose members carry
their own fields and, for one, their own eligibility.
"""

from __future__ import annotations

from decimal import Decimal

from kiosk.platform_models import Bundle, Eligibility, FieldSpec, Material, Matter, MatterGuide
from kiosk.privacy import MOBILE_PATTERN

PHONE = MOBILE_PATTERN  # the platform publishes the mobile rule as the field's pattern
_PHONE_FIELD = FieldSpec(
    "phone", "联系电话", "PHONE", True, label_en="Contact phone", max_length=11, pattern=PHONE
)
_ID_CARD = Material("居民身份证", 1, True, name_en="Resident ID card")
_ID_COPY = Material("居民身份证复印件", 1, False, name_en="Copy of the resident ID card")
_HUKOU = Material("户口簿", 1, True, name_en="Household register (hukou booklet)")
_PHOTO = Material("近期一寸免冠彩色照片", 2, True, name_en="Recent 1-inch colour photos", note="白底")

ELDER_MATTER = "MZ-ELDER-CARD"
ELDER_AGE = 60

MATTERS: tuple[Matter, ...] = (
    Matter(
        code=ELDER_MATTER,
        name="老年人优待证办理",
        name_en="Senior Citizen Preferential Card",
        department="区民政局",
        promised_days=5,
        fee=Decimal("0.00"),
        delivery_modes=("LOCKER", "WINDOW", "MAIL"),
        fields=(
            _PHONE_FIELD,
            FieldSpec("address", "居住地址", "TEXT", False, label_en="Home address", max_length=80),
        ),
        guide=MatterGuide(
            conditions=("年满60周岁的本市户籍老年人，或在本市居住的外地老年人",),
            materials=(_ID_CARD, _PHOTO),
            legal_basis="《中华人民共和国老年人权益保障法》",
            process_note="自助机提交后由区民政局审核，制证后按您选择的方式领取。",
        ),
        eligibility=Eligibility(min_age_years=ELDER_AGE, id_types=("RESIDENT_ID", "SOCIAL_SECURITY_CARD")),
        fee_note="免费",
    ),
    Matter(
        code="GA-HUKOU-CERT",
        name="户籍证明开具",
        name_en="Household Registration Certificate",
        department="区公安分局",
        promised_days=3,
        fee=Decimal("0.00"),
        delivery_modes=("LOCKER", "WINDOW"),
        fields=(
            FieldSpec(
                "purpose",
                "用途",
                "CHOICE",
                True,
                label_en="Purpose",
                choices=("入学", "就业", "出国", "其他"),
            ),
            FieldSpec("copies", "份数", "NUMBER", True, label_en="Copies", max_length=1, pattern="[1-5]"),
        ),
        guide=MatterGuide(
            conditions=("本区户籍居民本人",),
            materials=(_ID_CARD, _HUKOU),
            process_note="证明加盖公章后放入智能柜或在窗口领取。",
        ),
        fee_note="免费",
    ),
    Matter(
        code="RS-SSC-REISSUE",
        name="社会保障卡补换",
        name_en="Social Security Card Replacement",
        department="区人力资源和社会保障局",
        promised_days=10,
        fee=Decimal("20.00"),
        delivery_modes=("LOCKER", "WINDOW", "MAIL"),
        fields=(
            FieldSpec(
                "reason", "补换原因", "CHOICE", True, label_en="Reason", choices=("遗失", "损坏", "信息变更")
            ),
            _PHONE_FIELD,
        ),
        guide=MatterGuide(
            conditions=("已领取社会保障卡的参保人员本人",),
            materials=(_ID_CARD, _PHOTO),
            process_note="信息变更须本人持户口簿到窗口办理，自助机不予受理。",
        ),
        fee_note="遗失补办收取工本费20元，损坏换领免费",
    ),
    Matter(
        code="GJJ-DEPOSIT-CERT",
        name="住房公积金缴存证明",
        name_en="Housing Provident Fund Deposit Certificate",
        department="市住房公积金管理中心",
        promised_days=1,
        fee=Decimal("0.00"),
        delivery_modes=("LOCKER", "WINDOW"),
        fields=(
            FieldSpec(
                "account",
                "公积金账号",
                "TEXT",
                True,
                label_en="Fund account number",
                max_length=12,
                pattern="[0-9]{12}",
            ),
            FieldSpec("since", "起始日期", "DATE", False, label_en="From date", max_length=10),
        ),
        guide=MatterGuide(
            conditions=("住房公积金缴存职工本人",),
            materials=(_ID_CARD,),
            process_note="秒批秒办：提交即出具证明。",
        ),
        instant=True,
        fee_note="免费",
    ),
    Matter(
        code="JY-JOBSEEK-REG",
        name="就业失业登记",
        name_en="Job-seeker Registration",
        department="区就业服务中心",
        promised_days=2,
        fee=Decimal("0.00"),
        delivery_modes=("WINDOW",),
        fields=(_PHONE_FIELD,),
        guide=MatterGuide(
            conditions=("法定劳动年龄内（16至60周岁）、有劳动能力和就业要求的人员",), materials=(_ID_CARD,)
        ),
        eligibility=Eligibility(min_age_years=16, max_age_years=60),
        fee_note="免费",
    ),
    # 新生儿出生一件事: its members.
    Matter(
        code="WJ-BIRTH-CERT",
        name="出生医学证明首次签发",
        name_en="Birth Medical Certificate",
        department="区卫生健康局",
        promised_days=3,
        fee=Decimal("0.00"),
        delivery_modes=("LOCKER", "WINDOW", "MAIL"),
        fields=(
            FieldSpec("babyName", "新生儿姓名", "TEXT", True, label_en="Baby's name", max_length=20),
            FieldSpec("birthDate", "出生日期", "DATE", True, label_en="Date of birth", max_length=10),
            FieldSpec("hospital", "出生医院", "TEXT", True, label_en="Hospital of birth", max_length=40),
        ),
        guide=MatterGuide(
            conditions=("在本区医疗机构出生的新生儿的父亲或母亲",),
            materials=(_ID_CARD, Material("出生医学证明（首联）", 1, True)),
        ),
        fee_note="免费",
    ),
    Matter(
        code="HK-006",
        name="出生登记（新生儿入户）",
        name_en="Birth Registration (Household Entry)",
        department="区公安分局",
        promised_days=5,
        fee=Decimal("0.00"),
        delivery_modes=("LOCKER", "WINDOW", "MAIL"),
        fields=(
            FieldSpec("babyName", "新生儿姓名", "TEXT", True, label_en="Baby's name", max_length=20),
            FieldSpec("birthDate", "出生日期", "DATE", True, label_en="Date of birth", max_length=10),
            FieldSpec("hukouAddress", "入户地址", "TEXT", True, label_en="Household address", max_length=60),
        ),
        guide=MatterGuide(
            conditions=("父母一方为本区户籍",),
            materials=(_ID_CARD, _HUKOU, Material("结婚证", 1, True, name_en="Marriage certificate")),
        ),
    ),
    Matter(
        code="YB-NEWBORN-ENROL",
        name="新生儿城乡居民医保参保登记",
        name_en="Newborn Health Insurance Enrolment",
        department="区医疗保障局",
        promised_days=2,
        fee=Decimal("0.00"),
        delivery_modes=("LOCKER", "WINDOW", "MAIL"),
        fields=(
            FieldSpec("babyName", "新生儿姓名", "TEXT", True, label_en="Baby's name", max_length=20),
            FieldSpec("payer", "缴费人", "CHOICE", True, label_en="Who pays", choices=("父亲", "母亲")),
        ),
        guide=MatterGuide(materials=(_ID_CARD,)),
        fee_note="参保登记免费；个人缴费按当年标准另缴",
    ),
    # 退休一件事: its members; the pension claim has an age limit, so the whole bundle does.
    Matter(
        code="RS-RETIRE-CLAIM",
        name="职工退休申请",
        name_en="Retirement Pension Claim",
        department="区人力资源和社会保障局",
        promised_days=15,
        fee=Decimal("0.00"),
        delivery_modes=("WINDOW", "MAIL"),
        fields=(
            _PHONE_FIELD,
            FieldSpec(
                "bankAccount",
                "养老金发放账号",
                "TEXT",
                True,
                label_en="Pension bank account",
                max_length=19,
                pattern="[0-9]{16,19}",
            ),
        ),
        guide=MatterGuide(
            conditions=("达到法定退休年龄（女50周岁起）并缴费满15年",), materials=(_ID_CARD, _ID_COPY)
        ),
        eligibility=Eligibility(min_age_years=50, id_types=("RESIDENT_ID", "SOCIAL_SECURITY_CARD")),
        fee_note="免费",
    ),
    Matter(
        code="GJJ-RETIRE-WITHDRAW",
        name="退休提取住房公积金",
        name_en="Provident Fund Withdrawal on Retirement",
        department="市住房公积金管理中心",
        promised_days=3,
        fee=Decimal("0.00"),
        delivery_modes=("WINDOW", "MAIL"),
        fields=(
            _PHONE_FIELD,
            FieldSpec(
                "bankAccount",
                "收款银行账号",
                "TEXT",
                True,
                label_en="Bank account",
                max_length=19,
                pattern="[0-9]{16,19}",
            ),
            FieldSpec(
                "account",
                "公积金账号",
                "TEXT",
                True,
                label_en="Fund account number",
                max_length=12,
                pattern="[0-9]{12}",
            ),
        ),
        guide=MatterGuide(materials=(_ID_CARD,)),
        instant=True,
        fee_note="免费",
    ),
)

BUNDLES: tuple[Bundle, ...] = (
    Bundle(
        code="YJS-NEWBORN",
        name="新生儿出生一件事",
        name_en="A Baby Is Born (one visit)",
        member_codes=("WJ-BIRTH-CERT", "HK-006", "YB-NEWBORN-ENROL"),
        delivery_modes=("LOCKER", "WINDOW", "MAIL"),
        shared_fields=(
            FieldSpec("babyName", "新生儿姓名", "TEXT", True, label_en="Baby's name", max_length=20),
            FieldSpec("birthDate", "出生日期", "DATE", True, label_en="Date of birth", max_length=10),
        ),
        description="出生医学证明、入户、医保参保一次申请",
    ),
    Bundle(
        code="YJS-RETIRE",
        name="退休一件事",
        name_en="Retirement (one visit)",
        member_codes=("RS-RETIRE-CLAIM", "GJJ-RETIRE-WITHDRAW"),
        delivery_modes=("WINDOW", "MAIL"),
        shared_fields=(
            _PHONE_FIELD,
            FieldSpec(
                "bankAccount",
                "银行账号",
                "TEXT",
                True,
                label_en="Bank account",
                max_length=19,
                pattern="[0-9]{16,19}",
            ),
        ),
        description="退休申请与公积金提取一次办",
    ),
)
