"""The member API: lists, detail, create, update, reveal — scope, roles, masking, audit."""

from datetime import date

import pytest

from hongyan.core.models import AuditEntry
from hongyan.core.roles import Role
from hongyan.members.models import Member

from .conftest import make_id

pytestmark = pytest.mark.django_db


def names(response):
    assert response.status_code == 200, response.content
    return sorted(m["name"] for m in response.json()["items"])


def test_list_envelope_and_scope(api, people, alice, bob, charlie):
    body = api(alice).get("/api/v1/members").json()
    assert set(body) == {"items", "count"}
    assert body["count"] == 3
    assert names(api(bob).get("/api/v1/members")) == ["单雄信", "梁艳荣", "高娃"]
    assert names(api(charlie).get("/api/v1/members")) == ["龙海"]


def test_list_by_unit(api, people, alice, tree):
    assert names(api(alice).get("/api/v1/members", {"unit": tree.building_a.code})) == ["单雄信"]
    assert len(names(api(alice).get("/api/v1/members", {"unit": tree.street_a.code}))) == 3


def test_list_unit_outside_scope_is_404(api, people, bob, charlie, tree):
    response = api(charlie).get("/api/v1/members", {"unit": tree.compound_a.code})
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert api(bob).get("/api/v1/members", {"unit": tree.compound_b.code}).status_code == 404


@pytest.mark.parametrize(
    "q, expected",
    [
        ("lyr", ["梁艳荣"]),
        ("LY", ["梁艳荣"]),
        ("liangyan", ["梁艳荣"]),
        ("sxx", ["单雄信"]),  # 单 as a surname: shan
        ("dxx", ["单雄信"]),  # and its other readings
        ("shan", ["单雄信"]),
        ("梁", ["梁艳荣"]),
        ("艳荣", ["梁艳荣"]),
        ("教育", ["高娃"]),  # a specialty
        ("13588220482", ["单雄信"]),  # a full mobile, by blind index
        ("zzz", []),
    ],
)
def test_search(api, people, bob, q, expected):
    assert names(api(bob).get("/api/v1/members", {"q": q})) == expected


def test_search_by_full_id_number(api, people, bob, charlie):
    spaced = " ".join([people.liang_id[:6], people.liang_id[6:14], people.liang_id[14:]])
    assert names(api(bob).get("/api/v1/members", {"q": spaced})) == ["梁艳荣"]
    # charlie's search never finds bob's member, even by the exact number
    assert names(api(charlie).get("/api/v1/members", {"q": people.liang_id})) == []


def test_filters(api, people, bob, tree):
    client = api(bob)
    assert names(client.get("/api/v1/members", {"specialty": "书法"})) == ["梁艳荣"]
    assert names(client.get("/api/v1/members", {"status": "retired"})) == ["单雄信"]
    assert names(client.get("/api/v1/members", {"category": "probationary"})) == ["高娃"]
    assert names(client.get("/api/v1/members", {"plate": "pioneer"})) == ["梁艳荣"]
    everyone = client.get("/api/v1/members", {"compound": tree.compound_a.code})
    assert len(names(everyone)) == 3


def test_list_query_count_does_not_grow(api, people, bob, tree, django_assert_max_num_queries):
    client = api(bob)
    for i in range(15):
        client.post(
            "/api/v1/members",
            {
                "unit": tree.compound_a.code,
                "name": f"测试{i}",
                "id_number": make_id(seq=200 + i * 2),
                "specialties": ["法律"],
            },
        )
    with django_assert_max_num_queries(8):
        response = client.get("/api/v1/members", {"limit": 50})
    assert response.json()["count"] == 18


def test_masked_everywhere(api, people, bob):
    client = api(bob)
    listed = client.get("/api/v1/members").content.decode()
    detail = client.get(f"/api/v1/members/{people.liang.pk}").content.decode()
    for body in (listed, detail):
        assert people.liang_id not in body
        assert people.liang_mobile not in body
    row = client.get(f"/api/v1/members/{people.liang.pk}").json()
    assert row["id_number"] == people.liang_id[:6] + "********" + people.liang_id[-4:]
    assert row["mobile"] == "135****6633"
    assert row["specialties"] == ["文艺", "书法"]
    assert row["plate_label"] == "党员先锋户"
    assert row["birth_date"] == "1962-03-10"  # the day comes from the ID number


def test_detail_scope(api, people, bob, charlie):
    assert api(bob).get(f"/api/v1/members/{people.liang.pk}").status_code == 200
    response = api(charlie).get(f"/api/v1/members/{people.liang.pk}")
    assert response.status_code == 404 and response.json()["message"]
    assert api(bob).get("/api/v1/members/999999").status_code == 404


def test_roles_without_the_register(api, people, make_user, tree):
    member = make_user(Role.PARTY_MEMBER, tree.compound_a)
    assert api(member).get("/api/v1/members").status_code == 403
    assert api(member).get(f"/api/v1/members/{people.liang.pk}").status_code == 403
    assert api(None).get("/api/v1/members").status_code == 401


def test_create(api, bob, tree, people):
    number = make_id(born=date(1990, 1, 13), seq=136)
    response = api(bob).post(
        "/api/v1/members",
        {
            "unit": tree.building_a.code,
            "name": "乌云其其格",
            "id_number": number,
            "mobile": "１３８２２６３３９２０",
            "ethnicity": "蒙古族",
            "education": "研究生",
            "joined_on": "2015/7/1",
            "entrance": "1",
            "room": "404",
            "specialties": ["法律"],
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["gender"] == "female" and body["building"] == "1号楼"
    assert body["compound_code"] == tree.compound_a.code
    assert body["party_org_id"] == tree.org_a.pk  # the compound's own branch
    assert body["mobile"] == "138****3920"
    member = Member.objects.get(pk=body["id"])
    assert member.id_number == number and member.mobile == "13822633920"
    assert number not in member.id_number_enc
    entry = AuditEntry.objects.filter(action="member.create").last()
    assert entry.object_id == str(member.pk) and entry.actor == bob
    assert number not in str(entry.detail)
    assert api(bob).get("/api/v1/members", {"q": "wyqqg"}).json()["count"] == 1


@pytest.mark.parametrize(
    "change, field",
    [
        ({"id_number": "150902196203101008"}, "id_number"),  # wrong check digit
        ({"id_number": "150902199002301234"}, "id_number"),  # 30 February
        ({"mobile": "12345678901"}, "mobile"),
        ({"name": "  "}, "name"),
        ({"gender": "男"}, "gender"),  # the ID number says female
        ({"ethnicity": "火星族"}, "ethnicity"),
        ({"joined_on": "明年"}, "joined_on"),
        ({"specialties": ["不存在的特长"]}, "specialties"),
        ({"unit": "150902002001"}, "unit"),  # charlie's community: not bob's
        ({"unit": "150902001001"}, "unit"),  # a community: not a home
    ],
)
def test_create_refuses_bad_input_naming_the_field(api, bob, tree, change, field):
    payload = {"unit": tree.compound_a.code, "name": "张三", "id_number": make_id(seq=102)}
    payload.update(change)
    response = api(bob).post("/api/v1/members", payload)
    assert 400 <= response.status_code < 500, response.content
    body = response.json()
    assert body["field"] == field, body
    assert body["message"]
    assert not Member.objects.filter(name="张三").exists()


def test_create_duplicate_id_is_409(api, bob, tree, people):
    response = api(bob).post(
        "/api/v1/members",
        {"unit": tree.compound_a.code, "name": "重复", "id_number": people.liang_id},
    )
    assert response.status_code == 409
    assert response.json()["code"] == "duplicate_id"


def test_malformed_json_is_400(api, bob):
    response = api(bob).post("/api/v1/members", raw="{not json")
    assert response.status_code == 400


def test_grid_worker_may_view_but_not_edit(api, people, make_user, tree):
    grid_worker = make_user(Role.GRID_WORKER, tree.compound_a)
    client = api(grid_worker)
    assert client.get(f"/api/v1/members/{people.liang.pk}").status_code == 200
    response = client.client.patch(
        f"/api/v1/members/{people.liang.pk}", {"room": "102"}, content_type="application/json"
    )
    assert response.status_code == 403
    response = client.post(
        "/api/v1/members",
        {"unit": tree.compound_a.code, "name": "李四", "id_number": make_id(seq=103)},
    )
    assert response.status_code == 422 and response.json()["field"] == "unit"


def test_patch(api, people, bob, tree):
    client = api(bob).client
    url = f"/api/v1/members/{people.liang.pk}"
    response = client.patch(
        url,
        {"room": "102", "mobile": None, "specialties": ["医疗"]},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["room"] == "102" and body["mobile"] == "" and body["specialties"] == ["医疗"]
    assert body["name"] == "梁艳荣"  # untouched
    entry = AuditEntry.objects.filter(action="member.update").last()
    assert set(entry.detail["fields"]) == {"room", "mobile", "specialties"}
    response = client.patch(url, {"name": "梁艳蓉"}, content_type="application/json")
    assert response.json()["name"] == "梁艳蓉"
    bad = client.patch(url, {"id_number": "123"}, content_type="application/json")
    assert bad.status_code == 422 and bad.json()["field"] == "id_number"
    moved = client.patch(url, {"unit": tree.building_a.code}, content_type="application/json")
    assert moved.json()["unit_code"] == tree.building_a.code


def test_patch_outsider(api, people, charlie, bob, tree):
    url = f"/api/v1/members/{people.liang.pk}"
    response = api(charlie).client.patch(url, {"room": "1"}, content_type="application/json")
    assert response.status_code == 404
    # nor can bob move his member into charlie's compound
    response = api(bob).client.patch(
        url, {"unit": tree.compound_b.code}, content_type="application/json"
    )
    assert response.status_code == 422 and response.json()["field"] == "unit"


def test_reveal(api, people, bob, stepped_up):
    url = f"/api/v1/members/{people.liang.pk}/reveal"
    client = stepped_up(api(bob))
    response = client.post(url, {"field": "id_number", "reason": "核对组织关系转接材料"})
    assert response.status_code == 200
    assert response.json() == {"field": "id_number", "value": people.liang_id}
    entry = AuditEntry.objects.filter(action="member.reveal").last()
    assert entry.actor == bob and entry.object_id == str(people.liang.pk)
    assert entry.detail == {"field": "id_number", "reason": "核对组织关系转接材料"}
    assert client.post(url, {"field": "mobile", "reason": "电话通知开会"}).json()["value"] == (
        people.liang_mobile
    )


def test_reveal_needs_a_reason_and_a_known_field(api, people, bob, stepped_up):
    url = f"/api/v1/members/{people.liang.pk}/reveal"
    before = AuditEntry.objects.filter(action="member.reveal").count()
    client = stepped_up(api(bob))
    response = client.post(url, {"field": "id_number", "reason": " "})
    assert response.status_code == 400 and response.json()["field"] == "reason"
    response = client.post(url, {"field": "name", "reason": "核对组织关系"})
    assert response.status_code == 422
    assert AuditEntry.objects.filter(action="member.reveal").count() == before


def test_reveal_wrong_role_and_outsider(api, people, make_user, tree, charlie):
    url = f"/api/v1/members/{people.liang.pk}/reveal"
    grid_worker = make_user(Role.GRID_WORKER, tree.compound_a)
    response = api(grid_worker).post(url, {"field": "id_number", "reason": "核对组织关系"})
    assert response.status_code == 403
    response = api(charlie).post(url, {"field": "id_number", "reason": "核对组织关系"})
    assert response.status_code == 404
    assert not AuditEntry.objects.filter(action="member.reveal").exists()


def test_a_building_head_sees_only_their_building(api, people, make_user, tree):
    head = make_user(Role.BUILDING_HEAD, tree.building_a)
    assert names(api(head).get("/api/v1/members")) == ["单雄信"]
    assert api(head).get(f"/api/v1/members/{people.liang.pk}").status_code == 404
    reveal = api(head).post(
        f"/api/v1/members/{people.shan.pk}/reveal", {"field": "mobile", "reason": "通知开会事宜"}
    )
    assert reveal.status_code == 403
