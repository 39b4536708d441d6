"""The HTML pages of the tree: browse, search, the unit page and its three small forms."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from hongyan.core.models import AuditEntry
from hongyan.core.roles import Role
from hongyan.orgs import services
from hongyan.orgs.models import CadreAssignment, OrgKind, PartyOrganization, Unit, UnitKind


def text(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def test_the_tree_starts_at_each_users_roots(alice, bob, login, tree):
    page = text(login(alice).get("/units/"))
    assert "新体路街道" in page
    assert "桥东街道" not in page
    assert "恩和路社区" in text(login(bob).get("/units/"))


def test_tree_search_by_name_and_code_stays_in_scope(alice, login, tree):
    client = login(alice)
    assert "御景华府" in text(client.get("/units/", {"q": "御景"}))
    assert "龙湾新城" not in text(client.get("/units/", {"q": "龙湾"}))
    assert "恩和路社区" in text(client.get("/units/", {"q": tree.community_a.code}))
    # htmx asks for the rows only
    rows = client.get("/units/", {"q": "御景"}, headers={"HX-Request": "true"})
    assert "御景华府" in text(rows)
    assert "<html" not in rows.content.decode().lower()


def test_nul_in_a_search_or_a_code_is_refused(alice, login, tree):
    client = login(alice)
    assert client.get("/units/", {"q": "\x00"}).status_code == 400
    assert client.get("/units/%00/").status_code == 400


def test_the_unit_page_shows_the_unit_its_children_and_coverage(alice, login, tree):
    page = text(login(alice).get(f"/units/{tree.community_a.code}/"))
    assert "恩和路社区" in page
    assert "御景华府" in page  # a child
    assert "新体路街道" in page  # a breadcrumb


def test_unit_page_of_another_street_is_404(charlie, login, tree):
    assert login(charlie).get(f"/units/{tree.community_a.code}/").status_code == 404
    assert login(charlie).get("/units/150902001999/").status_code == 404


@pytest.mark.parametrize("level", ["street_a", "community_a", "compound_a", "grid_a", "building_a"])
def test_every_level_has_a_page(alice, login, tree, level):
    unit = getattr(tree, level)
    assert unit.name in text(login(alice).get(f"/units/{unit.code}/"))


def _count_queries(client, url, django_assert_max_num_queries, bound):
    with django_assert_max_num_queries(bound):
        response = client.get(url)
    assert response.status_code == 200


def _queries_of(client, url) -> int:
    with CaptureQueriesContext(connection) as context:
        response = client.get(url)
    assert response.status_code == 200
    return len(context.captured_queries)


@pytest.mark.parametrize("level", ["community_a", "street_a"])
def test_unit_page_queries_do_not_grow_with_the_rows(alice, login, tree, level):
    """The page's panels (coverage, organisations, needs, volunteers, care …) each cost a
    fixed number of queries: once there are some compounds, branches and cadres (a
    prefetch runs only for a non-empty list), 15 more add none."""
    client = login(alice)
    unit = getattr(tree, level)

    def add_rows(first, count):
        for n in range(first, first + count):
            compound = services.unit_create_child(
                actor=alice, parent=tree.community_a, kind=UnitKind.COMPOUND, name=f"{n}号院"
            )
            services.party_org_create(
                actor=alice, unit=compound, kind=OrgKind.BRANCH, name=f"{n}号院党支部"
            )
            services.party_org_create(
                actor=alice, unit=unit, kind=OrgKind.GRID_BRANCH, name=f"网格{n}", covers=[compound]
            )
            services.cadre_assign(actor=alice, compound=compound, cadre_name=f"干部{n}")

    add_rows(0, 2)
    before = _queries_of(client, f"/units/{unit.code}/")
    assert before <= 40  # a ceiling against a panel gone wild, not a target
    add_rows(2, 15)
    assert _queries_of(client, f"/units/{unit.code}/") == before


def test_tree_and_home_queries_are_bounded(alice, login, tree, django_assert_max_num_queries):
    client = login(alice)
    _count_queries(client, "/units/", django_assert_max_num_queries, 12)
    _count_queries(client, "/units/?q=社区", django_assert_max_num_queries, 12)  # 8 rows
    _count_queries(client, "/", django_assert_max_num_queries, 20)


def test_home_shows_the_users_unit(alice, bob, login, tree):
    assert "新体路街道" in text(login(alice).get("/"))
    assert "恩和路社区" in text(login(bob).get("/"))


# --- add a child --------------------------------------------------------------------------


def test_alice_adds_a_compound_through_the_form(alice, login, tree):
    client = login(alice)
    assert client.get(f"/units/{tree.community_a.code}/add-child/").status_code == 200
    response = client.post(
        f"/units/{tree.community_a.code}/add-child/", {"kind": "compound", "name": "阳光小区"}
    )
    assert response.status_code == 302
    unit = Unit.objects.get(name="阳光小区")
    assert response["Location"] == f"/units/{tree.community_a.code}/"
    assert unit.parent == tree.community_a
    assert AuditEntry.objects.filter(action="unit.create", object_id=str(unit.pk)).exists()


def test_the_child_form_offers_only_the_kinds_that_fit(alice, login, tree):
    client = login(alice)
    response = client.post(
        f"/units/{tree.community_a.code}/add-child/", {"kind": "grid", "name": "网格"}
    )
    assert response.status_code == 200
    assert not Unit.objects.filter(name="网格").exists()


def test_the_child_form_explains_a_bad_code(alice, login, tree):
    client = login(alice)
    response = client.post(
        f"/units/{tree.community_a.code}/add-child/",
        {"kind": "compound", "name": "x", "code": "123"},
    )
    assert "代码应为上级代码" in text(response)
    assert not Unit.objects.filter(name="x").exists()


def test_a_grid_worker_may_not_open_the_child_form(make_user, login, tree):
    worker = make_user(Role.GRID_WORKER, tree.grid_a)
    client = login(worker)
    assert client.get(f"/units/{tree.grid_a.code}/").status_code == 200
    assert client.get(f"/units/{tree.grid_a.code}/add-child/").status_code == 403
    response = client.post(
        f"/units/{tree.grid_a.code}/add-child/", {"kind": "building", "name": "9号楼"}
    )
    assert response.status_code == 403
    assert not Unit.objects.filter(name="9号楼").exists()


def test_charlie_may_not_add_under_alice(charlie, login, tree):
    response = login(charlie).post(
        f"/units/{tree.community_a.code}/add-child/", {"kind": "compound", "name": "x"}
    )
    assert response.status_code == 404
    assert not Unit.objects.filter(name="x").exists()


# --- party organisations and cadres ----------------------------------------------------------


def test_bob_sets_up_a_grid_branch_through_the_form(bob, login, tree):
    second = services.unit_create_child(
        actor=bob, parent=tree.community_a, kind=UnitKind.COMPOUND, name="小院"
    )
    client = login(bob)
    assert client.get(f"/units/{tree.community_a.code}/add-org/").status_code == 200
    response = client.post(
        f"/units/{tree.community_a.code}/add-org/",
        {
            "kind": "grid_branch",
            "name": "第一网格党支部",
            "members_count": 4,
            "covers": [second.code],
        },
    )
    assert response.status_code == 302
    org = PartyOrganization.objects.get(name="第一网格党支部")
    assert list(org.covers.all()) == [second]


def test_the_org_form_cannot_cover_a_compound_of_another_street(alice, login, tree):
    response = login(alice).post(
        f"/units/{tree.street_a.code}/add-org/",
        {"kind": "joint_branch", "name": "x", "members_count": 1, "covers": [tree.compound_b.code]},
    )
    assert response.status_code == 200
    assert not PartyOrganization.objects.filter(name="x").exists()


def test_a_resident_may_not_set_up_a_party_org(make_user, login, tree):
    resident = make_user(Role.RESIDENT, tree.compound_a)
    assert login(resident).get(f"/units/{tree.compound_a.code}/add-org/").status_code == 403


def test_alice_assigns_a_cadre_through_the_form(alice, login, tree):
    client = login(alice)
    response = client.post(
        f"/units/{tree.compound_a.code}/assign-cadre/", {"cadre_name": "李四", "cadre_post": "委员"}
    )
    assert response.status_code == 302
    assert CadreAssignment.objects.get().cadre_name == "李四"
    again = client.post(f"/units/{tree.compound_a.code}/assign-cadre/", {"cadre_name": "李四"})
    assert "已在联系包保" in text(again)
    assert CadreAssignment.objects.count() == 1


def test_bob_may_not_assign_a_cadre(bob, login, tree):
    client = login(bob)
    assert client.get(f"/units/{tree.compound_a.code}/assign-cadre/").status_code == 403
    assert (
        client.post(
            f"/units/{tree.compound_a.code}/assign-cadre/", {"cadre_name": "李四"}
        ).status_code
        == 403
    )
    assert not CadreAssignment.objects.exists()


def test_a_cadre_form_exists_only_for_compounds(alice, login, tree):
    response = login(alice).post(
        f"/units/{tree.community_a.code}/assign-cadre/", {"cadre_name": "李四"}
    )
    assert response.status_code == 404
    assert not tree.community_a.cadres.exists()
