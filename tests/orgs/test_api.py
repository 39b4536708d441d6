"""/api/v1/units…: the unit tree, coverage, party organisations and cadres over JSON."""

import json

import pytest

from hongyan.core.models import AuditEntry
from hongyan.core.roles import Role
from hongyan.orgs import services
from hongyan.orgs.models import CadreAssignment, OrgKind, PartyOrganization, Unit, UnitKind

from ..helpers import add_full_members

UNIT_KEYS = {"code", "name", "kind", "parent_code"}
COVERAGE_KEYS = {
    "compounds",
    "with_own_branch",
    "with_grid_branch",
    "with_cadre_only",
    "uncovered",
    "rate",
}


def assert_error(response, status, code=None):
    assert response.status_code == status, response.content
    body = response.json()
    assert {"code", "message"} <= set(body), body
    assert body["message"]
    if code:
        assert body["code"] == code, body
    return body


# --- reading ---------------------------------------------------------------------------


def test_unit_list_shows_each_users_roots_in_the_list_envelope(api, alice, bob, charlie, tree):
    for user, root in ((alice, tree.street_a), (bob, tree.community_a), (charlie, tree.street_b)):
        body = api(user).get("/api/v1/units").json()
        assert set(body) == {"items", "count"}
        assert body["count"] == 1
        assert [u["code"] for u in body["items"]] == [root.code]


def test_unit_list_searches_by_name_and_code_within_scope(api, alice, tree):
    client = api(alice)
    codes = {u["code"] for u in client.get("/api/v1/units", {"q": "御景华府"}).json()["items"]}
    assert tree.compound_a.code in codes
    assert client.get("/api/v1/units", {"q": "龙湾"}).json() == {"items": [], "count": 0}
    by_code = client.get("/api/v1/units", {"q": tree.community_a.code}).json()
    assert {u["code"] for u in by_code["items"]} >= {tree.community_a.code, tree.compound_a.code}


def test_unit_detail(api, alice, tree):
    body = api(alice).get(f"/api/v1/units/{tree.compound_a.code}").json()
    assert set(body) >= UNIT_KEYS
    assert body["code"] == tree.compound_a.code
    assert body["name"] == "御景华府"
    assert body["kind"] == "compound"
    assert body["parent_code"] == tree.community_a.code
    assert body["depth"] == tree.community_a.depth + 1


def test_short_names_drop_the_committee_suffix(api, alice, tree):
    body = api(alice).get(f"/api/v1/units/{tree.community_a.code}").json()
    assert body["name"] == "恩和路社区居民委员会"
    assert body["short_name"] == "恩和路社区"


def test_unknown_unit_is_404_with_a_message(api, alice, tree):
    body = assert_error(api(alice).get("/api/v1/units/150902001999"), 404, "not_found")
    assert "没有找到" in body["message"]


def test_children_are_paginated_in_the_list_envelope(api, alice, tree):
    for n in range(2, 6):
        services.unit_create_child(
            actor=alice, parent=tree.community_a, kind=UnitKind.COMPOUND, name=f"{n}号院"
        )
    client = api(alice)
    body = client.get(f"/api/v1/units/{tree.community_a.code}/children").json()
    assert body["count"] == 5
    assert [u["code"] for u in body["items"]] == [
        tree.community_a.code + f"{n:03d}" for n in range(1, 6)
    ]
    page = client.get(
        f"/api/v1/units/{tree.community_a.code}/children", {"limit": 2, "offset": 2}
    ).json()
    assert page["count"] == 5
    assert [u["code"] for u in page["items"]] == [
        tree.community_a.code + f"{n:03d}" for n in (3, 4)
    ]


def test_children_of_the_street_are_its_communities(api, alice, tree):
    body = api(alice).get(f"/api/v1/units/{tree.street_a.code}/children", {"limit": 100}).json()
    expected = set(Unit.objects.filter(parent=tree.street_a).values_list("code", flat=True))
    assert {u["code"] for u in body["items"]} == expected
    assert all(
        u["kind"] == "community" and u["parent_code"] == tree.street_a.code for u in body["items"]
    )


def test_coverage_endpoint(api, alice, tree):
    services.cadre_assign(actor=alice, compound=tree.compound_a2, cadre_name="李四")
    services.unit_create_child(
        actor=alice, parent=tree.community_a2, kind=UnitKind.COMPOUND, name="空小区"
    )
    body = api(alice).get(f"/api/v1/units/{tree.street_a.code}/coverage").json()
    assert set(body) == COVERAGE_KEYS
    # compound_a and compound_a2 carry branches (fixture); the new one has nothing
    assert body == {
        "compounds": 3,
        "with_own_branch": 2,
        "with_grid_branch": 0,
        "with_cadre_only": 0,
        "uncovered": 1,
        "rate": pytest.approx(2 / 3, abs=1e-4),
    }


def test_branch_plan_lists_each_compound_with_advice(api, alice, tree):
    add_full_members(alice, tree.compound_a2, 1)  # an own branch with 1 member living there
    add_full_members(alice, tree.compound_a, 4)
    client = api(alice)
    body = client.get(f"/api/v1/units/{tree.street_a.code}/branch-plan").json()
    by_code = {p["code"]: p for p in body["items"]}
    assert set(by_code) == {tree.compound_a.code, tree.compound_a2.code}
    assert by_code[tree.compound_a.code]["advice"] == "own_branch"
    assert by_code[tree.compound_a.code]["matches"] is True
    assert by_code[tree.compound_a2.code]["advice"] == "grid_branch"
    assert by_code[tree.compound_a2.code]["matches"] is False
    only = client.get(
        f"/api/v1/units/{tree.street_a.code}/branch-plan", {"mismatched": "true"}
    ).json()
    assert [p["code"] for p in only["items"]] == [tree.compound_a2.code]


def test_party_orgs_on_a_unit_and_one_org(api, alice, tree):
    client = api(alice)
    body = client.get(f"/api/v1/units/{tree.compound_a.code}/party-orgs").json()
    assert body["count"] == 1
    org = body["items"][0]
    assert org["id"] == tree.org_a.pk
    assert (org["name"], org["kind"], org["kind_label"]) == ("御景华府党支部", "branch", "党支部")
    assert org["unit_code"] == tree.compound_a.code
    detail = client.get(f"/api/v1/party-orgs/{tree.org_a.pk}").json()
    assert detail == org


def test_party_org_of_another_street_is_404(api, alice, tree):
    assert_error(api(alice).get(f"/api/v1/party-orgs/{tree.org_b.pk}"), 404, "not_found")
    assert_error(api(alice).get("/api/v1/party-orgs/99999999"), 404, "not_found")


def test_bob_cannot_read_above_his_community(api, bob, tree):
    assert_error(api(bob).get(f"/api/v1/units/{tree.street_a.code}"), 404)
    assert_error(api(bob).get(f"/api/v1/units/{tree.compound_a2.code}/coverage"), 404)
    assert api(bob).get(f"/api/v1/units/{tree.compound_a.code}/coverage").status_code == 200


# --- query counts ----------------------------------------------------------------------


def _queries(django_assert_max_num_queries, client, url, bound):
    with django_assert_max_num_queries(bound):
        response = client.get(url)
    assert response.status_code == 200
    return response


@pytest.mark.parametrize(
    "path",
    ["children", "party-orgs", "branch-plan", "coverage"],
)
def test_list_queries_do_not_grow_with_the_rows(
    api, alice, tree, path, django_assert_max_num_queries
):
    client = api(alice)
    url = f"/api/v1/units/{tree.community_a.code}/{path}"
    bound = 8
    _queries(django_assert_max_num_queries, client, url, bound)
    made = [
        services.unit_create_child(
            actor=alice, parent=tree.community_a, kind=UnitKind.COMPOUND, name=f"{n}号院"
        )
        for n in range(12)
    ]
    for n, compound in enumerate(made):
        services.party_org_create(
            actor=alice, unit=tree.community_a, kind=OrgKind.BRANCH, name=f"支部{n}"
        )
        services.party_org_create(
            actor=alice,
            unit=tree.community_a,
            kind=OrgKind.GRID_BRANCH,
            name=f"网格{n}",
            covers=[compound],
        )
    response = _queries(django_assert_max_num_queries, client, url, bound)
    body = response.json()
    if "items" in body:
        assert body["count"] >= 12


# --- writing ---------------------------------------------------------------------------


def test_alice_adds_a_compound(api, alice, tree):
    response = api(alice).post(
        f"/api/v1/units/{tree.community_a.code}/children", {"kind": "compound", "name": "阳光小区"}
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["code"] == tree.community_a.code + "002"
    assert body["parent_code"] == tree.community_a.code
    unit = Unit.objects.get(code=body["code"])
    assert AuditEntry.objects.filter(
        action="unit.create", object_id=str(unit.pk), actor=alice
    ).exists()


def test_a_grid_worker_may_not_add_a_building(api, make_user, tree):
    worker = make_user(Role.GRID_WORKER, tree.grid_a)
    response = api(worker).post(
        f"/api/v1/units/{tree.grid_a.code}/children", {"kind": "building", "name": "2号楼"}
    )
    assert_error(response, 403, "forbidden")
    assert not Unit.objects.filter(parent=tree.grid_a, name="2号楼").exists()


def test_charlie_may_not_add_under_alice(api, charlie, tree):
    response = api(charlie).post(
        f"/api/v1/units/{tree.community_a.code}/children", {"kind": "compound", "name": "x"}
    )
    assert_error(response, 404, "not_found")
    assert not Unit.objects.filter(name="x").exists()


def test_bob_sets_up_a_grid_branch_in_his_community(api, bob, tree):
    second = services.unit_create_child(
        actor=bob, parent=tree.community_a, kind=UnitKind.COMPOUND, name="小院"
    )
    response = api(bob).post(
        f"/api/v1/units/{tree.community_a.code}/party-orgs",
        {
            "kind": "grid_branch",
            "name": "恩和路社区第一网格党支部",
            "members_count": 4,
            "covers": [second.code],
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["covers"] == [second.code]
    assert body["term_years"] == 5
    org = PartyOrganization.objects.get(pk=body["id"])
    assert list(org.covers.all()) == [second]


def test_party_org_covers_must_be_visible_compounds(api, alice, tree):
    response = api(alice).post(
        f"/api/v1/units/{tree.street_a.code}/party-orgs",
        {
            "kind": "joint_branch",
            "name": "x",
            "covers": [tree.compound_a.code, tree.compound_b.code],
        },
    )
    body = assert_error(response, 400, "unknown_unit")
    assert body["field"] == "covers"
    assert tree.compound_b.code in body["message"]  # the one not found is named
    assert not PartyOrganization.objects.filter(name="x").exists()


def test_a_resident_may_not_set_up_a_party_org(api, make_user, tree):
    resident = make_user(Role.RESIDENT, tree.compound_a)
    response = api(resident).post(
        f"/api/v1/units/{tree.compound_a.code}/party-orgs", {"kind": "branch", "name": "x"}
    )
    assert_error(response, 403, "forbidden")


def test_charlie_may_not_set_up_a_party_org_under_alice(api, charlie, tree):
    response = api(charlie).post(
        f"/api/v1/units/{tree.compound_a.code}/party-orgs", {"kind": "branch", "name": "x"}
    )
    assert_error(response, 404, "not_found")


def test_alice_assigns_a_cadre(api, alice, tree):
    response = api(alice).post(
        f"/api/v1/units/{tree.compound_a.code}/cadres",
        {"cadre_name": "李四", "cadre_post": "街道党工委委员", "since": "2026-03-01"},
    )
    assert response.status_code == 201, response.content
    assert response.json()["cadre_name"] == "李四"
    assignment = CadreAssignment.objects.get(pk=response.json()["id"])
    assert (assignment.compound, str(assignment.since)) == (tree.compound_a, "2026-03-01")
    again = api(alice).post(f"/api/v1/units/{tree.compound_a.code}/cadres", {"cadre_name": "李四"})
    assert_error(again, 409, "duplicate")


def test_bob_may_not_assign_a_cadre(api, bob, tree):
    response = api(bob).post(f"/api/v1/units/{tree.compound_a.code}/cadres", {"cadre_name": "李四"})
    assert_error(response, 403, "forbidden")
    assert not CadreAssignment.objects.exists()


def test_charlie_may_not_assign_a_cadre_under_alice(api, charlie, tree):
    response = api(charlie).post(
        f"/api/v1/units/{tree.compound_a.code}/cadres", {"cadre_name": "李四"}
    )
    assert_error(response, 404, "not_found")


def test_a_cadre_is_assigned_to_a_compound_only(api, alice, tree):
    response = api(alice).post(
        f"/api/v1/units/{tree.community_a.code}/cadres", {"cadre_name": "李四"}
    )
    assert_error(response, 400, "not_compound")


# --- bad input -------------------------------------------------------------------------


def test_malformed_json_is_400_with_code_and_message(api, alice, tree):
    response = api(alice).post(
        f"/api/v1/units/{tree.community_a.code}/children", raw='{"kind": "compound", '
    )
    assert_error(response, 400, "bad_request")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "compound"}, "name"),
        ({"name": "x"}, "kind"),
        ({"kind": 5, "name": "x"}, "kind"),
        ({"kind": "compound", "name": ["x"]}, "name"),
    ],
)
def test_missing_or_wrong_typed_field_is_422_naming_it(api, alice, tree, body, field):
    response = api(alice).post(f"/api/v1/units/{tree.community_a.code}/children", body)
    answer = assert_error(response, 422, "invalid")
    assert answer["field"] == field
    assert field in answer["message"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "branch", "name": "x", "members_count": -1}, "members_count"),
        ({"kind": "branch", "name": "x", "members_count": "many"}, "members_count"),
        ({"kind": "branch", "name": "x", "term_years": 0}, "term_years"),
        ({"kind": "branch", "name": "x", "covers": "150902001001001"}, "covers"),
    ],
)
def test_party_org_field_errors_name_the_field(api, alice, tree, body, field):
    response = api(alice).post(f"/api/v1/units/{tree.community_a.code}/party-orgs", body)
    assert assert_error(response, 422, "invalid")["field"] == field


def test_cadre_since_must_be_a_date(api, alice, tree):
    response = api(alice).post(
        f"/api/v1/units/{tree.compound_a.code}/cadres", {"cadre_name": "李四", "since": "去年"}
    )
    assert assert_error(response, 422, "invalid")["field"] == "since"


def test_a_cadre_name_longer_than_the_column_is_refused(api, alice, tree):
    limit = CadreAssignment._meta.get_field("cadre_name").max_length
    response = api(alice).post(
        f"/api/v1/units/{tree.compound_a.code}/cadres", {"cadre_name": "张" * (limit + 1)}
    )
    assert 400 <= response.status_code < 500, response.content
    assert response.json()["field"] == "cadre_name"
    assert not CadreAssignment.objects.exists()
    ok = api(alice).post(
        f"/api/v1/units/{tree.compound_a.code}/cadres", {"cadre_name": "张" * limit}
    )
    assert ok.status_code == 201


BAD_BODIES = {
    "children": [
        "",
        "null",
        "[]",
        '"compound"',
        "{}",
        '{"kind": "compound", "name": ""}',
        '{"kind": "compound", "name": "' + "长" * 101 + '"}',
        '{"kind": "grid", "name": "x"}',
        '{"kind": "compound", "name": "x", "code": "12"}',
        '{"kind": "compound", "name": "x", "code": "150902001001\\u0000\\u0000\\u0000"}',
        '{"kind": "compound\\u0000", "name": "x"}',
        '{"kind": "compound", "name": {"a": 1}}',
        b"\xff\xfe{}",  # not UTF-8
    ],
    "party-orgs": [
        "{}",
        '{"kind": "branch", "name": "x", "members_count": 1e30}',
        '{"kind": "branch", "name": "x", "members_count": 100000000000000000000000}',
        '{"kind": "branch", "name": "x", "term_years": 99}',
        '{"kind": "branch", "name": "x", "covers": [1, 2]}',
        '{"kind": "grid_branch", "name": "x", "covers": ["nope"]}',
        '{"kind": "branch", "name": "x", "secretary": 7}',
        '{"kind": "grid_branch", "name": "x", "covers": ["150902001001\\u0000"]}',
    ],
    "cadres": [
        "{}",
        '{"cadre_name": ""}',
        '{"cadre_name": "x", "since": "2026-13-45"}',
        '{"cadre_name": "x", "since": 5}',
    ],
}


@pytest.mark.parametrize(
    ("path", "raw"),
    [(path, raw) for path, bodies in BAD_BODIES.items() for raw in bodies],
    ids=repr,
)
def test_bad_input_is_a_4xx_never_a_500(api, alice, tree, path, raw):
    target = tree.compound_a if path == "cadres" else tree.community_a
    response = api(alice).post(f"/api/v1/units/{target.code}/{path}", raw=raw)
    assert 400 <= response.status_code < 500, (response.status_code, response.content)
    assert {"code", "message"} <= set(response.json())


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("children", {"kind": "compound", "name": "a\x00b"}),
        ("party-orgs", {"kind": "branch", "name": "a\x00b", "secretary": "王\x00"}),
        ("cadres", {"cadre_name": "李\x00四", "cadre_post": "委\x00员"}),
    ],
)
def test_nul_characters_are_refused_before_the_database(api, alice, tree, path, field):
    """PostgreSQL text cannot hold NUL: such input is refused with a 400, never a 500."""
    target = tree.compound_a if path == "cadres" else tree.community_a
    before = Unit.objects.count(), PartyOrganization.objects.count()
    response = api(alice).post(f"/api/v1/units/{target.code}/{path}", field)
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "bad_request"
    assert (Unit.objects.count(), PartyOrganization.objects.count()) == before


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/units/%00",
        "/api/v1/units/1%002/children",
        "/api/v1/units?q=%00",
        "/api/v1/units?q=a%00b",
    ],
)
def test_nul_characters_in_the_url_are_refused(api, alice, tree, url):
    response = api(alice).get(url)
    assert response.status_code == 400, response.content
    assert "message" in response.json()


def test_sessions_need_a_csrf_token_for_writes_but_bearer_tokens_do_not(api, alice, tree):
    from django.test import Client

    browser = Client(enforce_csrf_checks=True)
    browser.force_login(alice)
    url = f"/api/v1/units/{tree.community_a.code}/children"
    body = json.dumps({"kind": "compound", "name": "跨站小区"})
    response = browser.post(url, body, content_type="application/json")
    assert response.status_code == 403
    assert not Unit.objects.filter(name="跨站小区").exists()
    assert api(alice).post(url, {"kind": "compound", "name": "跨站小区"}).status_code == 201
