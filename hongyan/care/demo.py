"""Care recipients and four months of visits for the demo city: people in every
community and village (more in 集宁区), each visited at their group's frequency by the
building head where there is one, a few left behind (overdue) so that the phone lists,
the unit pages and the worker's reminders have something true to show; children with
their guardian's consent. The demo `grid_worker` has visits due today.

The same seed gives the same people. Written for speed: plain tuples with explicit ids,
bulk inserts, the batch SM4 / HMAC-SM3 helpers of the member register."""

import json
import random
from datetime import timedelta

from django.utils import timezone

from hongyan.core import pii
from hongyan.demo import names
from hongyan.members import bulk
from hongyan.members.models import CommunityPost
from hongyan.orgs.models import PATH_STEP, Unit, UnitKind

from .models import (
    ID_AAD,
    ID_PURPOSE,
    MINOR_AGE,
    MOBILE_AAD,
    MOBILE_PURPOSE,
    CareGroup,
    CareRecipient,
    CareReminder,
    Visit,
    add_years,
)

JINING = "150902"
JINING_PER_COMPOUND = 2.6
OTHER_PER_COMPOUND = 0.9
HISTORY_DAYS = 90
LEFT_BEHIND = 0.06  # share of recipients whose visits lapsed: overdue now

GROUP_WEIGHTS = {
    "elderly_alone": 26,
    "elderly_couple": 20,
    "disabled": 15,
    "dibao": 17,
    "tekun": 5,
    "left_behind_child": 9,
    "other": 3,
}
AGES = {
    "elderly_alone": (80, 96),
    "elderly_couple": (80, 93),
    "disabled": (25, 78),
    "dibao": (35, 85),
    "tekun": (60, 90),
    "left_behind_child": (5, 13),
    "other": (60, 88),
}
HOUSEHOLDS = {
    "elderly_alone": ("独居，子女在外地工作", "独居，老伴去世多年", "独居，儿子在呼和浩特"),
    "elderly_couple": ("老两口同住，子女在外地", "夫妇均年近九十，女儿每月回来一次"),
    "disabled": ("肢体残疾，与母亲同住", "视力残疾，独自生活", "智力残疾，由姐姐照顾"),
    "dibao": ("低保户，三口之家", "低保户，夫妻均患慢性病"),
    "tekun": ("特困供养，无子女",),
    "left_behind_child": ("父母在外务工，随祖母生活", "父母在北京打工，由爷爷奶奶照看"),
    "other": ("刚出院，需要照看",),
}
SERVICES = ("chat", "cleaning", "medicine", "meal", "errand", "repair")
FINDINGS = {
    "hazard": ("厨房燃气软管老化", "电动车在楼道充电", "屋内电线私拉乱接"),
    "dispute": ("与楼上邻居因漏水起争执", "子女赡养费分摊有矛盾"),
    "hardship": ("冬季取暖费用有困难", "行动不便，买药困难"),
}

RECIPIENT_COLUMNS = [
    "id",
    "unit",
    "group",
    "name",
    "gender",
    "birth_date",
    "id_number_enc",
    "id_number_index",
    "mobile_enc",
    "mobile_index",
    "address",
    "household",
    "interval_days",
    "visitor_post",
    "guardian_name",
    "guardian_relation",
    "consent_on",
    "consent_method",
    "minor_until",
    "registered_on",
    "last_visit_on",
    "last_seen_on",
    "next_due",
    "active",
    "ended_reason",
    "generated",
    "created_at",
    "updated_at",
]
VISIT_COLUMNS = [
    "id",
    "recipient",
    "visitor_name",
    "visited_on",
    "seen",
    "wellbeing",
    "services",
    "elderly_certification",
    "elderly_allowance",
    "dibao_status",
    "finding_kind",
    "findings",
    "note",
    "generated",
    "created_at",
]


def clear_demo_care() -> None:
    """Every recipient goes with the demo city (their places are rebuilt)."""
    for model in (CareReminder, Visit, CareRecipient):
        model.objects.all()._raw_delete("default")


def _places():
    compounds = list(
        Unit.objects.filter(kind__in=(UnitKind.COMPOUND, UnitKind.NATURAL_VILLAGE), generated=True)
        .only("pk", "code", "name", "path")
        .order_by("path")
    )
    by_path = {c.path: c.pk for c in compounds}
    buildings: dict[int, list[tuple[int, str]]] = {}
    cut = 2 * (PATH_STEP + 1)
    for pk, path, name in (
        Unit.objects.filter(kind=UnitKind.BUILDING, generated=True)
        .order_by("path")
        .values_list("pk", "path", "name")
    ):
        compound = by_path.get(path[:-cut])
        if compound:
            buildings.setdefault(compound, []).append((pk, name))
    return compounds, buildings


def _weighted(rng, weights: dict):
    keys = list(weights)
    return rng.choices(keys, weights=[weights[k] for k in keys])[0]


def build_demo_care(seed: int, progress=lambda _msg: None) -> dict[str, int]:
    progress("生成关爱对象和走访记录 / generating care recipients and visits …")
    rng = random.Random(seed * 13 + 7)
    today = timezone.localdate()
    now = bulk.db_now()
    groups = {g.code: g for g in CareGroup.objects.all()}
    compounds, buildings = _places()
    heads = dict(CommunityPost.objects.filter(kind="building_head").values_list("unit_id", "pk"))
    compound_heads = dict(
        CommunityPost.objects.filter(kind="compound_head").values_list("unit_id", "pk")
    )
    enc_id, enc_mobile = bulk.Encryptor(ID_AAD), bulk.Encryptor(MOBILE_AAD)
    idx_id, idx_mobile = bulk.Indexer(ID_PURPOSE), bulk.Indexer(MOBILE_PURPOSE)
    recipient_id, visit_id = bulk.next_id(CareRecipient), bulk.next_id(Visit)
    recipients, visits = [], []
    figures = {"recipients": 0, "jining": 0, "visits": 0, "overdue": 0, "children": 0}
    used_ids: set[str] = set()

    for compound in compounds:
        jining = compound.code.startswith(JINING)
        mean = JINING_PER_COMPOUND if jining else OTHER_PER_COMPOUND
        count = int(mean) + (rng.random() < mean - int(mean))
        homes = buildings.get(compound.pk, [])
        for _i in range(count):
            code = _weighted(rng, GROUP_WEIGHTS)
            group = groups[code]
            low, high = AGES[code]
            born = today - timedelta(days=rng.randint(low * 365 + 30, high * 365 + 300))
            male = rng.random() < 0.45
            while True:
                first17 = f"{compound.code[:6]}{born:%Y%m%d}{rng.randrange(0, 500) * 2 + male:03d}"
                number = first17 + pii.id_check_char(first17)
                if number not in used_ids:
                    used_ids.add(number)
                    break
            mobile = (
                ""
                if code == "left_behind_child" or rng.random() < 0.3
                else (f"1{rng.choice('35789')}{rng.randrange(10**9):09d}")
            )
            if homes:
                unit_id, building = rng.choice(homes)
                address = (
                    f"{building}{rng.randint(1, 4)}单元{rng.randint(1, 6)}0{rng.randint(1, 4)}"
                )
                visitor_post = heads.get(unit_id)
            else:
                unit_id, address = compound.pk, f"{rng.randint(1, 80)}号院"
                visitor_post = compound_heads.get(compound.pk)
            minor_until = add_years(born, MINOR_AGE)
            minor = minor_until > today
            if minor:
                visitor_post = None  # children: community staff only
            interval = group.interval_days
            registered = today - timedelta(days=rng.randint(30, 720))
            # the visits of the last four months, at about the group's frequency
            day = max(registered, today - timedelta(days=HISTORY_DAYS)) + timedelta(
                days=rng.randint(0, interval)
            )
            lapsed = rng.random() < LEFT_BEHIND
            stop = today - timedelta(days=interval + rng.randint(2, 20)) if lapsed else today
            last_visit = last_seen = None
            visitor = "楼栋长" if visitor_post else f"{compound.name}网格员"
            while day <= stop:
                seen = rng.random() > 0.07
                finding = rng.random() < 0.04
                kind = rng.choice(tuple(FINDINGS)) if finding else ""
                visits.append(
                    (
                        visit_id,
                        recipient_id,
                        visitor,
                        bulk.db_date(day),
                        seen,
                        rng.choices(("good", "fair", "poor"), (70, 25, 5))[0] if seen else "",
                        json.dumps(rng.sample(SERVICES, rng.randint(1, 2)) if seen else []),
                        rng.choice(("done", "", "")) if code.startswith("elderly") else "",
                        rng.choice(("received", "received", "", "missing"))
                        if code.startswith("elderly")
                        else "",
                        rng.choice(("normal", "normal", "", "problem")) if code == "dibao" else "",
                        kind,
                        rng.choice(FINDINGS[kind]) if kind else "",
                        "" if seen else "敲门无人应答，已电话联系",
                        True,
                        now,
                    )
                )
                visit_id += 1
                last_visit = day
                if seen:
                    last_seen = day
                day += timedelta(days=max(1, round(interval * rng.uniform(0.75, 1.1))))
            next_due = (last_seen or registered) + timedelta(days=interval)
            recipients.append(
                (
                    recipient_id,
                    unit_id,
                    group.pk,
                    names.person(rng),
                    "male" if male else "female",
                    bulk.db_date(born),
                    enc_id(number),
                    idx_id.current(number),
                    enc_mobile(mobile) if mobile else "",
                    idx_mobile.current(mobile) if mobile else "",
                    address,
                    rng.choice(HOUSEHOLDS[code]),
                    None,
                    visitor_post,
                    names.person(rng) if minor else "",
                    rng.choice(("祖母", "祖父", "外婆")) if minor else "",
                    bulk.db_date(registered) if minor else None,
                    rng.choice(("written", "oral")) if minor else "",
                    bulk.db_date(minor_until),
                    bulk.db_date(registered),
                    bulk.db_date(last_visit),
                    bulk.db_date(last_seen),
                    bulk.db_date(next_due),
                    True,
                    "",
                    True,
                    now,
                    now,
                )
            )
            recipient_id += 1
            figures["recipients"] += 1
            figures["jining"] += jining
            figures["overdue"] += next_due < today
            figures["children"] += minor
    bulk.insert(CareRecipient, RECIPIENT_COLUMNS, recipients, batch=2000)
    bulk.insert(Visit, VISIT_COLUMNS, visits, batch=5000)
    bulk.reset_sequence(CareRecipient, Visit)
    figures["visits"] = len(visits)
    return figures


def link_demo_care(grid_worker) -> int:
    """The demo `grid_worker` visits everyone in their grid who is not a child, and has
    visits due today (and one overdue) on their phone list."""
    from . import services

    grant = grid_worker.grants.select_related("unit").first()
    if grant is None:
        return 0
    grid = grant.unit
    today = timezone.localdate()
    CareRecipient.objects.filter(unit__path__under=grid.path, minor_until__lte=today).update(
        visitor_user=grid_worker, visitor_post=None
    )
    building = Unit.objects.filter(parent=grid, kind=UnitKind.BUILDING).order_by("path").first()
    place = building or grid
    groups = {g.code: g for g in CareGroup.objects.all()}
    rng = random.Random(1509)
    made = 0
    for name, code, registered_days, seen_days_ago, address in (
        ("高桂兰", "elderly_alone", 7, None, "1单元402"),
        ("周福", "elderly_couple", 60, 30, "2单元101"),
        ("吴秀英", "disabled", 35, None, "3单元202"),
        ("郑大爷", "dibao", 45, 24, "1单元602"),
    ):
        r = services.recipient_create(
            actor=None,
            unit=place,
            group=groups[code],
            name=name,
            birth_date=today - timedelta(days=rng.randint(80 * 365, 90 * 365)),
            mobile=f"139{rng.randrange(10**8):08d}",
            address=f"{place.name}{address}",
            visitor_user=grid_worker,
            registered_on=today - timedelta(days=registered_days),
            generated=True,
        )
        if seen_days_ago is not None:
            services.visit_log(
                actor=grid_worker,
                recipient=r,
                visited_on=today - timedelta(days=seen_days_ago),
                wellbeing="good",
                services=["chat"],
                generated=True,
            )
        made += 1
    return made
