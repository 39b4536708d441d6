"""The register's pages: list with filters, detail masked, reveal, create and edit forms."""

import pytest
from django.urls import reverse

from hongyan.core.models import AuditEntry
from hongyan.core.roles import Role
from hongyan.members.models import Member

from .conftest import make_id

pytestmark = pytest.mark.django_db


def test_list_shows_scope_and_masks(login, people, bob):
    response = login(bob).get(reverse("members:list"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "梁艳荣" in html and "单雄信" in html and "龙海" not in html
    assert "135****6633" in html
    assert people.liang_mobile not in html and people.liang_id not in html


def test_list_search_by_initials_and_filters(login, people, bob):
    client = login(bob)
    html = client.get(reverse("members:list"), {"q": "lyr"}).content.decode()
    assert "梁艳荣" in html and "单雄信" not in html
    html = client.get(reverse("members:list"), {"specialty": "教育"}).content.decode()
    assert "高娃" in html and "梁艳荣" not in html
    html = client.get(reverse("members:list"), {"q": "没有这个人"}).content.decode()
    assert "没有符合条件的党员" in html
    # htmx asks for the rows only
    rows = client.get(reverse("members:list"), {"q": "lyr"}, headers={"HX-Request": "true"})
    assert "<form" not in rows.content.decode() and "梁艳荣" in rows.content.decode()


def test_list_paginates_with_bounded_queries(
    login, people, bob, tree, django_assert_max_num_queries
):
    from hongyan.members import services

    for i in range(60):
        services.member_create(
            actor=bob, unit=tree.compound_a, name=f"党员{i:02d}", id_number=make_id(seq=300 + 2 * i)
        )
    client = login(bob)
    with django_assert_max_num_queries(14):
        response = client.get(reverse("members:list"))
    assert "下一页" in response.content.decode()
    assert client.get(reverse("members:list"), {"page": 2}).status_code == 200


def test_list_empty_state(login, tree, bob):
    html = login(bob).get(reverse("members:list")).content.decode()
    assert "名册里还没有党员" in html


def test_list_roles(login, people, make_user, tree, charlie):
    member = make_user(Role.PARTY_MEMBER, tree.compound_a)
    assert login(member).get(reverse("members:list")).status_code == 403
    response = login(charlie).get(reverse("members:list"), {"unit": tree.compound_a.code})
    assert response.status_code == 404


def test_detail_masked_and_scoped(login, people, bob, charlie):
    url = reverse("members:detail", args=[people.liang.pk])
    html = login(bob).get(url).content.decode()
    assert people.liang_id[:6] + "********" + people.liang_id[-4:] in html
    assert people.liang_id not in html and people.liang_mobile not in html
    assert "查看完整信息" in html
    assert login(charlie).get(url).status_code == 404


def test_reveal_on_the_page(login, people, bob, stepped_up):
    client = stepped_up(login(bob))
    url = reverse("members:reveal", args=[people.liang.pk])
    assert client.get(url).status_code == 200
    response = client.post(url, {"field": "id_number", "reason": "核对组织关系转接"})
    html = response.content.decode()
    assert people.liang_id in html and "已记入审计日志" in html
    assert response["Cache-Control"] == "no-store"
    assert AuditEntry.objects.filter(action="member.reveal", actor=bob).count() == 1
    # no reason: the error sits next to the field, nothing revealed, nothing audited
    html = client.post(url, {"field": "mobile", "reason": ""}).content.decode()
    assert people.liang_mobile not in html and "invalid-feedback" in html
    assert AuditEntry.objects.filter(action="member.reveal").count() == 1


def test_reveal_wrong_role(login, people, make_user, tree):
    grid_worker = make_user(Role.GRID_WORKER, tree.compound_a)
    client = login(grid_worker)
    assert client.get(reverse("members:detail", args=[people.liang.pk])).status_code == 200
    url = reverse("members:reveal", args=[people.liang.pk])
    assert client.post(url, {"field": "id_number", "reason": "核对组织关系"}).status_code == 403


def form_data(tree, **extra):
    data = {
        "unit": tree.compound_a.code,
        "name": "张学平",
        "id_number": make_id(seq=175),
        "gender": "",
        "ethnicity": "汉族",
        "category": "full",
        "status": "in_service",
        "mobile": "13168202938",
        "joined_on": "2001-07-01",
        "specialties": ["法律", "医疗"],
        "plate": "",
    }
    data.update(extra)
    return data


def test_create_form(login, tree, bob):
    client = login(bob)
    assert client.get(reverse("members:create")).status_code == 200
    response = client.post(reverse("members:create"), form_data(tree))
    member = Member.objects.get(name="张学平")
    assert response.status_code == 302 and response["Location"] == member.get_absolute_url()
    assert member.gender == "male" and member.mobile == "13168202938"
    assert sorted(s.name for s in member.specialties.all()) == ["医疗", "法律"]


def test_create_form_errors_in_chinese_next_to_fields(login, tree, bob):
    response = login(bob).post(
        reverse("members:create"),
        form_data(tree, id_number="150902196605171754", mobile="1234", joined_on="去年"),
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert "校验位" in form.errors["id_number"][0]
    assert "手机号码" in form.errors["mobile"][0]
    assert "有效日期" in form.errors["joined_on"][0]
    assert not Member.objects.filter(name="张学平").exists()


def test_create_outside_scope(login, tree, bob, make_user):
    # a compound of charlie's is not among bob's choices, and posting it anyway is refused
    response = login(bob).post(
        reverse("members:create"), form_data(tree, unit=tree.compound_b.code)
    )
    assert response.status_code == 200 and "unit" in response.context["form"].errors
    grid_worker = make_user(Role.GRID_WORKER, tree.compound_a)
    assert login(grid_worker).get(reverse("members:create")).status_code == 403


def test_edit_form_never_shows_personal_data(login, people, bob, tree):
    client = login(bob)
    url = reverse("members:edit", args=[people.liang.pk])
    html = client.get(url).content.decode()
    assert people.liang_id not in html and people.liang_mobile not in html
    data = form_data(tree, name="梁艳荣", id_number="", mobile="", room="602", gender="")
    response = client.post(url, data)
    assert response.status_code == 302, response.context and response.context["form"].errors
    people.liang.refresh_from_db()
    assert people.liang.room == "602"
    assert people.liang.id_number == people.liang_id  # blank kept the stored values
    assert people.liang.mobile == people.liang_mobile


def test_edit_outsider(login, people, charlie):
    assert login(charlie).get(reverse("members:edit", args=[people.liang.pk])).status_code == 404
