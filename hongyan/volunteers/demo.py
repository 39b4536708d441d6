"""The demo city's volunteers: a team in every community and village (two in 集宁区 and
察右后旗), volunteers from the member register plus a few residents, and a year of
services with their approved hours — 察右后旗's community teams show 530+ deeds this year
(the source). A few services are upcoming, with sign-ups, so the phone pages have
something to do. Bulk inserts only: a few seconds for the whole city."""

import random
from datetime import UTC, datetime, timedelta

from django.db import connection
from django.utils import timezone

from hongyan.demo import names
from hongyan.members.models import Member
from hongyan.orgs.models import Unit, UnitKind

from .models import (
    Certificate,
    Participation,
    Service,
    ServiceKind,
    Team,
    TeamKind,
    TeamMembership,
    Volunteer,
)

JINING, CHAYOUHOU = "150902", "150928"
DAYS = 365
CHAYOUHOU_DEEDS = (540, 620)  # this year's approved participations there, drawn in this range
SERVICES_PER_COMMUNITY = 3  # elsewhere, over the year (on average)
TITLES = {
    ServiceKind.ELDERLY: (
        "为独居老人打扫卫生",
        "陪高龄老人办理高龄认证",
        "助老理发",
        "为老人送药上门",
    ),
    ServiceKind.ENVIRONMENT: ("楼道杂物清理", "小区环境整治", "清扫积雪"),
    ServiceKind.LEGAL: ("法律咨询进社区", "调解邻里纠纷"),
    ServiceKind.SCIENCE: ("防诈骗知识宣讲", "垃圾分类科普", "草根讲堂"),
    ServiceKind.CULTURE: ("红色文艺演出", "书法绘画进社区"),
    ServiceKind.PATROL: ("平安巡逻", "消防安全检查"),
    ServiceKind.HEALTH: ("义诊进社区", "健康讲座"),
}
KIND_FOR_TEAM = {
    "网格先锋队": (ServiceKind.ENVIRONMENT, ServiceKind.PATROL, ServiceKind.ELDERLY),
    "法律援助队": (ServiceKind.LEGAL,),
    "知识科普宣讲队": (ServiceKind.SCIENCE, ServiceKind.HEALTH),
    "暖心小分队": (ServiceKind.ELDERLY,),
    "文明实践队": (ServiceKind.CULTURE, ServiceKind.ENVIRONMENT),
    "平安巡逻队": (ServiceKind.PATROL,),
    "环境整治队": (ServiceKind.ENVIRONMENT,),
}


def _db(value):
    """Aware datetime → what the database takes (SQLite: naive UTC text, as Django writes)."""
    if isinstance(value, datetime) and connection.vendor == "sqlite":
        return str(value.astimezone(UTC).replace(tzinfo=None))
    return value


def _insert(model, columns: list[str], rows: list[tuple]) -> None:
    """Plain INSERTs for the big tables: the ORM's bulk_create spends most of the demo's
    time preparing values one field at a time."""
    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(c) for c in columns)
    marks = ", ".join(["%s"] * len(columns))
    with connection.cursor() as cursor:
        for i in range(0, len(rows), 5000):
            cursor.executemany(
                f"INSERT INTO {table} ({names}) VALUES ({marks})",  # noqa: S608 — our columns
                [tuple(_db(v) for v in row) for row in rows[i : i + 5000]],
            )


def clear_demo_volunteers() -> None:
    """Before the members and units go (volunteers point at both)."""
    Certificate.objects.all().delete()
    Participation.objects.all().delete()
    Service.skills.through.objects.all().delete()
    Service.objects.all().delete()
    TeamMembership.objects.all().delete()
    Team.skills.through.objects.all().delete()
    Team.objects.all().delete()
    Volunteer.specialties.through.objects.all().delete()
    Volunteer.objects.all().delete()


def build_demo_volunteers(seed: int, progress=lambda _msg: None) -> dict[str, int]:
    progress("生成志愿服务 / generating volunteer teams and hours …")
    rng = random.Random(seed * 13 + 7)
    now = timezone.now().replace(second=0, microsecond=0)
    year_start = timezone.make_aware(datetime(timezone.localdate().year, 1, 1))
    kinds = {k.name: k for k in TeamKind.objects.all()}
    communities = list(
        Unit.objects.filter(kind__in=(UnitKind.COMMUNITY, UnitKind.VILLAGE)).order_by("path")
    )
    by_community: dict[int, list[tuple]] = {}
    for row in (
        Member.objects.filter(generated=True)
        .values_list("pk", "name", "unit_id", "compound_id", "compound__parent_id")
        .order_by("pk")
    ):
        by_community.setdefault(row[4], []).append(row)

    # volunteers: up to 8 members of the community and 2 residents (4 where no member lives)
    volunteers: list[Volunteer] = []
    home: dict[int, list[int]] = {}  # community id -> indexes into `volunteers`
    for c in communities:
        members = by_community.get(c.pk, [])
        picked = rng.sample(members, min(len(members), 8))
        slots = home.setdefault(c.pk, [])
        for pk, name, unit_id, compound_id, _c in picked:
            slots.append(len(volunteers))
            volunteers.append(
                Volunteer(
                    unit_id=unit_id,
                    compound_id=compound_id,
                    name=name,
                    member_id=pk,
                    generated=True,
                )
            )
        for _i in range(2 if picked else 4):
            slots.append(len(volunteers))
            volunteers.append(Volunteer(unit=c, name=names.person(rng), generated=True))
    Volunteer.objects.bulk_create(volunteers, batch_size=2000)

    # teams: one per community, two in 集宁区 and 察右后旗
    teams: list[Team] = []
    team_home: list[Unit] = []
    kind_names = list(kinds)
    for c in communities:
        count = 2 if c.code.startswith((JINING, CHAYOUHOU)) else 1
        for i in range(count):
            kind = kinds[kind_names[0] if i == 0 else rng.choice(kind_names[1:])]
            leader = volunteers[home[c.pk][i]]
            teams.append(
                Team(
                    name=f"{c.short_name}{kind.name}",
                    kind=kind,
                    unit=c,
                    leader=leader,
                    generated=True,
                )
            )
            team_home.append(c)
    Team.objects.bulk_create(teams, batch_size=2000)
    memberships = []
    crew: dict[int, list[Volunteer]] = {}
    today = timezone.localdate()
    for team, c in zip(teams, team_home, strict=True):
        slots = home[c.pk]
        chosen = {volunteers[i] for i in rng.sample(slots, min(len(slots), rng.randint(4, 8)))}
        chosen.add(team.leader)
        crew[team.pk] = sorted(chosen, key=lambda v: v.pk)
        memberships += [(team.pk, v.pk, today) for v in crew[team.pk]]
    _insert(TeamMembership, ["team_id", "volunteer_id", "joined_on"], memberships)

    # a year of services, mostly done and approved; a few upcoming with sign-ups
    chayouhou = [t for t in teams if t.unit.code.startswith(CHAYOUHOU)]
    in_chayouhou = {t.pk for t in chayouhou}
    target = rng.randint(*CHAYOUHOU_DEEDS)
    services: list[Service] = []
    planned: list[list[Volunteer]] = []

    def plan(team, start, people):
        kind = rng.choice(KIND_FOR_TEAM.get(team.kind.name, (ServiceKind.OTHER,)))
        title = rng.choice(TITLES.get(kind, ("志愿服务",)))
        hours = rng.choice((1, 1.5, 2, 2, 3, 4))
        services.append(
            Service(
                unit=team.unit,
                team=team,
                title=title,
                kind=kind,
                place=f"{team.unit.short_name}党群服务站",
                starts_at=start,
                ends_at=start + timedelta(hours=hours),
                capacity=max(len(people) + rng.randint(0, 4), 2),
                generated=True,
            )
        )
        planned.append(people)

    def past_start(since):
        span = (now - since).total_seconds()
        start = since + timedelta(seconds=rng.random() * span)
        return start.replace(hour=rng.choice((8, 9, 14, 15)), minute=rng.choice((0, 30)))

    done_here = 0
    while done_here < target and chayouhou:  # this year in 察右后旗
        team = rng.choice(chayouhou)
        people = rng.sample(crew[team.pk], min(len(crew[team.pk]), rng.randint(2, 6)))
        people = people[: target - done_here]
        plan(team, past_start(year_start), people)
        done_here += len(people)
    for team in teams:  # everywhere, over the last year (察右后旗 before this year only)
        since = now - timedelta(days=DAYS)
        if team.pk in in_chayouhou:
            if since >= year_start:
                continue
            n, until = 1, year_start
        else:
            n, until = rng.randint(1, 2 * SERVICES_PER_COMMUNITY - 1), now
        for _i in range(n):
            start = past_start(since)
            if start >= until:
                start = since + (until - since) / 2
            people = rng.sample(crew[team.pk], min(len(crew[team.pk]), rng.randint(2, 6)))
            plan(team, start, people)
    upcoming = rng.sample(teams, min(len(teams), 300))
    for team in upcoming:
        start = (now + timedelta(days=rng.randint(2, 20))).replace(hour=9, minute=0)
        plan(team, start, rng.sample(crew[team.pk], min(len(crew[team.pk]), 2)))
    Service.objects.bulk_create(services, batch_size=2000)

    rows = []
    for service, people in zip(services, planned, strict=True):
        past = service.ends_at < now
        minutes = int((service.ends_at - service.starts_at).total_seconds() // 60)
        for v in people:
            row = [service.pk, v.pk, False, service.starts_at - timedelta(days=3), None]
            if past:
                late = rng.choice((0, 0, 5, 10, 15))
                checkin = service.starts_at + timedelta(minutes=late)
                checkout = checkin + timedelta(minutes=minutes - late)
                approved = checkout + timedelta(hours=rng.randint(1, 48))
                row += [checkin, checkout, rng.random() < 0.1, minutes - late, approved, True]
            else:
                row += [None, None, False, None, None, True]
            rows.append(tuple(row))
    _insert(
        Participation,
        [
            "service_id",
            "volunteer_id",
            "assigned",
            "signed_up_at",
            "cancelled_at",
            "checkin_at",
            "checkout_at",
            "entered_by_leader",
            "minutes",
            "approved_at",
            "generated",
        ],
        rows,
    )
    return {
        "volunteers": len(volunteers),
        "teams": len(teams),
        "services": len(services),
        "participations": len(rows),
        "chayouhou_this_year": done_here,
    }


def link_demo_volunteers(member_user) -> None:
    """The demo `member` is a volunteer of their community's first team, signed up to an
    upcoming service (the demo `resident` signs up by themselves)."""
    member = Member.objects.filter(account=member_user).first()
    if member is None:
        return
    volunteer = Volunteer.objects.filter(member=member).first()
    if volunteer is None:
        volunteer = Volunteer.objects.create(
            unit=member.unit,
            compound=member.compound,
            name=member.name,
            member=member,
            generated=True,
        )
    volunteer.account = member_user
    volunteer.save(update_fields=["account"])
    team = Team.objects.filter(unit=member.compound.parent).order_by("pk").first()
    if team is None:
        return
    TeamMembership.objects.get_or_create(team=team, volunteer=volunteer)
    start = (timezone.now() + timedelta(days=3)).replace(hour=9, minute=0, second=0, microsecond=0)
    service = Service.objects.create(
        unit=team.unit,
        team=team,
        title="为独居老人打扫卫生",
        kind=ServiceKind.ELDERLY,
        place=f"{member.compound.name}",
        starts_at=start,
        ends_at=start + timedelta(hours=2),
        capacity=6,
        generated=True,
    )
    Participation.objects.create(service=service, volunteer=volunteer, generated=True)
