"""Demo members for the demo city: as many full members in each compound as the
generator recorded there (so the branch rules and the coverage agree), plus a few
probationary members, with specialties, household plates, homes in real buildings and
encrypted ID numbers and mobiles. 集宁区 gets its 13,000+ in-service members.

Written for speed: one pass building plain objects, encryption in a tight loop, then
bulk inserts (members, their pinyin keys, their specialties)."""

import random
from datetime import date, datetime, timedelta

from django.utils import timezone

from hongyan.core import pii
from hongyan.core.pinyin import search_keys
from hongyan.demo import names
from hongyan.orgs.models import (
    PATH_STEP,
    SHARED_BRANCH_KINDS,
    OrgKind,
    PartyOrganization,
    Unit,
    UnitKind,
)

from . import bulk
from .models import (
    DEFAULT_SPECIALTIES,
    ID_AAD,
    ID_PURPOSE,
    MOBILE_AAD,
    MOBILE_PURPOSE,
    Category,
    CommunityPost,
    DualRegistration,
    Member,
    MemberSearchKey,
    Plate,
    Specialty,
    Status,
    WorkUnitPairing,
)

WORK_UNITS = (
    "集宁区第一中学",
    "乌兰察布市中心医院",
    "内蒙古电力集团乌兰察布供电公司",
    "集宁区人民法院",
    "乌兰察布日报社",
    "集宁师范学院",
    "乌兰察布市税务局",
    "中国移动乌兰察布分公司",
    "集宁区新体路街道办事处",
    "乌兰察布市第二中学",
    "中国银行乌兰察布分行",
    "集宁区交通运输局",
    "乌兰察布职业学院",
    "察哈尔律师事务所",
    "乌兰察布市自然资源局",
    "集宁区城市管理局",
)
PROFESSIONS = ("教师", "医生", "工程师", "公务员", "会计", "律师", "护士", "记者", "职员", "技术员")
OTHER_ETHNICITIES = ("回族", "满族", "达斡尔族", "鄂温克族")
JINING = "150902"


def clear_demo_members() -> None:
    """The demo city is rebuilt below the communities, so every home goes: the whole
    register with it (imported members included)."""
    doomed = Member.records.all()
    DualRegistration.objects.filter(member__in=doomed.values("pk"))._raw_delete("default")
    CommunityPost.objects.filter(member__in=doomed.values("pk"))._raw_delete("default")
    WorkUnitPairing.objects.filter(generated=True)._raw_delete("default")
    MemberSearchKey.objects.filter(member__in=doomed.values("pk"))._raw_delete("default")
    Member.specialties.through.objects.filter(member__in=doomed.values("pk"))._raw_delete("default")
    doomed._raw_delete("default")


def _party_orgs() -> tuple[dict[int, int], dict[int, int], dict[int, int]]:
    own = dict(
        PartyOrganization.objects.filter(
            unit__kind=UnitKind.COMPOUND, kind=OrgKind.BRANCH
        ).values_list("unit_id", "pk")
    )
    through = PartyOrganization.covers.through
    shared = dict(
        through.objects.filter(partyorganization__kind__in=SHARED_BRANCH_KINDS).values_list(
            "unit_id", "partyorganization_id"
        )
    )
    community = dict(
        PartyOrganization.objects.filter(unit__kind=UnitKind.COMMUNITY).values_list("unit_id", "pk")
    )
    return own, shared, community


def _buildings_by_compound(compounds: list[Unit]) -> dict[int, list[Unit]]:
    by_path = {c.path: c.pk for c in compounds}
    found: dict[int, list[Unit]] = {}
    cut = 2 * (PATH_STEP + 1)  # building → grid → compound
    buildings = Unit.objects.filter(kind=UnitKind.BUILDING, generated=True).order_by("path")
    for building in buildings.only("pk", "path", "name", "parent_id"):
        compound_pk = by_path.get(building.path[:-cut])
        if compound_pk:
            found.setdefault(compound_pk, []).append(building)
    return found


class _People:
    def __init__(self, rng: random.Random):
        self.rng = rng
        self.used_ids: set[str] = set()
        self.today = date(2026, 11, 1)

    def id_number(self, area: str, born: date, male: bool) -> str:
        rng = self.rng
        while True:
            seq = rng.randrange(0, 500) * 2 + (1 if male else 0)
            first17 = f"{area}{born:%Y%m%d}{seq:03d}"
            number = first17 + pii.id_check_char(first17)
            if number not in self.used_ids:
                self.used_ids.add(number)
                return number

    def mobile(self) -> str:
        rng = self.rng
        return f"1{rng.choice('3456789')}{rng.randrange(0, 10**9):09d}"


EDUCATIONS = (
    "bachelor",
    "bachelor",
    "college",
    "college",
    "high_school",
    "postgraduate",
    "vocational",
    "junior_high",
)


def _birth_date(rng: random.Random, jining: bool) -> date:
    # 集宁区 is a working town: most of its members are of working age
    if rng.random() < (0.88 if jining else 0.65):
        return date(1966, 1, 1) + timedelta(days=rng.randrange(0, 34 * 365))
    return date(1940, 1, 1) + timedelta(days=rng.randrange(0, 26 * 365))


def _status(rng: random.Random, age: int, jining: bool) -> str:
    roll = rng.random()
    if age >= 60:
        return Status.RETIRED if roll < 0.9 else Status.OTHER
    if jining:
        return Status.IN_SERVICE if roll < 0.985 else Status.FLOWING
    if roll < 0.85:
        return Status.IN_SERVICE
    return Status.FLOWING if roll < 0.95 else Status.OTHER


def _plate(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.08:
        return Plate.PIONEER
    if roll < 0.11:
        return Plate.BASTION
    return Plate.CENTRE if roll < 0.13 else ""


def build_demo_members(
    seed: int, full_members: dict[str, int], progress=lambda _msg: None
) -> dict[str, int]:
    """Generate the register for every generated compound, with `full_members[code]` full
    members in each (the city generator draws them to fit the compound's branch). Returns
    figures."""
    progress("生成党员名册 / generating the member register …")
    rng = random.Random(seed * 7 + 3)
    people = _People(rng)
    compounds = list(
        Unit.objects.filter(kind=UnitKind.COMPOUND, generated=True)
        .only("pk", "code", "path", "parent_id")
        .order_by("path")
    )
    buildings = _buildings_by_compound(compounds)
    own, shared, community = _party_orgs()
    for position, name in enumerate(DEFAULT_SPECIALTIES, start=1):  # a flushed test database
        Specialty.objects.get_or_create(name=name, defaults={"position": position})
    # the default list in its own order: the same draw whatever else a database holds
    by_name = dict(Specialty.objects.filter(name__in=DEFAULT_SPECIALTIES).values_list("name", "pk"))
    specialty_ids = [by_name[name] for name in DEFAULT_SPECIALTIES]
    pairing_ids = _demo_pairings(rng, compounds)
    bulk.lock(Member)
    member_id = bulk.next_id(Member)
    now = bulk.db_now()
    rows, keys, chosen, registrations, posts = [], [], [], [], []
    heads: set[tuple] = set()
    jining_in_service = registered = 0
    for compound in compounds:
        jining = compound.code.startswith(JINING)
        full = full_members.get(compound.code, 0)
        probationary = rng.choice((0, 0, 0, 1)) if full >= 3 else 0
        homes = buildings.get(compound.pk) or [compound]
        org_id = (
            own.get(compound.pk) or shared.get(compound.pk) or community.get(compound.parent_id)
        )
        area = compound.code[:6]
        for i in range(full + probationary):
            name = names.person(rng)
            male = rng.random() < 0.55
            born = _birth_date(rng, jining)
            joined = born + timedelta(days=rng.randrange(20 * 365, 40 * 365))
            if joined > people.today:
                joined = people.today - timedelta(days=rng.randrange(30, 700))
            status = _status(rng, (people.today - born).days // 365, jining)
            in_service = status == Status.IN_SERVICE
            jining_in_service += in_service and jining
            home = rng.choice(homes)
            entrance = str(rng.randint(1, 4))
            work_unit = rng.choice(WORK_UNITS) if in_service else ""
            id_number, mobile = people.id_number(area, born, male), people.mobile()
            if name in names.MONGOLIAN:
                ethnicity = "蒙古族"
            else:
                ethnicity = rng.choice(OTHER_ETHNICITIES) if rng.random() < 0.05 else "汉族"
            rows.append(
                (
                    member_id,
                    home.pk,
                    compound.pk,
                    home.name if home is not compound else "",
                    str(rng.randint(1, 4)),
                    f"{rng.randint(1, 6)}0{rng.randint(1, 4)}",
                    name,
                    "male" if male else "female",
                    ethnicity,
                    bulk.db_date(born),
                    pii.encrypt(id_number, ID_AAD),
                    pii.blind_index(id_number, ID_PURPOSE),
                    pii.encrypt(mobile, MOBILE_AAD),
                    pii.blind_index(mobile, MOBILE_PURPOSE),
                    Category.FULL if i < full else Category.PROBATIONARY,
                    bulk.db_date(joined),
                    org_id,
                    rng.choice(WORK_UNITS) if in_service else "",
                    "",
                    status,
                    rng.choice(EDUCATIONS),
                    rng.choice(PROFESSIONS) if in_service else "",
                    _plate(rng),
                    "",
                    True,
                    now,
                    now,
                )
            )
            keys.extend((member_id, key) for key in search_keys(name))
            if in_service and (jining or rng.random() < 0.5):
                registered += 1
                registrations.append(
                    _demo_registration(rng, member_id, compound, work_unit, pairing_ids)
                )
            posts.extend(_demo_posts(rng, heads, member_id, compound, home, entrance, i < full))
            if rng.random() < 0.6:
                chosen.extend(
                    (member_id, s) for s in rng.sample(specialty_ids, rng.choice((1, 1, 2)))
                )
            member_id += 1
    bulk.insert(Member, bulk.MEMBER_COLUMNS, rows)
    bulk.insert(MemberSearchKey, ["member", "key"], keys, batch=5000)
    bulk.insert(Member.specialties.through, ["member", "specialty"], chosen, batch=5000)
    bulk.insert(DualRegistration, REGISTRATION_COLUMNS, registrations, batch=5000)
    bulk.insert(CommunityPost, POST_COLUMNS, posts, batch=5000)
    bulk.reset_sequence(Member, Member.specialties.through)  # the keys have no sequence
    return {
        "members": len(rows),
        "jining_in_service": jining_in_service,
        "registered": registered,
        "posts": len(posts),
    }


REGISTRATION_COLUMNS = [
    "member",
    "community",
    "pairing",
    "self_service",
    "registered_at",
    "confirmed_at",
    "generated",
]
POST_COLUMNS = [
    "member",
    "kind",
    "unit",
    "building",
    "entrance",
    "since",
    "elected_on",
    "votes_for",
    "votes_cast",
    "generated",
]
SERVICES = (
    "政策宣讲",
    "义诊",
    "法律咨询",
    "环境整治",
    "助老服务",
    "课后托管",
    "志愿服务",
    "水电维修",
)


def _demo_pairings(rng: random.Random, compounds: list[Unit]) -> dict[tuple[int, str], int]:
    """Work units paired with each 集宁区 community (双报到 of organisations)."""
    # in code order (not by primary key), so both databases draw the same city
    codes = {c.parent_id: c.code[:12] for c in compounds if c.code.startswith(JINING)}
    communities = sorted(codes, key=codes.get)
    pairings = []
    for community_id in communities:
        for work_unit in rng.sample(WORK_UNITS, rng.randint(3, 6)):
            pairings.append(
                WorkUnitPairing(
                    community_id=community_id,
                    work_unit=work_unit,
                    party_org_name=f"{work_unit}党组织",
                    agreement="党建共建协议",
                    signed_on=date(2023, 1, 1) + timedelta(days=rng.randrange(0, 1000)),
                    contact=names.person(rng),
                    services="、".join(rng.sample(SERVICES, 2)),
                    generated=True,
                )
            )
    WorkUnitPairing.objects.bulk_create(pairings, batch_size=2000)
    return {(p.community_id, p.work_unit): p.pk for p in pairings}


def _demo_registration(rng, member_id, compound, work_unit, pairing_ids) -> tuple:
    at = timezone.make_aware(datetime(2024, 3, 1, 9)) + timedelta(
        days=rng.randrange(0, 900), minutes=rng.randrange(0, 600)
    )
    confirmed = at + timedelta(days=rng.randint(1, 10)) if rng.random() < 0.92 else None
    return (
        member_id,
        compound.parent_id,
        pairing_ids.get((compound.parent_id, work_unit)),
        rng.random() < 0.4,
        bulk.db_datetime(at),
        bulk.db_datetime(confirmed) if confirmed else None,
        True,
    )


def _demo_posts(rng, heads: set, member_id, compound, home, entrance, full: bool) -> list[tuple]:
    """The first full members met in each place become its heads (三户四长)."""
    out = []
    if not full:
        return out

    def take(kind, unit_id, building="", entrance_="", meeting=False):
        key = (kind, unit_id, building, entrance_)
        if key in heads:
            return
        heads.add(key)
        elected = votes_cast = votes_for = None
        if meeting:
            elected = date(2023, 1, 1) + timedelta(days=rng.randrange(0, 1200))
            votes_cast = rng.randint(8, 40)
            votes_for = rng.randint(votes_cast // 2 + 1, votes_cast)
        out.append(
            (
                member_id,
                kind,
                unit_id,
                building,
                entrance_,
                bulk.db_date(elected),
                bulk.db_date(elected),
                votes_for,
                votes_cast,
                True,
            )
        )

    take("compound_head", compound.pk)
    if home is not compound:
        if rng.random() < 0.8:
            take("grid_head", home.parent_id)
        if rng.random() < 0.7:
            take("building_head", home.pk, home.name, meeting=True)
        if rng.random() < 0.3:
            take("entrance_head", home.pk, home.name, entrance)
    return out


def link_demo_account(user) -> None:
    """The demo `member` account is an in-service member living in its compound."""
    grant = user.grants.select_related("unit").first()
    member = (
        Member.objects.filter(compound=grant.unit, status=Status.IN_SERVICE, account__isnull=True)
        .order_by("pk")
        .first()
    )
    if member is not None:
        Member.objects.filter(account=user).update(account=None)
        member.account = user
        member.save(update_fields=["account"])
        DualRegistration.objects.filter(member=member).delete()  # to try self-service
