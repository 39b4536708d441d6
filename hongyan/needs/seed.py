"""The default need categories, created after every `migrate` and every `flush` (the
`post_migrate` signal, as Django does for content types): a missing default comes back,
an existing one — edited or switched off by an admin — is left as it is.

(Migration 0002 seeded the same list once; migrations keep their own copy of data.)"""

# code (stable: the Open311 service_code), name, deadline, unit, response hours, owner
# level, specialties that fit, description
CATEGORIES = (
    ("public_facilities", "公共设施", 5, "days", 24, "community", ("水电维修", "家电维修"),
     "路灯、楼道灯、健身器材、井盖、道路等公共设施损坏"),
    ("sanitation", "环境卫生", 3, "days", 24, "community", (),
     "垃圾清运、乱堆乱放、污水、卫生死角"),
    ("property", "物业服务", 5, "days", 24, "community", ("水电维修",),
     "物业服务质量、供暖、电梯、停车等"),
    ("neighbour_dispute", "邻里纠纷", 7, "days", 24, "community", ("法律", "心理咨询"),
     "噪音、漏水、占道等邻里矛盾调解"),
    ("safety_hazard", "安全隐患", 24, "hours", 2, "community", ("水电维修",),
     "消防通道堵塞、电线老化、燃气泄漏等安全隐患"),
    ("elderly_disabled", "养老助残", 5, "days", 24, "community", ("老年服务", "医疗"),
     "独居老人照料、助餐助浴、高龄认证、残疾人帮扶"),
    ("employment_social", "就业社保", 7, "days", 24, "township", ("财会", "法律"),
     "就业岗位、技能培训、社保医保、低保救助"),
    ("policy", "政策咨询", 3, "days", 24, "community", ("法律",),
     "各类政策、办事流程咨询"),
    ("other", "其他", 7, "days", 24, "community", (), "其他诉求"),
)  # fmt: skip


def ensure_default_categories(apps=None, using: str = "default") -> int:
    """Create the default categories that are missing (and the specialties they name).
    Returns how many categories it created."""
    if apps is None:
        from django.apps import apps
    try:
        Category = apps.get_model("needs", "NeedCategory")
        Specialty = apps.get_model("members", "Specialty")
    except LookupError:  # a partial migration state without these models
        return 0
    from hongyan.members.models import DEFAULT_SPECIALTIES

    for position, name in enumerate(DEFAULT_SPECIALTIES, start=1):
        Specialty.objects.using(using).get_or_create(name=name, defaults={"position": position})
    have = set(Category.objects.using(using).filter(city=None).values_list("code", flat=True))
    created = 0
    for position, (code, name, value, unit, response, level, specialties, desc) in enumerate(
        CATEGORIES, start=1
    ):
        if code in have:
            continue
        category = Category.objects.using(using).create(
            city=None,
            code=code,
            name=name,
            description=desc,
            deadline_value=value,
            deadline_unit=unit,
            response_hours=response,
            owner_level=level,
            position=position * 10,
        )
        category.specialties.set(Specialty.objects.using(using).filter(name__in=specialties))
        created += 1
    return created
