"""The demo city: 乌兰察布市's real divisions, plus generated compounds, grids, buildings,
party organisations and cadre assignments, and the demo accounts of DESIGN.md.

The same seed always gives the same city, and loading it again rebuilds it rather than
adding to it. 集宁区 reproduces the source's figure: 734 compound branches covering
more than 95% of its compounds."""

import random
import time
from collections import defaultdict
from datetime import date, timedelta

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from hongyan.care.demo import build_demo_care, clear_demo_care, link_demo_care
from hongyan.core import audit
from hongyan.core.errors import DomainError
from hongyan.core.models import ApiToken, Grant, User
from hongyan.core.roles import Role
from hongyan.members.demo import build_demo_members, clear_demo_members, link_demo_account
from hongyan.needs.demo import build_demo_needs, clear_demo_needs, link_demo_needs
from hongyan.orgs.loader import load_divisions, path_step
from hongyan.orgs.models import (
    CadreAssignment,
    OrgKind,
    PartyOrganization,
    Unit,
    UnitKind,
)
from hongyan.orgs.selectors import coverage_of
from hongyan.volunteers.demo import (
    build_demo_volunteers,
    clear_demo_volunteers,
    link_demo_volunteers,
)

from . import names

CITY_CODE = "1509"
JINING_CODE = "150902"
# The source: 734 compound branches in 集宁区, covering 95%+ of its compounds.
JINING_STATUSES = {"own": 734, "grid": 12, "cadre": 18, "uncovered": 8}
OTHER_STATUS_WEIGHTS = {"own": 70, "grid": 14, "cadre": 9, "uncovered": 7}

DEMO_ACCOUNTS = [
    # username, role, unit code (None = found while generating), display name
    ("city_admin", Role.CITY_ADMIN, CITY_CODE, "市委组织部管理员"),
    ("jining_admin", Role.DISTRICT_ADMIN, JINING_CODE, "集宁区委组织部管理员"),
    ("street_admin", Role.STREET_ADMIN, "150902001", "新体路街道党工委管理员"),
    ("community_worker", Role.COMMUNITY_WORKER, "150902001001", "恩和路社区工作者"),
    ("grid_worker", Role.GRID_WORKER, None, "恩和路社区网格员"),
    ("fengzhen_admin", Role.DISTRICT_ADMIN, "150981", "丰镇市委组织部管理员"),
    ("member", Role.PARTY_MEMBER, None, "在职党员（恩和路社区）"),
    ("resident", Role.RESIDENT, None, "居民（恩和路社区）"),
    # 三员分立: they sign in with a TOTP as well (the demo prints their secrets)
    ("system_admin", Role.SYSTEM_ADMIN, CITY_CODE, "系统管理员"),
    ("security_admin", Role.SECURITY_ADMIN, CITY_CODE, "安全管理员"),
    ("audit_admin", Role.AUDIT_ADMIN, CITY_CODE, "审计管理员"),
]


def clear_demo_city():
    """Remove what the generator makes — and with it anything else below the villages and
    communities, every party organisation and cadre assignment, and the demo accounts'
    grants: the demo database is the demo's alone (production refuses to load it)."""
    usernames = [a[0] for a in DEMO_ACCOUNTS]
    clear_demo_care()  # first: visits point at needs, recipients at posts and units
    clear_demo_needs()  # first: needs point at members and at the units going
    clear_demo_volunteers()  # volunteers point at members and units
    clear_demo_members()
    ApiToken.objects.filter(user__username__in=usernames).delete()
    Grant.objects.filter(unit__depth__gte=5).delete()
    Grant.objects.filter(user__username__in=usernames).delete()
    CadreAssignment.objects.all().delete()
    PartyOrganization.covers.through.objects.all().delete()
    PartyOrganization.objects.all().delete()
    for depth in (7, 6, 5):
        Unit.objects.filter(depth__gte=depth).delete()


class _Builder:
    def __init__(self, seed: int):
        self.rng = random.Random(seed)
        self.units: list[Unit] = []
        self.orgs: list[tuple[PartyOrganization, list[Unit]]] = []
        self.cadres: list[CadreAssignment] = []

    def child_unit(self, parent: Unit, n: int, kind: str, code_suffix: str, name: str) -> Unit:
        return Unit(
            code=parent.code + code_suffix,
            name=name,
            kind=kind,
            parent=parent,
            path=parent.path + path_step(n),
            depth=parent.depth + 1,
            generated=True,
        )

    def org(self, unit: Unit, kind: str, name: str, members: int, covers=()) -> None:
        founded = date(2018, 1, 1) + timedelta(days=self.rng.randrange(0, 6 * 365))
        org = PartyOrganization(
            unit=unit,
            kind=kind,
            name=name,
            secretary=names.person(self.rng),
            members_count=members,
            founded_on=founded,
            term_years=5 if unit.kind in (UnitKind.COMMUNITY, UnitKind.VILLAGE) else 3,
            generated=True,
        )
        self.orgs.append((org, list(covers)))


def _statuses(rng: random.Random, count: int, jining: bool) -> list[str]:
    if jining:
        statuses = [s for s, n in JINING_STATUSES.items() for _ in range(n)]
        rng.shuffle(statuses)
        return statuses
    kinds, weights = zip(*OTHER_STATUS_WEIGHTS.items(), strict=True)
    return rng.choices(kinds, weights=weights, k=count)


def _members_for(rng: random.Random, status: str) -> int:
    if status == "own":
        return rng.randint(3, 45)
    if status == "grid":
        return rng.randint(1, 2)
    if status == "cadre":
        return 0
    # uncovered: some big enough for a branch of their own (the rules page flags them)
    return rng.choice([0, 1, 2, 3, 4])


def _compounds_per_community(rng, communities: list[Unit], jining_total: int) -> dict[int, int]:
    counts = {c.pk: rng.randint(3, 9) for c in communities if not c.code.startswith(JINING_CODE)}
    jining = [c for c in communities if c.code.startswith(JINING_CODE)]
    if jining:
        base = [rng.randint(6, 13) for _ in jining]
        # scale to the exact total, spreading the rounding difference one by one
        scaled = [max(1, round(b * jining_total / sum(base))) for b in base]
        i = 0
        while sum(scaled) != jining_total:
            step = 1 if sum(scaled) < jining_total else -1
            if scaled[i % len(scaled)] + step >= 1:
                scaled[i % len(scaled)] += step
            i += 1
        counts.update({c.pk: n for c, n in zip(jining, scaled, strict=True)})
    return counts


@transaction.atomic
def build_demo_city(seed: int, progress=lambda _msg: None) -> None:
    b = _Builder(seed)
    rng = b.rng
    divisions = {u.code: u for u in Unit.objects.filter(depth__lte=4)}
    communities = sorted(
        (u for u in divisions.values() if u.kind == UnitKind.COMMUNITY), key=lambda u: u.code
    )
    villages = sorted(
        (u for u in divisions.values() if u.kind == UnitKind.VILLAGE), key=lambda u: u.code
    )
    jining_total = sum(JINING_STATUSES.values())
    per_community = _compounds_per_community(rng, communities, jining_total)

    progress("生成小区、网格和楼栋 / generating compounds, grids and buildings …")
    jining_statuses = _statuses(rng, jining_total, jining=True)
    compound_status: dict[str, str] = {}
    # full members each compound will have in the register (drawn to fit its status)
    planned_members: dict[str, int] = {}
    compounds: list[Unit] = []
    for community in communities:
        count = per_community[community.pk]
        jining = community.code.startswith(JINING_CODE)
        statuses = (
            [jining_statuses.pop() for _ in range(count)]
            if jining
            else _statuses(rng, count, False)
        )
        used_names: set[str] = set()
        for i, status in enumerate(statuses, start=1):
            name = names.compound(rng, used_names)
            unit = b.child_unit(community, i, UnitKind.COMPOUND, f"{i:03d}", name)
            planned_members[unit.code] = _members_for(rng, status)
            compound_status[unit.code] = status
            compounds.append(unit)
    natural_villages = []
    for village in villages:
        used_names = set()
        for i in range(1, rng.randint(2, 5) + 1):
            natural_villages.append(
                b.child_unit(
                    village,
                    i,
                    UnitKind.NATURAL_VILLAGE,
                    f"{i:03d}",
                    names.natural_village(rng, used_names),
                )
            )
    Unit.objects.bulk_create(compounds + natural_villages, batch_size=2000)

    grids = []
    for compound in compounds:
        for g in range(1, rng.randint(1, 3) + 1):
            grids.append(
                b.child_unit(
                    compound,
                    g,
                    UnitKind.GRID,
                    f"{g:02d}",
                    f"{compound.name}第{names.chinese_number(g)}网格",
                )
            )
    Unit.objects.bulk_create(grids, batch_size=2000)
    buildings = []
    for grid in grids:
        first = (int(grid.code[-2:]) - 1) * 10
        for n in range(1, rng.randint(2, 6) + 1):
            buildings.append(
                b.child_unit(grid, n, UnitKind.BUILDING, f"{n:03d}", f"{first + n}号楼")
            )
    Unit.objects.bulk_create(buildings, batch_size=5000)

    progress("生成党组织 / generating party organisations …")
    by_community: dict[int, list[Unit]] = defaultdict(list)
    for compound in compounds:
        by_community[compound.parent_id].append(compound)
    _division_orgs(b, divisions, by_community, planned_members)
    for community in communities:
        shared: list[Unit] = []
        for compound in by_community[community.pk]:
            status = compound_status[compound.code]
            if status == "own":
                b.org(
                    compound,
                    OrgKind.BRANCH,
                    f"{compound.name}党支部",
                    planned_members[compound.code],
                )
            elif status == "grid":
                shared.append(compound)
            elif status == "cadre":
                b.cadres.append(
                    CadreAssignment(
                        compound=compound,
                        cadre_name=names.person(rng),
                        cadre_post=rng.choice(
                            ["街道党工委委员", "社区党组织委员", "社区居委会委员"]
                        ),
                        since=date(2025, 1, 1) + timedelta(days=rng.randrange(0, 600)),
                        generated=True,
                    )
                )
        for n, start in enumerate(range(0, len(shared), 5), start=1):
            group = shared[start : start + 5]
            b.org(
                community,
                OrgKind.GRID_BRANCH,
                f"{community.short_name}第{names.chinese_number(n)}网格党支部",
                sum(planned_members[c.code] for c in group),
                covers=group,
            )
    PartyOrganization.objects.bulk_create([o for o, _ in b.orgs], batch_size=2000)
    through = PartyOrganization.covers.through
    through.objects.bulk_create(
        [through(partyorganization_id=o.pk, unit_id=c.pk) for o, covers in b.orgs for c in covers],
        batch_size=2000,
    )
    CadreAssignment.objects.bulk_create(b.cadres, batch_size=2000)
    register = build_demo_members(seed, planned_members, progress)
    progress(
        f"党员名册：{register['members']} 名党员，集宁区在职党员 {register['jining_in_service']} 名，"
        f"双报到 {register['registered']} 名 / register: {register['members']} members"
    )
    needs = build_demo_needs(seed, progress)
    progress(
        f"居民需求：{needs['needs']} 件（集宁区 {needs['jining']} 件），未办结 {needs['open']} 件，"
        f"超期 {needs['overdue']} 件 / needs: {needs['needs']}"
    )
    care = build_demo_care(seed, progress)
    progress(
        f"关爱走访：{care['recipients']} 名关爱对象（集宁区 {care['jining']} 名，儿童 {care['children']} 名），"
        f"走访 {care['visits']} 次，超期 {care['overdue']} 人 / care: {care['recipients']} recipients"
    )
    started = time.monotonic()
    vol = build_demo_volunteers(seed, progress)
    progress(
        f"志愿服务：{vol['teams']} 支服务队，{vol['volunteers']} 名志愿者，{vol['services']} 次服务，"
        f"察右后旗今年 {vol['chayouhou_this_year']} 人次（{time.monotonic() - started:.1f} s）"
        f" / volunteers: {vol['teams']} teams, {vol['services']} services"
    )


def _division_orgs(b: _Builder, divisions: dict[str, Unit], by_community, planned_members) -> None:
    rng = b.rng
    for unit in sorted(divisions.values(), key=lambda u: u.path):
        if unit.kind == UnitKind.CITY:
            b.org(unit, OrgKind.COMMITTEE, f"中共{unit.name}委员会", rng.randint(90000, 110000))
        elif unit.kind == UnitKind.COUNTY:
            b.org(unit, OrgKind.COMMITTEE, f"中共{unit.name}委员会", rng.randint(5000, 30000))
        elif unit.kind == UnitKind.TOWNSHIP:
            if unit.name.endswith("街道"):
                b.org(
                    unit,
                    OrgKind.WORKING_COMMITTEE,
                    f"中共{unit.name}工作委员会",
                    rng.randint(300, 3000),
                )
            else:
                b.org(unit, OrgKind.COMMITTEE, f"中共{unit.name}委员会", rng.randint(150, 1200))
        elif unit.kind in (UnitKind.COMMUNITY, UnitKind.VILLAGE):
            members = sum(
                planned_members[c.code] for c in by_community.get(unit.pk, [])
            ) + rng.randint(8, 40)
            if members > 100:
                kind, suffix = OrgKind.COMMITTEE, "党委"
            elif members > 50:
                kind, suffix = OrgKind.GENERAL_BRANCH, "党总支"
            else:
                kind, suffix = OrgKind.BRANCH, "党支部"
            b.org(unit, kind, f"{unit.short_name}{suffix}", members)


def create_demo_accounts(password: str) -> list[tuple[str, str, str]]:
    """The demo accounts of DESIGN.md, all with `password`."""
    community = Unit.objects.get(code="150902001001")
    compound = Unit.objects.filter(parent=community).order_by("path").first()
    grid = Unit.objects.filter(parent=compound).order_by("path").first()
    building = Unit.objects.filter(parent=grid).order_by("path").first()
    found = {"grid_worker": grid, "member": compound, "resident": building}
    hashed = make_password(password)  # one hash for all: the same password anyway
    accounts = []
    for username, role, code, display in DEMO_ACCOUNTS:
        unit = Unit.objects.get(code=code) if code else found[username]
        user, _ = User.objects.update_or_create(
            username=username,
            defaults={
                "display_name": display,
                "password": hashed,
                "is_active": True,
                "failed_logins": 0,
                "locked_until": None,
                # the demo's password is chosen by whoever loads it: not forced to change
                "must_change_password": False,
                "password_changed_at": timezone.now(),
                "last_login": None,
                "date_joined": timezone.now(),
            },
        )
        Grant.objects.get_or_create(user=user, role=role, unit=unit)
        accounts.append((username, str(Role(role).label), unit.name))
    return accounts


def demo_authenticators() -> list[tuple[str, str]]:
    """A fresh TOTP authenticator for each demo account that needs one: the three
    administrators (at sign-in) and everyone who may reveal personal data (step-up).
    Returns (username, Base32 secret) to print."""
    from hongyan.core import factors
    from hongyan.core.roles import TRIAD, roles_for

    needs = TRIAD | roles_for("member.reveal")
    secrets = []
    for username, role, _code, _display in DEMO_ACCOUNTS:
        if role in needs:
            device = factors.totp_create_confirmed(User.objects.get(username=username))
            secrets.append((username, factors.totp_secret(device).replace(" ", "")))
    return secrets


def county_figures() -> list[str]:
    lines = []
    for county in Unit.objects.filter(kind=UnitKind.COUNTY).order_by("code"):
        cov = coverage_of(county)
        lines.append(
            f"{county.name}: {cov.with_own_branch} 个小区党支部，覆盖 {cov.rate:.1%} 的小区"
            f"（{cov.compounds} 个小区）"
        )
    return lines


def load_demo_city(*, password: str, seed: int = 1509, progress=print) -> dict:
    """Load or rebuild the demo city. Rebuilding replaces everything below the villages
    and communities and every party organisation, so production refuses it."""
    if settings.PRODUCTION:
        raise DomainError(
            "demo_in_production",
            "演示城市会替换社区以下的全部数据，生产模式下不能载入。"
            " / The demo city replaces everything below the communities: refused in production mode.",
        )
    progress("载入行政区划 / loading the divisions …")
    with transaction.atomic():
        load_divisions()
        clear_demo_city()
        build_demo_city(seed, progress)
        accounts = create_demo_accounts(password)
        link_demo_account(User.objects.get(username="member"))
        link_demo_needs(User.objects.get(username="resident"), seed)
        link_demo_care(User.objects.get(username="grid_worker"))
        link_demo_volunteers(User.objects.get(username="member"))
        authenticators = demo_authenticators()
        figures = county_figures()
        audit.record(
            "demo.load",
            actor_name="hongyan demo",
            detail={"seed": seed, "units": Unit.objects.count(), "figures": figures[:1]},
        )
    return {"accounts": accounts, "figures": figures, "totp": authenticators}
