"""A year of residents' needs for the demo city, so that every queue, page and rate has
something true to show: a few thousand in 集宁区, fewer per compound in the rural
banners; most closed with a rating, some rejected or merged, the last weeks' still open
(a few past their deadline, so the worker has something to escalate).

Times are relative to now (the last 365 days), the draws come from the seed: the same
seed gives the same needs. Written for speed: plain objects with explicit ids, bulk
inserts, the deadline arithmetic on one loaded calendar, one encryption per mobile."""

import hashlib
import json
import random
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

from django.db import connection
from django.utils import timezone

from hongyan.core import pii
from hongyan.demo import names
from hongyan.members.bulk import insert, reset_sequence
from hongyan.members.models import DualRegistration
from hongyan.orgs.models import PATH_STEP, Unit, UnitKind

from .models import (
    MOBILE_AAD,
    MOBILE_PURPOSE,
    AssigneeKind,
    Channel,
    DeadlineUnit,
    EventAction,
    Need,
    NeedEvent,
    NeedNotification,
    NeedPhoto,
    NeedSupporter,
    Status,
)
from .selectors import categories_for

JINING = "150902"
JINING_PER_COMPOUND = 4.2  # ≈ 3,200 a year over 集宁区's 772 compounds
OTHER_PER_COMPOUND = 1.1
DAYS = 365
REFERENCE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"

CATEGORY_WEIGHTS = {
    "public_facilities": 22,
    "sanitation": 18,
    "property": 20,
    "neighbour_dispute": 8,
    "safety_hazard": 6,
    "elderly_disabled": 9,
    "employment_social": 5,
    "policy": 8,
    "other": 4,
}
CHANNEL_WEIGHTS = {
    Channel.PUBLIC_WEB: 34,
    Channel.RESIDENT_ACCOUNT: 14,
    Channel.PROXY: 8,
    Channel.DESK: 15,
    Channel.HOTLINE: 18,
    Channel.VISIT: 9,
    Channel.MEETING: 2,
}
STAFF_CHANNELS = {Channel.PROXY, Channel.DESK, Channel.HOTLINE, Channel.VISIT, Channel.MEETING}
TEXTS = {
    "public_facilities": (
        "{b}{e}单元楼道灯坏了一个多星期，晚上上下楼看不见台阶",
        "小区门口的路灯不亮了，晚上出入不安全",
        "{b}楼下的井盖松动，踩上去晃，怕孩子掉下去",
        "健身器材的单杠断了一根，请尽快修理",
        "{b}门口的台阶塌了一块，老人出门不方便",
    ),
    "sanitation": (
        "{b}后面的垃圾好几天没人清运，有味道",
        "小区绿化带里堆满了装修垃圾",
        "{b}{e}单元楼道里有人堆放杂物，卫生很差",
        "下水道堵了，污水漫到路面上",
    ),
    "property": (
        "{b}暖气不热，家里只有十四五度",
        "{b}电梯三天两头停，老人上下楼困难",
        "物业收费不公示，想了解收费标准",
        "小区车位被外来车辆占用，业主没地方停",
        "{b}{e}单元楼顶漏水，家里天花板发霉",
    ),
    "neighbour_dispute": (
        "楼上邻居晚上十一点以后还在装修，噪音很大",
        "{b}有住户在楼道里养狗，邻居有意见",
        "楼上卫生间漏水到我家，协商不成",
    ),
    "safety_hazard": (
        "{b}消防通道被电动车堵死了",
        "{b}{e}单元有人在楼道里给电动车充电",
        "{b}外墙的瓷砖松动，有掉落危险",
        "闻到楼道里有燃气味道",
    ),
    "elderly_disabled": (
        "{b}{e}单元有位独居老人，最近没见出门，请帮忙看看",
        "家里老人八十多岁了，想办高龄津贴认证，行动不便",
        "想了解社区有没有老年助餐服务",
        "残疾人想申请轮椅，不知道找谁",
    ),
    "employment_social": (
        "刚失业，想了解社区有没有招聘信息和技能培训",
        "医保断缴了怎么补，需要什么材料",
        "想申请低保，家里情况困难",
    ),
    "policy": (
        "孩子上学要开居住证明，去哪里办",
        "老旧小区改造什么时候轮到我们小区",
        "想咨询养老保险的缴费政策",
    ),
    "other": (
        "建议小区增设快递柜",
        "希望社区多组织一些文体活动",
        "小区里流浪猫太多了，希望有人管理",
    ),
}
RESOLUTIONS = {
    "public_facilities": "已联系维修人员更换，现已恢复正常",
    "sanitation": "已协调环卫清运，并提醒住户规范投放",
    "property": "已约谈物业，问题已整改并回访住户",
    "neighbour_dispute": "已上门调解，双方达成一致",
    "safety_hazard": "已现场排除隐患，并张贴提示",
    "elderly_disabled": "已上门走访，协助办理相关手续",
    "employment_social": "已提供岗位信息和办理指引",
    "policy": "已电话答复并告知办理流程",
    "other": "已记录建议并反馈相关部门",
}
REJECT_REASONS = (
    "属于个人产权范围，建议联系物业或维修单位",
    "已在12345热线受理，避免重复办理",
    "诉求不明确，电话多次未接通",
)


NEED_DEFAULTS = {
    "address": "",
    "resident_account": None,
    "filed_by": None,
    "status": Status.SUBMITTED,
    "paused_from": "",
    "reject_reason": "",
    "assignee_kind": "",
    "assigned_unit": None,
    "assigned_org": None,
    "assigned_team_id": None,
    "assigned_team_name": "",
    "assignee": None,
    "handler": None,
    "handler_member": None,
    "accepted_at": None,
    "responded_at": None,
    "dispatched_at": None,
    "claimed_at": None,
    "started_at": None,
    "resolved_at": None,
    "closed_at": None,
    "paused_at": None,
    "paused_seconds": 0,
    "escalation_level": 0,
    "reopen_count": 0,
    "resolution": "",
    "rating": None,
    "rating_comment": "",
    "rated_at": None,
    "merged_into": None,
    "supporters": 0,
    "generated": True,
}
NEED_COLUMNS = [
    "id",
    "reference",
    "channel",
    "category",
    "text",
    "unit",
    "owner",
    "resident_name",
    "resident_mobile_enc",
    "resident_mobile_index",
    "source_ref",
    "follow_token_hash",
    "created_at",
    "response_due",
    "deadline",
    *NEED_DEFAULTS,
    "updated_at",
]
EVENT_COLUMNS = [
    "id",
    "need",
    "at",
    "actor_name",
    "action",
    "from_status",
    "to_status",
    "note",
    "data",
]


def _db_time(value):
    """Aware datetime → what the database takes (SQLite: naive UTC text, as Django writes)."""
    if connection.vendor == "sqlite":
        return str(value.astimezone(UTC).replace(tzinfo=None))
    return value


def _need_row(need) -> tuple:
    need.updated_at = need.closed_at or need.created_at
    return tuple(
        _db_time(v) if isinstance(v, datetime) else v
        for v in (getattr(need, c) for c in NEED_COLUMNS)
    )


def clear_demo_needs() -> None:
    """Every need goes with the demo city (their places are rebuilt)."""
    for model in (NeedNotification, NeedSupporter, NeedPhoto, NeedEvent):
        model.objects.all()._raw_delete("default")
    Need.objects.update(merged_into=None)
    Need.objects.all()._raw_delete("default")


def _next_id(model) -> int:
    from django.db.models import Max

    return (model.objects.aggregate(m=Max("pk"))["m"] or 0) + 1


def _places() -> tuple[list[Unit], dict[int, list[int]], dict[int, Unit]]:
    """Compounds and natural villages (in path order), the buildings of each, and every
    community, village and township by id (owners)."""
    compounds = list(
        Unit.objects.filter(kind__in=(UnitKind.COMPOUND, UnitKind.NATURAL_VILLAGE), generated=True)
        .only("pk", "code", "name", "path", "parent_id")
        .order_by("path")
    )
    by_path = {c.path: c.pk for c in compounds}
    buildings: dict[int, list[int]] = {}
    cut = 2 * (PATH_STEP + 1)
    for pk, path in (
        Unit.objects.filter(kind=UnitKind.BUILDING, generated=True)
        .order_by("path")
        .values_list("pk", "path")
    ):
        compound = by_path.get(path[:-cut])
        if compound:
            buildings.setdefault(compound, []).append(pk)
    owners = {
        u.pk: u
        for u in Unit.objects.filter(
            kind__in=(UnitKind.COMMUNITY, UnitKind.VILLAGE, UnitKind.TOWNSHIP)
        ).only("pk", "code", "name", "parent_id", "kind")
    }
    return compounds, buildings, owners


def _weighted(rng, weights: dict):
    keys = list(weights)
    return rng.choices(keys, weights=[weights[k] for k in keys])[0]


class _Clock:
    def __init__(self):
        from hongyan.workdays import calendar

        self.cal = calendar.current()

    def deadline(self, category, start):
        if category.deadline_unit == DeadlineUnit.WORKING_HOURS:
            return self.cal.add_working_seconds(start, category.deadline_value * 3600)
        return self.cal.add_working_days(start, category.deadline_value)

    def response_due(self, category, start):
        return self.cal.add_working_seconds(start, category.response_hours * 3600)


def build_demo_needs(seed: int, progress=lambda _msg: None) -> dict[str, int]:
    progress("生成居民需求 / generating residents' needs …")
    rng = random.Random(seed * 11 + 5)
    now = timezone.now().replace(microsecond=0)
    clock = _Clock()
    categories = {c.code: c for c in categories_for(None)}
    weights = {k: v for k, v in CATEGORY_WEIGHTS.items() if k in categories}
    compounds, buildings, owners = _places()
    helpers: dict[int, list[int]] = {}
    for member_id, community_id in (
        DualRegistration.objects.filter(confirmed_at__isnull=False)
        .values_list("member_id", "community_id")
        .order_by("member_id")
    ):
        helpers.setdefault(community_id, []).append(member_id)

    need_id, event_id = _next_id(Need), _next_id(NeedEvent)
    needs: list[SimpleNamespace] = []
    events: list[tuple] = []
    references: set[str] = set()
    open_by_compound: dict[int, list[SimpleNamespace]] = {}
    figures = {"needs": 0, "jining": 0, "open": 0, "overdue": 0, "rated": 0}
    mobiles: dict[str, tuple[str, str]] = {}

    def event(need, at, action, to_status, name="", note="", data=None, from_status=""):
        nonlocal event_id
        events.append(
            (event_id, need.id, at, name, action, from_status, to_status, note, data or {})
        )
        event_id += 1

    for compound in compounds:
        jining = compound.code.startswith(JINING)
        mean = JINING_PER_COMPOUND if jining else OTHER_PER_COMPOUND
        count = int(mean) + (rng.random() < mean - int(mean))
        if jining and rng.random() < 0.3:
            count += rng.randint(1, 3)  # busy compounds
        community = owners.get(compound.parent_id)
        if community is None:
            continue
        township = owners.get(community.parent_id, community)
        staff_name = f"{community.short_name}工作人员"
        for _i in range(count):
            code = _weighted(rng, weights)
            category = categories[code]
            channel = _weighted(rng, CHANNEL_WEIGHTS)
            created = now - timedelta(days=rng.random() * DAYS)
            created = created.replace(microsecond=0)
            homes = buildings.get(compound.pk)
            building_id = rng.choice(homes) if homes else None
            text = rng.choice(TEXTS[code]).format(
                b=f"{rng.randint(1, 30)}号楼" if homes else "", e=rng.randint(1, 4)
            )
            while True:
                reference = f"XQ{timezone.localtime(created):%Y%m%d}" + "".join(
                    rng.choice(REFERENCE_ALPHABET) for _ in range(6)
                )
                if reference not in references:
                    references.add(reference)
                    break
            mobile = (
                ""
                if channel == Channel.PROXY
                else f"1{rng.choice('3578')}{rng.randrange(10**9):09d}"
            )
            if mobile and mobile not in mobiles:
                mobiles[mobile] = (
                    pii.encrypt(mobile, MOBILE_AAD),
                    pii.blind_index(mobile, MOBILE_PURPOSE),
                )
            enc, index = mobiles.get(mobile, ("", ""))
            owner = township if category.owner_level == UnitKind.TOWNSHIP else community
            need = SimpleNamespace(
                **NEED_DEFAULTS,
                id=need_id,
                reference=reference,
                channel=channel,
                category=category.pk,
                text=text,
                unit=building_id or compound.pk,
                owner=owner.pk,
                resident_name=names.person(rng),
                resident_mobile_enc=enc,
                resident_mobile_index=index,
                source_ref=f"12345-{rng.randrange(10**7):07d}"
                if channel == Channel.HOTLINE
                else "",
                follow_token_hash=hashlib.sha256(f"demo-{seed}-{need_id}".encode()).hexdigest(),
                created_at=created,
                response_due=clock.response_due(category, created),
                deadline=clock.deadline(category, created),
            )
            need_id += 1
            figures["needs"] += 1
            figures["jining"] += jining
            filer = staff_name if channel in STAFF_CHANNELS else ""
            event(
                need,
                created,
                EventAction.SUBMITTED,
                Status.SUBMITTED,
                filer or "居民",
                data={"channel": channel, "proxy": channel == Channel.PROXY},
            )
            _play(
                rng,
                need,
                now,
                category,
                clock,
                staff_name,
                helpers.get(community.pk, []),
                event,
                open_by_compound.setdefault(compound.pk, []),
                figures,
            )
            needs.append(need)

    insert(Need, NEED_COLUMNS, (_need_row(n) for n in needs), batch=1000)
    insert(
        NeedEvent,
        EVENT_COLUMNS,
        ((*e[:2], _db_time(e[2]), *e[3:8], json.dumps(e[8], ensure_ascii=False)) for e in events),
        batch=5000,
    )
    reset_sequence(Need, NeedEvent)
    figures["events"] = len(events)
    return figures


def _play(rng, need, now, category, clock, staff, helpers, event, open_here, figures):
    """Walk the need through the workflow as far as its age allows, recording events."""
    # a duplicate of an open need in the same compound, now and then
    if open_here and rng.random() < 0.02:
        into = rng.choice(open_here)
        if into.created_at < need.created_at:
            at = need.created_at + timedelta(hours=rng.uniform(0.5, 6))
            if at < now:
                need.status, need.merged_into, need.closed_at = Status.MERGED, into.id, at
                into.supporters += 1
                event(
                    need,
                    at,
                    EventAction.MERGED,
                    Status.MERGED,
                    staff,
                    data={"into": into.reference},
                    from_status=Status.SUBMITTED,
                )
                return
    respond = timedelta(hours=rng.choice((0.5, 1, 2, 4, 8, 20, 30, 60)) * rng.uniform(0.3, 1.2))
    responded = need.created_at + respond
    if responded > now:
        figures["open"] += 1
        figures["overdue"] += need.deadline < now
        open_here.append(need)
        return
    need.responded_at = responded
    if rng.random() < 0.04:
        reason = rng.choice(REJECT_REASONS)
        need.status, need.reject_reason, need.closed_at = Status.REJECTED, reason, responded
        event(
            need,
            responded,
            EventAction.REJECTED,
            Status.REJECTED,
            staff,
            reason,
            from_status=Status.SUBMITTED,
        )
        return
    need.accepted_at = responded
    event(
        need, responded, EventAction.ACCEPTED, Status.ACCEPTED, staff, from_status=Status.SUBMITTED
    )
    # 派单 then a member claims, or the community handles it itself
    span = need.deadline - need.created_at
    step = responded + timedelta(minutes=rng.randint(5, 240))
    handler = rng.choice(helpers) if helpers and rng.random() < 0.55 else None
    if step > now:
        need.status = Status.ACCEPTED
        figures["open"] += 1
        figures["overdue"] += need.deadline < now
        open_here.append(need)
        return
    if handler:
        need.status, need.dispatched_at = Status.DISPATCHED, step
        need.assignee_kind = AssigneeKind.UNIT
        need.assigned_unit = need.unit
        event(
            need,
            step,
            EventAction.DISPATCHED,
            Status.DISPATCHED,
            staff,
            from_status=Status.ACCEPTED,
            data={"kind": "unit"},
        )
        step += timedelta(minutes=rng.randint(10, 600))
        if step > now:
            figures["open"] += 1
            figures["overdue"] += need.deadline < now
            open_here.append(need)
            return
        need.status, need.claimed_at, need.handler_member = Status.CLAIMED, step, handler
        event(
            need,
            step,
            EventAction.CLAIMED,
            Status.CLAIMED,
            "双报到党员",
            from_status=Status.DISPATCHED,
        )
        worker = "双报到党员"
    else:
        worker = staff
    need.started_at = step
    need.status = Status.IN_PROGRESS
    event(need, step, EventAction.STARTED, Status.IN_PROGRESS, worker)
    # most on time, some late; a few still in hand past their deadline
    resolved = need.created_at + span * rng.choice(
        (0.15, 0.25, 0.35, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 1.2, 1.6)
    )
    resolved = max(resolved, step + timedelta(minutes=30))
    if resolved > now:
        figures["open"] += 1
        figures["overdue"] += need.deadline < now
        open_here.append(need)
        return
    resolution = RESOLUTIONS.get(category.code, RESOLUTIONS["other"])
    need.status, need.resolved_at, need.resolution = Status.RESOLVED, resolved, resolution
    event(
        need,
        resolved,
        EventAction.RESOLVED,
        Status.RESOLVED,
        worker,
        resolution,
        from_status=Status.IN_PROGRESS,
    )
    rated = resolved + timedelta(hours=rng.uniform(2, 60))
    if rated > now or rng.random() < 0.08:  # not rated yet, or never: staff close after the revisit
        if rated <= now:
            need.status, need.closed_at = Status.CLOSED, rated
            event(
                need,
                rated,
                EventAction.CLOSED,
                Status.CLOSED,
                staff,
                "回访后关闭",
                from_status=Status.RESOLVED,
            )
        return
    rating = rng.choices((5, 4, 3, 2, 1), weights=(58, 27, 9, 4, 2))[0]
    if rating <= 2:  # reopened, done again, rated again
        event(need, rated, EventAction.RATED, Status.RESOLVED, "居民", data={"rating": rating})
        need.reopen_count = 1
        event(
            need,
            rated,
            EventAction.REOPENED,
            Status.IN_PROGRESS,
            "居民",
            "居民评价不满意，重新办理。",
        )
        resolved = rated + timedelta(hours=rng.uniform(4, 48))
        rated = resolved + timedelta(hours=rng.uniform(2, 24))
        if rated > now:
            need.status, need.resolved_at = Status.IN_PROGRESS, None
            figures["open"] += 1
            return
        need.resolved_at = resolved
        event(need, resolved, EventAction.RESOLVED, Status.RESOLVED, worker, resolution)
        rating = rng.choice((3, 4, 4, 5))
    need.rating, need.rated_at = rating, rated
    need.rating_comment = rng.choice(("", "", "很及时，谢谢社区", "处理得不错", "希望以后快一点"))
    need.status, need.closed_at = Status.CLOSED, rated
    figures["rated"] += 1
    event(
        need,
        rated,
        EventAction.RATED,
        Status.RESOLVED,
        "居民",
        need.rating_comment,
        data={"rating": rating},
    )
    event(need, rated, EventAction.CLOSED, Status.CLOSED, "居民", from_status=Status.RESOLVED)


def link_demo_needs(resident, seed: int = 1509) -> int:
    """The demo `resident` account files a few needs of its own in its building."""
    from . import services

    grant = resident.grants.select_related("unit").first()
    if grant is None:
        return 0
    categories = {c.code: c for c in categories_for(grant.unit)}
    rng = random.Random(seed)
    made = 0
    for code, text in (
        ("public_facilities", "我们单元的楼道灯坏了，晚上看不见台阶"),
        ("property", "家里暖气不热，只有十五度左右"),
    ):
        need = services.need_file(
            actor=resident,
            channel=Channel.RESIDENT_ACCOUNT,
            category=categories[code],
            unit=grant.unit,
            text=text,
            resident_mobile=f"139{rng.randrange(10**8):08d}",
            at=timezone.now() - timedelta(days=rng.randint(1, 4)),
            generated=True,
        )
        made += bool(need.pk)
    return made
