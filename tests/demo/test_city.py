"""The demo city (乌兰察布市): the figures the issue promises, its accounts, and that
loading it again gives the same city.

Loading takes several seconds (tens on PostgreSQL), so the city is loaded twice, once
for the whole module, inside a transaction that is rolled back at the end. The tests
read it in that same transaction (no savepoint each: PostgreSQL would recheck the
million deferred foreign-key checks of the load at every test's end).
"""

import pytest
from django.db import transaction
from django.db.models import Count
from django.test import Client, override_settings

from hongyan.core.models import Grant, User
from hongyan.core.roles import Role
from hongyan.demo.city import load_demo_city
from hongyan.orgs.models import PATH_STEP, CadreAssignment, PartyOrganization, Unit, UnitKind
from hongyan.orgs.selectors import coverage_of

DEMO_PASSWORD = "Demo-Test-2026!"
SEED = 1509
DIVISION_COUNT = 1640
ACCOUNTS = [
    "city_admin",
    "jining_admin",
    "street_admin",
    "community_worker",
    "grid_worker",
    "fengzhen_admin",
    "member",
    "resident",
]


def snapshot() -> dict:
    return {
        "units_by_kind": dict(
            Unit.objects.values("kind").annotate(n=Count("pk")).values_list("kind", "n")
        ),
        "codes": list(Unit.objects.order_by("code").values_list("code", flat=True)),
        "paths": list(Unit.objects.order_by("path").values_list("path", "code")),
        "orgs": sorted(PartyOrganization.objects.values_list("unit__code", "kind", "name")),
        "covers": sorted(
            PartyOrganization.covers.through.objects.values_list(
                "partyorganization__name", "unit__code"
            )
        ),
        "cadres": sorted(CadreAssignment.objects.values_list("compound__code", "cadre_name")),
        "grants": sorted(
            Grant.objects.filter(user__username__in=ACCOUNTS).values_list(
                "user__username", "role", "unit__code"
            )
        ),
    }


def test_before_loading_there_is_no_demo_city(db):
    # (also the one test here that asks for the database: pytest-django sets up the
    # test database only when some test in the run does)
    assert Unit.objects.count() == DIVISION_COUNT
    assert not Unit.objects.filter(generated=True).exists()
    assert not User.objects.filter(username__in=ACCOUNTS).exists()


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """The city loaded twice with the same seed; yields the snapshots after each load."""
    with (
        django_db_blocker.unblock(),
        override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]),
        transaction.atomic(),
    ):
        first_summary = load_demo_city(password=DEMO_PASSWORD, seed=SEED, progress=lambda _: None)
        first = snapshot()
        second_summary = load_demo_city(password=DEMO_PASSWORD, seed=SEED, progress=lambda _: None)
        second = snapshot()
        yield {
            "first": first,
            "second": second,
            "summaries": (first_summary, second_summary),
        }
        transaction.set_rollback(True)


def test_jining_has_734_compound_branches_covering_95_percent(demo):
    jining = Unit.objects.get(code="150902")
    cov = coverage_of(jining)
    assert cov.with_own_branch == 734
    assert cov.rate >= 0.95
    assert cov.compounds >= 734


def test_every_county_has_compounds_and_a_plausible_rate(demo):
    counties = Unit.objects.filter(kind=UnitKind.COUNTY)
    assert counties.count() == 11
    total = 0
    for county in counties:
        cov = coverage_of(county)
        total += cov.compounds
        assert cov.compounds >= 20, county.name
        assert cov.with_own_branch > 0, county.name
        assert 0.6 <= cov.rate <= 1.0, (county.name, cov.rate)
        assert cov.uncovered < cov.compounds, county.name
    assert coverage_of(Unit.objects.get(code="1509")).compounds == total


def test_the_printed_figures_match_the_database(demo):
    figures = demo["summaries"][1]["figures"]
    assert len(figures) == 11
    jining = next(line for line in figures if line.startswith("集宁区"))
    assert "734" in jining


def test_loading_twice_gives_the_same_city(demo):
    first, second = demo["first"], demo["second"]
    for key in first:
        assert first[key] == second[key], key
    assert second == snapshot()  # and nothing moved since


def test_no_duplicates(demo):
    codes = demo["second"]["codes"]
    assert len(codes) == len(set(codes))
    assert Unit.objects.count() == len(codes)
    assert demo["second"]["units_by_kind"][UnitKind.COMPOUND] > 734
    # the official divisions are untouched by the generator
    assert Unit.objects.filter(generated=False).count() == DIVISION_COUNT
    names = Unit.objects.filter(kind=UnitKind.COMPOUND).values("parent", "name")
    per_community = names.annotate(n=Count("pk")).filter(n__gt=1)
    assert not per_community.exists(), "two compounds of one community share a name"


def test_generated_units_hang_below_the_divisions_with_codes_and_paths(demo):
    digits = {
        UnitKind.COMPOUND: 3,
        UnitKind.NATURAL_VILLAGE: 3,
        UnitKind.GRID: 2,
        UnitKind.BUILDING: 3,
    }
    parents = {
        UnitKind.COMPOUND: UnitKind.COMMUNITY,
        UnitKind.NATURAL_VILLAGE: UnitKind.VILLAGE,
        UnitKind.GRID: UnitKind.COMPOUND,
        UnitKind.BUILDING: UnitKind.GRID,
    }
    problems = []
    for unit in Unit.objects.filter(generated=True).select_related("parent").iterator(2000):
        parent = unit.parent
        if parent.kind != parents[unit.kind]:
            problems.append(f"{unit.code}: a {unit.kind} under a {parent.kind}")
        if not (
            unit.code.startswith(parent.code)
            and len(unit.code) == len(parent.code) + digits[unit.kind]
        ):
            problems.append(f"{unit.code}: code not under {parent.code}")
        if not (
            unit.path.startswith(parent.path) and len(unit.path) == len(parent.path) + PATH_STEP + 1
        ):
            problems.append(f"{unit.code}: path not under {parent.path}")
        if unit.depth != parent.depth + 1:
            problems.append(f"{unit.code}: depth")
    assert not problems, problems[:10]
    assert Unit.objects.filter(kind=UnitKind.GRID).exists()
    assert Unit.objects.filter(kind=UnitKind.BUILDING).exists()
    assert Unit.objects.filter(kind=UnitKind.NATURAL_VILLAGE).exists()


def grant_of(username):
    user = User.objects.get(username=username)
    grants = list(user.grants.select_related("unit"))
    assert len(grants) == 1, (username, grants)
    return grants[0]


def test_the_demo_accounts_of_the_design(demo):
    expected = {
        "city_admin": (Role.CITY_ADMIN, UnitKind.CITY),
        "jining_admin": (Role.DISTRICT_ADMIN, UnitKind.COUNTY),
        "street_admin": (Role.STREET_ADMIN, UnitKind.TOWNSHIP),
        "community_worker": (Role.COMMUNITY_WORKER, UnitKind.COMMUNITY),
        "grid_worker": (Role.GRID_WORKER, UnitKind.GRID),
        "fengzhen_admin": (Role.DISTRICT_ADMIN, UnitKind.COUNTY),
        "member": (Role.PARTY_MEMBER, None),
        "resident": (Role.RESIDENT, None),
    }
    grants = {name: grant_of(name) for name in ACCOUNTS}
    for name, (role, kind) in expected.items():
        assert grants[name].role == role, name
        if kind:
            assert grants[name].unit.kind == kind, name
    assert grants["city_admin"].unit.name == "乌兰察布市"
    assert grants["jining_admin"].unit.name == "集宁区"
    assert grants["fengzhen_admin"].unit.name == "丰镇市"
    # a street in 集宁区, a community in that street, a grid in that community
    street, community = grants["street_admin"].unit, grants["community_worker"].unit
    assert street.parent == grants["jining_admin"].unit
    assert community.parent == street
    assert grants["grid_worker"].unit.path.startswith(community.path)
    assert grants["member"].unit.path.startswith(community.path)
    assert grants["resident"].unit.path.startswith(community.path)


def token(username):
    response = Client().post(
        "/api/v1/auth/token",
        {"username": username, "password": DEMO_PASSWORD},
        content_type="application/json",
    )
    assert response.status_code == 200, (username, response.content)
    return Client(headers={"Authorization": f"Bearer {response.json()['token']}"})


@pytest.mark.parametrize("username", ACCOUNTS)
def test_every_demo_account_gets_a_token(demo, username):
    me = token(username).get("/api/v1/me").json()
    assert me["username"] == username
    assert me["display_name"]


def test_the_district_admin_sees_the_figure_and_the_outsider_does_not(demo):
    jining = token("jining_admin").get("/api/v1/units/150902/coverage")
    assert jining.status_code == 200
    assert jining.json()["with_own_branch"] == 734
    assert token("fengzhen_admin").get("/api/v1/units/150902/coverage").status_code == 404
    assert token("community_worker").get("/api/v1/units/150902/coverage").status_code == 404


def test_production_refuses_to_load_the_demo_over_real_data(db, tree):
    from hongyan.core.errors import DomainError

    before = Unit.objects.count(), PartyOrganization.objects.count()
    with override_settings(PRODUCTION=True), pytest.raises(DomainError) as refused:
        load_demo_city(password=DEMO_PASSWORD, seed=1509, progress=lambda _m: None)
    assert refused.value.code == "demo_in_production"
    assert (Unit.objects.count(), PartyOrganization.objects.count()) == before
