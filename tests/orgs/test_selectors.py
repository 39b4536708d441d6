"""Coverage of compounds by party organisations, and the per-compound plans."""

from dataclasses import dataclass

import pytest

from hongyan.core.roles import Role
from hongyan.orgs import selectors, services
from hongyan.orgs.models import CadreAssignment, OrgKind, Unit, UnitKind
from hongyan.orgs.rules import Advice

from ..helpers import add_full_members

COMMUNITY = "150902001004"  # 怀远北路社区, in street A


@dataclass
class Compounds:
    community: Unit
    own: Unit
    own_and_grid: Unit
    grid: Unit
    grid_and_cadre: Unit
    cadre: Unit
    none: Unit


def add_compound(actor, parent, name, full_members=None):
    unit = services.unit_create_child(actor=actor, parent=parent, kind=UnitKind.COMPOUND, name=name)
    if full_members is not None:
        add_full_members(actor, unit, full_members)
    return unit


def own_branch(actor, compound, kind=OrgKind.BRANCH):
    return services.party_org_create(
        actor=actor, unit=compound, kind=kind, name=f"{compound.name}党支部", members_count=5
    )


def grid_branch(actor, community, covers, name="第一网格党支部"):
    return services.party_org_create(
        actor=actor, unit=community, kind=OrgKind.GRID_BRANCH, name=name, covers=covers
    )


def assign_cadre(actor, compound, name="张三"):
    return services.cadre_assign(actor=actor, compound=compound, cadre_name=name)


@pytest.fixture
def compounds(alice) -> Compounds:
    """One compound in each situation, in a community of alice's."""
    community = Unit.objects.get(code=COMMUNITY)
    c = Compounds(
        community=community,
        own=add_compound(alice, community, "甲小区", full_members=5),
        own_and_grid=add_compound(alice, community, "乙小区", full_members=3),
        grid=add_compound(alice, community, "丙小区", full_members=2),
        grid_and_cadre=add_compound(alice, community, "丁小区", full_members=1),
        cadre=add_compound(alice, community, "戊小区", full_members=0),
        none=add_compound(alice, community, "己小区", full_members=4),
    )
    own_branch(alice, c.own)
    own_branch(alice, c.own_and_grid)
    grid_branch(alice, community, [c.own_and_grid, c.grid, c.grid_and_cadre])
    assign_cadre(alice, c.grid_and_cadre)
    assign_cadre(alice, c.cadre)
    # grids and buildings below a compound are not compounds
    grid = services.unit_create_child(actor=alice, parent=c.own, kind=UnitKind.GRID, name="一网格")
    services.unit_create_child(actor=alice, parent=grid, kind=UnitKind.BUILDING, name="1号楼")
    return c


def test_each_compound_counts_once_in_the_first_bucket_that_applies(compounds):
    cov = selectors.coverage_of(compounds.community)
    assert cov.compounds == 6
    assert cov.with_own_branch == 2  # own, and own+grid (counted as own only)
    assert cov.with_grid_branch == 2  # grid, and grid+cadre (counted as grid only)
    assert cov.with_cadre_only == 1
    assert cov.uncovered == 1
    assert (
        cov.with_own_branch + cov.with_grid_branch + cov.with_cadre_only + cov.uncovered
        == cov.compounds
    )
    assert cov.covered == 4
    assert cov.rate == pytest.approx(4 / 6, abs=1e-4)


def test_as_dict_has_the_promised_keys(compounds):
    data = selectors.coverage_of(compounds.community).as_dict()
    assert set(data) == {
        "compounds",
        "with_own_branch",
        "with_grid_branch",
        "with_cadre_only",
        "uncovered",
        "rate",
    }


def test_a_general_branch_or_committee_on_a_compound_is_its_own(alice, compounds):
    own_branch(alice, compounds.none, kind=OrgKind.GENERAL_BRANCH)
    assert selectors.coverage_of(compounds.none).with_own_branch == 1


def test_a_joint_branch_covers_like_a_grid_branch(alice, compounds):
    services.party_org_create(
        actor=alice,
        unit=compounds.community,
        kind=OrgKind.JOINT_BRANCH,
        name="联合党支部",
        covers=[compounds.none],
    )
    cov = selectors.coverage_of(compounds.community)
    assert (cov.with_grid_branch, cov.uncovered) == (3, 0)


def test_zero_compounds_give_rate_zero(db):
    empty = Unit.objects.get(code="150902001005")  # 外运社区: nothing added
    cov = selectors.coverage_of(empty)
    assert (cov.compounds, cov.covered, cov.rate) == (0, 0, 0.0)


def test_coverage_of_a_compound_is_that_compound_alone(compounds):
    cov = selectors.coverage_of(compounds.grid)
    assert (cov.compounds, cov.with_grid_branch) == (1, 1)


def _sum(coverages):
    coverages = list(coverages)
    fields = ("compounds", "with_own_branch", "with_grid_branch", "with_cadre_only", "uncovered")
    return {f: sum(getattr(c, f) for c in coverages) for f in fields}


def test_coverage_by_child_adds_up_to_the_parent(alice, charlie, compounds, tree):
    other = Unit.objects.get(code="150902001006")
    add_compound(alice, other, "庚小区")
    own_branch(alice, add_compound(alice, other, "辛小区"))
    for unit in (tree.street_a, tree.district, Unit.objects.get(code="1509")):
        children = selectors.coverage_by_child(unit)
        assert [c.pk for c, _ in children] == list(
            Unit.objects.filter(parent=unit).values_list("pk", flat=True)
        )
        parent = selectors.coverage_of(unit).as_dict()
        parent.pop("rate")
        assert _sum(cov for _, cov in children) == parent, unit.code
    by_code = {c.code: cov for c, cov in selectors.coverage_by_child(tree.street_a)}
    assert by_code[COMMUNITY].compounds == 6
    assert by_code["150902001006"].compounds == 2
    assert by_code["150902001012"].compounds == 0  # a child with no compounds is listed as 0


def test_coverage_counts_match_a_count_by_hand(compounds, tree):
    """The street's figure recomputed from the rows, without the selector's SQL."""
    street_compounds = [
        u
        for u in Unit.objects.filter(kind=UnitKind.COMPOUND)
        if u.path.startswith(tree.street_a.path)
    ]
    own = grid = cadre = 0
    for c in street_compounds:
        if c.party_orgs.filter(
            kind__in=[OrgKind.BRANCH, OrgKind.GENERAL_BRANCH, OrgKind.COMMITTEE]
        ).exists():
            own += 1
        elif c.shared_branches.exists():
            grid += 1
        elif CadreAssignment.objects.filter(compound=c).exists():
            cadre += 1
    cov = selectors.coverage_of(tree.street_a)
    assert (cov.compounds, cov.with_own_branch, cov.with_grid_branch, cov.with_cadre_only) == (
        len(street_compounds),
        own,
        grid,
        cadre,
    )


def test_coverage_of_is_one_query(compounds, django_assert_num_queries):
    with django_assert_num_queries(1):
        selectors.coverage_of(compounds.community)


def test_coverage_by_child_does_not_grow_with_the_children(
    alice, compounds, tree, django_assert_max_num_queries
):
    with django_assert_max_num_queries(2):
        selectors.coverage_by_child(tree.street_a)
    for code in ("150902001006", "150902001007", "150902001008"):
        own_branch(alice, add_compound(alice, Unit.objects.get(code=code), "新小区"))
    with django_assert_max_num_queries(2):
        selectors.coverage_by_child(tree.street_a)


def test_compound_plans_compare_the_advice_with_what_is_in_place(compounds):
    plans = {p.compound.code: p for p in selectors.compound_plans(compounds.community)}
    assert len(plans) == 6
    expect = {
        compounds.own.code: ("own_branch", Advice.OWN_BRANCH, True),
        compounds.own_and_grid.code: ("own_branch", Advice.OWN_BRANCH, True),
        compounds.grid.code: ("grid_branch", Advice.GRID_BRANCH, True),
        compounds.grid_and_cadre.code: ("grid_branch", Advice.GRID_BRANCH, True),
        compounds.cadre.code: ("cadre_only", Advice.CADRE, True),
        # 4 members living there and nothing in place: should have its own branch
        compounds.none.code: ("uncovered", Advice.OWN_BRANCH, False),
    }
    got = {code: (p.status, p.advice.advice, p.matches) for code, p in plans.items()}
    assert got == expect
    mismatched = selectors.compound_plans(compounds.community, only_mismatched=True)
    assert [p.compound.code for p in mismatched] == [compounds.none.code]


def test_a_compound_with_too_few_members_in_its_own_branch_is_flagged(alice, compounds):
    # 2 members but an own branch: the rules ask for a grid branch instead
    own_branch(alice, compounds.grid)
    plan = next(
        p for p in selectors.compound_plans(compounds.community) if p.compound == compounds.grid
    )
    assert (plan.status, plan.advice.advice, plan.matches) == (
        "own_branch",
        Advice.GRID_BRANCH,
        False,
    )


def test_compound_plans_is_one_query(compounds, django_assert_num_queries):
    with django_assert_num_queries(1):
        plans = selectors.compound_plans(compounds.community)
        [p.compound.parent.name for p in plans]


def test_party_org_counts_cover_the_subtree(alice, compounds, tree):
    counts = selectors.party_org_counts(tree.street_a)
    # fixture branches on compound_a and compound_a2, plus those made above
    assert counts[OrgKind.BRANCH] == 4
    assert counts[OrgKind.GRID_BRANCH] == 1
    assert selectors.party_org_counts(tree.street_b) == {OrgKind.BRANCH: 1}


def test_unit_search_by_name_or_code_within_scope(alice, bob, tree):
    found = {u.code for u in selectors.unit_search(alice, "御景华府")}
    assert found == {tree.compound_a.code, tree.grid_a.code}  # the compound and its grid
    assert {u.code for u in selectors.unit_search(alice, "龙湾")} == set()  # street B
    by_code = {u.code for u in selectors.unit_search(alice, "150902001001")}
    assert tree.compound_a.code in by_code and tree.community_a.code in by_code
    assert all(c.startswith("150902001001") or "150902001001" in c for c in by_code)
    assert {u.code for u in selectors.unit_search(bob, "体育")} == set()  # not bob's community
    assert list(selectors.unit_search(alice, "   ")) == []


def test_breadcrumbs_run_from_the_city_and_mark_what_the_user_may_open(bob, tree):
    crumbs = selectors.unit_breadcrumbs(bob, tree.building_a)
    assert [u.code for u, _ in crumbs] == [
        "1509",
        "150902",
        "150902001",
        "150902001001",
        tree.compound_a.code,
        tree.grid_a.code,
        tree.building_a.code,
    ]
    assert [may for _, may in crumbs] == [False, False, False, True, True, True, True]


def test_unit_roots_are_one_per_outermost_grant(make_user, tree):
    user = make_user(Role.STREET_ADMIN, tree.street_a)
    from hongyan.core.models import Grant

    Grant.objects.create(user=user, role=Role.COMMUNITY_WORKER, unit=tree.community_a)
    Grant.objects.create(user=user, role=Role.COMMUNITY_WORKER, unit=tree.community_b)
    assert {u.code for u in selectors.unit_roots(user)} == {
        tree.street_a.code,
        tree.community_b.code,
    }


def test_a_resident_learns_the_branch_serving_their_home(make_user, alice, tree, compounds):
    resident = make_user(Role.RESIDENT, tree.building_a)
    assert selectors.orgs_serving_home(resident, tree.compound_a) == [tree.org_a]
    # a grid (joint) branch attached to the community serves the compounds it covers
    neighbour = make_user(Role.RESIDENT, compounds.grid)
    served = selectors.orgs_serving_home(neighbour, compounds.grid)
    assert [o.kind for o in served] == [OrgKind.GRID_BRANCH]
    # both: the compound's own branch and the grid branch covering it, each once
    both = make_user(Role.RESIDENT, compounds.own_and_grid)
    assert {o.kind for o in selectors.orgs_serving_home(both, compounds.own_and_grid)} == {
        OrgKind.BRANCH,
        OrgKind.GRID_BRANCH,
    }


def test_the_serving_branch_is_only_for_ones_own_home(make_user, charlie, tree):
    resident = make_user(Role.RESIDENT, tree.building_a)
    assert selectors.orgs_serving_home(resident, tree.compound_b) == []
    assert selectors.orgs_serving_home(charlie, tree.compound_a) == []
    assert selectors.orgs_serving_home(resident, None) == []
