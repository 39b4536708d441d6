"""Writes on the unit tree and its party organisations: rules, codes, paths, audit."""

import pytest

from hongyan.core.errors import DomainError
from hongyan.core.models import AuditEntry
from hongyan.orgs import services
from hongyan.orgs.models import OrgKind, PartyOrganization, Unit, UnitKind


def last_audit(action):
    return AuditEntry.objects.filter(action=action).order_by("-seq").first()


def test_a_compound_gets_the_next_code_and_path_under_its_community(alice, tree):
    first = tree.compound_a  # made by the fixture
    assert first.code == tree.community_a.code + "001"
    second = services.unit_create_child(
        actor=alice, parent=tree.community_a, kind=UnitKind.COMPOUND, name="阳光小区"
    )
    assert second.code == tree.community_a.code + "002"
    assert second.parent == tree.community_a
    assert second.depth == tree.community_a.depth + 1
    assert second.path.startswith(tree.community_a.path)
    assert second.path > first.path
    assert len(second.path) == len(tree.community_a.path) + len("0001.")


def test_codes_below_a_compound_follow_the_digits_of_each_level(tree):
    # grids add 2 digits to the compound's code, buildings 3 to the grid's
    assert tree.grid_a.code == tree.compound_a.code + "01"
    assert tree.building_a.code == tree.grid_a.code + "001"


def test_a_free_code_is_reused_and_an_explicit_code_is_kept(alice, tree):
    explicit = services.unit_create_child(
        actor=alice,
        parent=tree.community_a,
        kind=UnitKind.COMPOUND,
        name="甲",
        code=tree.community_a.code + "005",
    )
    assert explicit.code == tree.community_a.code + "005"
    nxt = services.unit_create_child(
        actor=alice, parent=tree.community_a, kind=UnitKind.COMPOUND, name="乙"
    )
    assert nxt.code == tree.community_a.code + "002"
    # paths never collide, whatever the codes
    assert len({u.path for u in Unit.objects.filter(parent=tree.community_a)}) == 3


def test_creating_a_unit_is_audited(alice, tree):
    unit = services.unit_create_child(
        actor=alice, parent=tree.compound_a, kind=UnitKind.GRID, name="第二网格"
    )
    row = last_audit("unit.create")
    assert (row.actor, row.unit_code, row.object_id) == (alice, unit.code, str(unit.pk))
    assert row.detail == {"name": "第二网格", "kind": "grid"}


@pytest.mark.parametrize(
    ("parent", "kind", "code"),
    [
        ("community_a", UnitKind.GRID, "bad_kind"),  # a grid belongs under a compound
        ("community_a", UnitKind.BUILDING, "bad_kind"),
        ("building_a", UnitKind.BUILDING, "bad_kind"),  # nothing below a building
        ("street_a", UnitKind.COMMUNITY, "official_division"),  # divisions come from the CSV
        ("community_a", "castle", "bad_kind"),
    ],
)
def test_the_tree_keeps_its_shape(alice, tree, parent, kind, code):
    with pytest.raises(DomainError) as exc:
        services.unit_create_child(actor=alice, parent=getattr(tree, parent), kind=kind, name="x")
    assert exc.value.code == code
    assert exc.value.field == "kind"
    assert exc.value.status == 400


@pytest.mark.parametrize(
    ("name", "code"),
    [("", "required"), ("   ", "required"), (None, "required"), ("名" * 101, "too_long")],
)
def test_names_are_required_and_bounded(alice, tree, name, code):
    with pytest.raises(DomainError) as exc:
        services.unit_create_child(
            actor=alice, parent=tree.community_a, kind=UnitKind.COMPOUND, name=name
        )
    assert (exc.value.code, exc.value.field) == (code, "name")
    assert exc.value.message  # a Chinese sentence for the form


def test_a_name_of_exactly_100_characters_is_fine(alice, tree):
    unit = services.unit_create_child(
        actor=alice, parent=tree.community_a, kind=UnitKind.COMPOUND, name="名" * 100
    )
    assert len(Unit.objects.get(pk=unit.pk).name) == 100


@pytest.mark.parametrize(
    "suffix",
    ["01", "0001", "0a1", "-01"],
)
def test_an_explicit_code_must_extend_the_parent_code_by_the_right_digits(alice, tree, suffix):
    with pytest.raises(DomainError) as exc:
        services.unit_create_child(
            actor=alice,
            parent=tree.community_a,
            kind=UnitKind.COMPOUND,
            name="x",
            code=tree.community_a.code + suffix,
        )
    assert (exc.value.code, exc.value.field) == ("bad_code", "code")


def test_an_explicit_code_under_another_parent_is_refused(alice, tree):
    with pytest.raises(DomainError) as exc:
        services.unit_create_child(
            actor=alice,
            parent=tree.community_a,
            kind=UnitKind.COMPOUND,
            name="x",
            code=tree.community_a2.code + "009",
        )
    assert exc.value.code == "bad_code"


def test_a_taken_code_is_a_409(alice, tree):
    with pytest.raises(DomainError) as exc:
        services.unit_create_child(
            actor=alice,
            parent=tree.community_a,
            kind=UnitKind.COMPOUND,
            name="x",
            code=tree.compound_a.code,
        )
    assert (exc.value.code, exc.value.status, exc.value.field) == ("duplicate_code", 409, "code")
    assert Unit.objects.filter(code=tree.compound_a.code).count() == 1


def test_unit_rename_is_audited(alice, tree):
    services.unit_rename(actor=alice, unit=tree.compound_a, name="  御景华府二期 ")
    assert Unit.objects.get(pk=tree.compound_a.pk).name == "御景华府二期"
    row = last_audit("unit.rename")
    assert row.detail == {"from": "御景华府", "to": "御景华府二期"}


def test_party_org_terms_default_by_level(alice, tree):
    on_community = services.party_org_create(
        actor=alice, unit=tree.community_a, kind=OrgKind.BRANCH, name="恩和路社区党支部"
    )
    on_compound = tree.org_a
    assert on_community.term_years == 5  # village/community branches: 5 years
    assert on_compound.term_years == 3  # other branches: generally 3
    explicit = services.party_org_create(
        actor=alice, unit=tree.community_a, kind=OrgKind.BRANCH, name="另一个", term_years=4
    )
    assert explicit.term_years == 4


def test_party_org_create_is_audited_with_what_it_covers(alice, tree):
    org = services.party_org_create(
        actor=alice,
        unit=tree.community_a,
        kind=OrgKind.GRID_BRANCH,
        name="第一网格党支部",
        covers=[tree.compound_a],
    )
    assert list(org.covers.all()) == [tree.compound_a]
    row = last_audit("org.create")
    assert (row.actor, row.unit_code, row.object_id) == (alice, tree.community_a.code, str(org.pk))
    assert row.detail["covers"] == [tree.compound_a.code]


def test_only_shared_branches_cover_compounds(alice, tree):
    with pytest.raises(DomainError) as exc:
        services.party_org_create(
            actor=alice,
            unit=tree.community_a,
            kind=OrgKind.BRANCH,
            name="x",
            covers=[tree.compound_a],
        )
    assert (exc.value.code, exc.value.field) == ("covers_not_shared", "covers")


def test_a_shared_branch_covers_only_compounds_below_its_unit(alice, tree):
    for covers in ([tree.compound_a2], [tree.grid_a]):  # another community; not a compound
        with pytest.raises(DomainError) as exc:
            services.party_org_create(
                actor=alice,
                unit=tree.community_a,
                kind=OrgKind.GRID_BRANCH,
                name="x",
                covers=covers,
            )
        assert exc.value.code == "covers_outside"
    assert not PartyOrganization.objects.filter(name="x").exists()


def test_bob_cannot_cover_a_compound_outside_his_grants(bob, alice, tree):
    # bob manages orgs in his community, but the street's joint branch is not his to make
    with pytest.raises(DomainError) as exc:
        services.party_org_create(
            actor=bob,
            unit=tree.street_a,
            kind=OrgKind.JOINT_BRANCH,
            name="x",
            covers=[tree.compound_a2],
        )
    assert exc.value.code == "covers_outside"


@pytest.mark.parametrize(
    ("kind", "members", "code"),
    [("club", 3, "bad_kind"), ("branch", -1, "bad_count"), ("branch", 100001, "bad_count")],
)
def test_party_org_input_is_checked(alice, tree, kind, members, code):
    with pytest.raises(DomainError) as exc:
        services.party_org_create(
            actor=alice, unit=tree.compound_a, kind=kind, name="x", members_count=members
        )
    assert exc.value.code == code


def test_cadre_assign_is_audited_and_only_once_per_person(alice, tree):
    assignment = services.cadre_assign(
        actor=alice, compound=tree.compound_a, cadre_name=" 李四 ", cadre_post="街道党工委委员"
    )
    assert assignment.cadre_name == "李四"
    row = last_audit("cadre.assign")
    assert (row.actor, row.unit_code) == (alice, tree.compound_a.code)
    assert row.detail == {"cadre": "李四", "post": "街道党工委委员"}
    with pytest.raises(DomainError) as exc:
        services.cadre_assign(actor=alice, compound=tree.compound_a, cadre_name="李四")
    assert (exc.value.code, exc.value.status) == ("duplicate", 409)


def test_cadres_are_for_compounds_only(alice, tree):
    with pytest.raises(DomainError) as exc:
        services.cadre_assign(actor=alice, compound=tree.grid_a, cadre_name="李四")
    assert exc.value.code == "not_compound"


def test_a_failed_write_leaves_no_audit_row(alice, tree):
    before = AuditEntry.objects.count()
    with pytest.raises(DomainError):
        services.unit_create_child(
            actor=alice, parent=tree.community_a, kind=UnitKind.GRID, name="x"
        )
    with pytest.raises(DomainError):
        services.party_org_create(
            actor=alice,
            unit=tree.community_a,
            kind=OrgKind.BRANCH,
            name="x",
            covers=[tree.compound_a],
        )
    assert AuditEntry.objects.count() == before
