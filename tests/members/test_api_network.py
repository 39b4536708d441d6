"""The API of 三户四长 (community posts) and of 双报到 pairings: scope, roles, input, audit."""

import pytest

from hongyan.core.models import AuditEntry
from hongyan.core.roles import Role
from hongyan.members.models import CommunityPost, WorkUnitPairing

pytestmark = pytest.mark.django_db


def posts_url(unit):
    return f"/api/v1/units/{unit.code}/community-posts"


BUILDING_HEAD = {
    "kind": "building_head",
    "building": "1号楼",
    "elected_on": "2026-03-01",
    "votes_cast": 20,
    "votes_for": 15,
}


def test_assign_a_building_head_and_read_the_network(api, people, bob, tree):
    response = api(bob).post(
        posts_url(tree.compound_a),
        {**BUILDING_HEAD, "member_id": people.shan.pk, "unit": tree.building_a.code},
    )
    assert response.status_code == 201, response.content
    post = response.json()
    assert post["kind_label"] == "楼栋长" and post["member_name"] == "单雄信"
    assert post["unit_code"] == tree.building_a.code and post["votes_for"] == 15
    assert AuditEntry.objects.filter(action="member.post_assign").count() == 1

    head = api(bob).post(
        posts_url(tree.compound_a), {"kind": "compound_head", "member_id": people.liang.pk}
    )
    assert head.status_code == 201 and head.json()["unit_code"] == tree.compound_a.code

    network = api(bob).get(posts_url(tree.compound_a))
    assert network.status_code == 200
    body = network.json()
    assert [p["member_name"] for p in body["compound_heads"]] == ["梁艳荣"]
    row = next(r for r in body["rows"] if r["building"] == "1号楼")
    assert row["building_head"]["member_name"] == "单雄信"
    residents = [m["name"] for h in row["households"] for m in h["members"]]
    assert "单雄信" in residents
    assert body["households"] >= 2 and body["plates"] == 1
    assert "id_number" not in network.content.decode()


def test_building_head_needs_a_majority(api, people, bob, tree):
    response = api(bob).post(
        posts_url(tree.compound_a),
        {**BUILDING_HEAD, "member_id": people.shan.pk, "votes_for": 10},
    )
    assert response.status_code == 400
    assert response.json()["field"] == "votes_for" and "一半" in response.json()["message"]
    assert not CommunityPost.objects.exists()


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"kind": "mayor"}, "kind"),
        ({"kind": "compound_head", "member_id": "x"}, "member_id"),
        ({"kind": "building_head", "votes_cast": -1}, "votes_cast"),
        ({"kind": "compound_head", "unit": "150902002001"}, "unit"),  # not in this compound
        ({"kind": "grid_head"}, "unit"),  # a grid head heads a grid
    ],
)
def test_bad_post_input_names_the_field(api, people, bob, tree, payload, field):
    body = {"member_id": people.liang.pk, **payload}
    response = api(bob).post(posts_url(tree.compound_a), body)
    assert 400 <= response.status_code < 500, response.content
    assert response.json()["field"] == field


def test_network_of_a_community_is_refused_by_name(api, people, bob, tree):
    response = api(bob).get(posts_url(tree.community_a))
    assert response.status_code == 422 and response.json()["field"] == "code"


def test_posts_scope_and_roles(api, people, bob, charlie, tree, make_user):
    # charlie: bob's compound does not exist for him; nor does bob's member in his own
    assert api(charlie).get(posts_url(tree.compound_a)).status_code == 404
    assert (
        api(charlie)
        .post(posts_url(tree.compound_a), {"kind": "compound_head", "member_id": people.liang.pk})
        .status_code
        == 404
    )
    response = api(charlie).post(
        posts_url(tree.compound_b), {"kind": "compound_head", "member_id": people.liang.pk}
    )
    assert response.status_code == 404
    # a grid worker may look but not appoint
    grid_worker = make_user(Role.GRID_WORKER, tree.compound_a)
    assert api(grid_worker).get(posts_url(tree.compound_a)).status_code == 200
    response = api(grid_worker).post(
        posts_url(tree.compound_a), {"kind": "compound_head", "member_id": people.liang.pk}
    )
    assert response.status_code == 403
    resident = make_user(Role.RESIDENT, tree.compound_a)
    assert api(resident).get(posts_url(tree.compound_a)).status_code == 403
    assert not CommunityPost.objects.exists()


def test_a_member_heads_only_where_they_live(api, people, alice, tree):
    response = api(alice).post(
        posts_url(tree.compound_a2), {"kind": "compound_head", "member_id": people.liang.pk}
    )
    assert response.status_code == 400 and response.json()["field"] == "member"


# --- pairings ---------------------------------------------------------------------------------

PAIRING = {
    "work_unit": "集宁区第一中学",
    "party_org_name": "集宁区第一中学党总支",
    "agreement": "共驻共建协议",
    "signed_on": "2026-03-05",
    "contact": "王老师",
    "services": "课业辅导、义诊",
}


def test_pairing_create_and_list(api, people, bob, alice, charlie, tree):
    response = api(bob).post("/api/v1/pairings", {**PAIRING, "community": tree.community_a.code})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["community_code"] == tree.community_a.code and body["members"] == 0
    assert AuditEntry.objects.filter(action="dual.pairing_create").count() == 1
    again = api(bob).post("/api/v1/pairings", {**PAIRING, "community": tree.community_a.code})
    assert again.status_code == 409 and again.json()["field"] == "work_unit"

    listed = api(alice).get("/api/v1/pairings", {"unit": tree.street_a.code}).json()
    assert listed["count"] == 1 and listed["items"][0]["work_unit"] == "集宁区第一中学"
    assert api(charlie).get("/api/v1/pairings").json()["count"] == 0
    assert api(charlie).get("/api/v1/pairings", {"unit": tree.street_a.code}).status_code == 404


def test_pairing_scope_roles_and_input(api, bob, charlie, tree, make_user):
    outsider = api(charlie).post(
        "/api/v1/pairings", {**PAIRING, "community": tree.community_a.code}
    )
    assert outsider.status_code == 404
    grid_worker = make_user(Role.GRID_WORKER, tree.community_a)
    refused = api(grid_worker).post(
        "/api/v1/pairings", {**PAIRING, "community": tree.community_a.code}
    )
    assert refused.status_code == 403
    resident = make_user(Role.RESIDENT, tree.compound_a)
    assert api(resident).get("/api/v1/pairings").status_code == 403
    bad_date = api(bob).post(
        "/api/v1/pairings", {**PAIRING, "community": tree.community_a.code, "signed_on": "去年"}
    )
    assert bad_date.status_code == 422 and bad_date.json()["field"] == "signed_on"
    blank = api(bob).post(
        "/api/v1/pairings", {**PAIRING, "community": tree.community_a.code, "work_unit": " "}
    )
    assert blank.status_code == 400 and blank.json()["field"] == "work_unit"
    not_community = api(bob).post(
        "/api/v1/pairings", {**PAIRING, "community": tree.compound_a.code}
    )
    assert not_community.status_code == 400 and not_community.json()["field"] == "community"
    assert not WorkUnitPairing.objects.exists()
