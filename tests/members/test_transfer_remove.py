"""Moving a member's home to another compound, and removing a member from the register
(转出, 去世, other): services, API, pages — scope, roles, input, audit."""

import pytest
from django.urls import reverse

from hongyan.core.models import AuditEntry
from hongyan.core.roles import Role
from hongyan.members import services
from hongyan.members.models import CommunityPost, DualRegistration, Member, MemberSearchKey

pytestmark = pytest.mark.django_db


# --- transfer -------------------------------------------------------------------------------


def test_transfer_moves_home_party_org_and_ends_old_roles(api, people, alice, tree):
    services.post_assign(
        actor=alice, member=people.liang, kind="compound_head", unit=tree.compound_a
    )
    services.dual_register(actor=alice, member=people.liang)
    response = api(alice).post(
        f"/api/v1/members/{people.liang.pk}/transfer",
        {"unit": tree.compound_a2.code, "building": "2号楼", "entrance": "1", "room": "302"},
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["compound_code"] == tree.compound_a2.code and body["room"] == "302"
    assert body["party_org_id"] == tree.org_a2.pk  # the new compound's branch
    assert body["id_number"] != people.liang_id  # still masked
    assert not CommunityPost.objects.filter(member=people.liang).exists()
    # another community: the 双报到 with the old one ends
    assert not DualRegistration.objects.filter(member=people.liang).exists()
    entry = AuditEntry.objects.get(action="member.transfer")
    assert entry.detail["from"]["compound"] == tree.compound_a.code
    assert entry.detail["posts_ended"] == ["compound_head"]
    assert entry.detail["dual_registration_ended"] == tree.community_a.code


def test_transfer_within_the_community_keeps_dual_registration(alice, people, tree):
    from hongyan.orgs import services as org_services
    from hongyan.orgs.models import UnitKind

    neighbour = org_services.unit_create_child(
        actor=alice, parent=tree.community_a, kind=UnitKind.COMPOUND, name="恩和花园"
    )
    services.dual_register(actor=alice, member=people.liang)
    services.member_transfer(actor=alice, member=people.liang, unit=neighbour)
    people.liang.refresh_from_db()
    assert people.liang.compound == neighbour
    assert DualRegistration.objects.filter(member=people.liang).exists()


def test_transfer_scope_roles_and_input(api, people, bob, charlie, tree, make_user):
    url = f"/api/v1/members/{people.liang.pk}/transfer"
    # bob: compound_a2 is outside his community → 404, like charlie's compound
    assert api(bob).post(url, {"unit": tree.compound_a2.code}).status_code == 404
    assert api(bob).post(url, {"unit": tree.compound_b.code}).status_code == 404
    # charlie: bob's member does not exist for him
    response = api(charlie).post(url, {"unit": tree.compound_b.code})
    assert response.status_code == 404
    grid_worker = make_user(Role.GRID_WORKER, tree.community_a)
    assert api(grid_worker).post(url, {"unit": tree.compound_a.code}).status_code == 403
    same = api(bob).post(url, {"unit": tree.compound_a.code})
    assert same.status_code == 400 and same.json()["field"] == "unit"
    long_room = api(bob).post(url, {"unit": tree.building_a.code, "room": "1" * 11})
    assert long_room.status_code == 422 and long_room.json()["field"] == "room"
    missing = api(bob).post(url, {})
    assert missing.status_code == 422 and missing.json()["field"] == "unit"
    not_home = api(bob).post(url, {"unit": tree.community_a.code})
    assert not_home.status_code == 400 and not_home.json()["field"] == "unit"
    people.liang.refresh_from_db()
    assert people.liang.unit == tree.compound_a


def test_transfer_page(login, people, bob, tree):
    from hongyan.orgs import services as org_services
    from hongyan.orgs.models import UnitKind

    neighbour = org_services.unit_create_child(
        actor=bob, parent=tree.community_a, kind=UnitKind.COMPOUND, name="恩和花园"
    )
    client = login(bob)
    url = reverse("members:transfer", args=[people.liang.pk])
    page = client.get(url).content.decode()
    assert "恩和花园" in page and people.liang_id not in page
    bad = client.post(url, {"unit": neighbour.code, "building": "x" * 21})
    assert bad.status_code == 200 and "building" in bad.context["form"].errors
    assert "is-invalid" in bad.content.decode()
    done = client.post(url, {"unit": neighbour.code, "building": "3号楼", "room": "101"})
    assert done.status_code == 302
    people.liang.refresh_from_db()
    assert people.liang.compound == neighbour and people.liang.building == "3号楼"


# --- removal ----------------------------------------------------------------------------------


def test_remove_hides_the_member_everywhere_but_keeps_the_row(api, people, bob, tree):
    services.post_assign(actor=bob, member=people.gao, kind="compound_head", unit=tree.compound_a)
    response = api(bob).post(
        f"/api/v1/members/{people.gao.pk}/remove",
        {"kind": "transferred_out", "reason": "转至呼和浩特市某党支部"},
    )
    assert response.status_code == 200, response.content
    assert response.json()["removed_kind_label"] == "组织关系转出"
    # gone from lists, search, detail, figures and the network
    assert api(bob).get(f"/api/v1/members/{people.gao.pk}").status_code == 404
    names = [m["name"] for m in api(bob).get("/api/v1/members").json()["items"]]
    assert "高娃" not in names and "梁艳荣" in names
    assert api(bob).get("/api/v1/members", {"q": "gw"}).json()["count"] == 0
    network = api(bob).get(f"/api/v1/units/{tree.compound_a.code}/community-posts").json()
    assert network["compound_heads"] == []
    # kept for the audit
    row = Member.records.get(pk=people.gao.pk)
    assert row.removed_reason == "转至呼和浩特市某党支部" and row.removed_by == bob
    assert MemberSearchKey.objects.filter(member=row).exists()
    entry = AuditEntry.objects.get(action="member.remove")
    assert entry.detail["kind"] == "transferred_out" and entry.object_id == str(row.pk)
    # twice: the member is no longer there
    again = api(bob).post(f"/api/v1/members/{people.gao.pk}/remove", {"kind": "deceased"})
    assert again.status_code == 404


def test_removed_id_number_cannot_come_back_unnoticed(api, people, bob, tree):
    from .test_import import check, xlsx_bytes

    services.member_remove(actor=bob, member=people.liang, kind="deceased")
    response = api(bob).post(
        "/api/v1/members",
        {"unit": tree.compound_a.code, "name": "梁艳荣", "id_number": people.liang_id},
    )
    assert response.status_code == 409 and "移出名册" in response.json()["message"]
    headers = ["姓名", "身份证号码", "所在小区"]
    plan = check(xlsx_bytes([["梁艳荣", people.liang_id, "御景华府"]], headers=headers), "x.xlsx")
    assert not plan.ok and "移出名册" in plan.problems[0].message


def test_remove_input_scope_and_roles(api, people, bob, charlie, tree, make_user):
    url = f"/api/v1/members/{people.liang.pk}/remove"
    other = api(bob).post(url, {"kind": "other", "reason": "短"})
    assert other.status_code == 422 and other.json()["field"] == "reason"
    bad_kind = api(bob).post(url, {"kind": "fired"})
    assert bad_kind.status_code == 422 and bad_kind.json()["field"] == "kind"
    assert api(charlie).post(url, {"kind": "deceased"}).status_code == 404
    grid_worker = make_user(Role.GRID_WORKER, tree.community_a)
    assert api(grid_worker).post(url, {"kind": "deceased"}).status_code == 403
    assert Member.objects.filter(pk=people.liang.pk).exists()


def test_remove_page(login, people, bob, tree):
    client = login(bob)
    detail = client.get(reverse("members:detail", args=[people.liang.pk])).content.decode()
    assert reverse("members:remove", args=[people.liang.pk]) in detail
    url = reverse("members:remove", args=[people.liang.pk])
    assert "组织关系转出" in client.get(url).content.decode()
    bad = client.post(url, {"kind": "other", "reason": ""})
    assert bad.status_code == 200 and "至少 4 个字" in bad.content.decode()
    done = client.post(url, {"kind": "deceased", "reason": "2026年11月病故"})
    assert done.status_code == 302
    assert client.get(reverse("members:detail", args=[people.liang.pk])).status_code == 404
    html = client.get(reverse("members:list")).content.decode()
    assert "梁艳荣" not in html and "单雄信" in html


def test_key_rotation_reaches_removed_members(people, bob, settings):
    import base64
    import io

    from django.core.management import call_command

    from hongyan.core import pii

    services.member_remove(actor=bob, member=people.liang, kind="deceased")
    new_key = "k2:" + base64.b64encode(b"n" * 16).decode()
    settings.FIELD_KEYS_RAW = f"{new_key},{settings.FIELD_KEYS_RAW}"
    call_command("rotate_field_keys", stdout=io.StringIO())
    row = Member.records.get(pk=people.liang.pk)
    assert pii.key_id_of(row.id_number_enc) == "k2"
    settings.FIELD_KEYS_RAW = new_key
    assert row.id_number == people.liang_id
